"""Training scripts of the application chapters: ``python -m labrnn.apps.<name> train ...``."""
