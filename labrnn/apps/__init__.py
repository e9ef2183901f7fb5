"""Training scripts of the application chapters (Part V), each with a command line.

``python -m labrnn.apps.<name> train ...`` trains a model, shows a progress bar, writes a
JSON log and a checkpoint (:mod:`labrnn.training.checkpoint`) under ``checkpoints/<name>/``.
"""
