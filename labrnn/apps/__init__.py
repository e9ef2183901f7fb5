"""Training scripts of the application chapters, one module each, with a command line.

``python -m labrnn.apps.<name> train [--steps N] [--seed S] [--out DIR]`` trains
the chapter's model (a ``tqdm`` progress bar on the terminal), writes its
checkpoint (:mod:`labrnn.checkpoint`) and a JSON log of the training curve
under ``checkpoints/<name>/`` in the repository, and prints the test metric.
``python -m labrnn.apps.<name> evaluate`` recomputes that metric from the
committed checkpoint. The book loads the checkpoints; it never trains them.
"""
