"""Training scripts of the application chapters, one module each, run as ``python -m labrnn.apps.<name> train ...``.

Each script has a command-line interface, shows a progress bar, writes a JSON
log of its loss and validation curves and a checkpoint
(:mod:`labrnn.checkpoint`) under ``checkpoints/<name>/``.
"""
