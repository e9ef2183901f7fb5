"""Training scripts of the application chapters, each with a command-line interface.

Run one as ``python -m labrnn.apps.<name> train ...`` (``--help`` lists the options).
"""
