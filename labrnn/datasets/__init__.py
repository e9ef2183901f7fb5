"""Real data sets for the application chapters, read from files that ship with the project.

Each data set has one module here with its loader. The files live in the top-level
``data/`` folder of the repository (next to ``labrnn/``), each with its source and
licence beside it; nothing is ever downloaded. Set the environment variable
``LABRNN_DATA`` to read them from another folder.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "data_file"]


def data_dir() -> Path:
    """The folder holding the data sets: ``$LABRNN_DATA`` or ``<repository>/data``."""
    env = os.environ.get("LABRNN_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def data_file(*parts) -> Path:
    """Path of a file under :func:`data_dir`; ``FileNotFoundError`` naming it if absent."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"data file {path} not found. The data sets ship with the repository in "
            f"data/ (see its README); run from a clone of the project, or set LABRNN_DATA "
            f"to the folder that holds them.")
    return path
