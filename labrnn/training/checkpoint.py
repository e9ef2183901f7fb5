"""Checkpoints of trained models: arrays in ``.npz``, everything else in ``.json``.

The application chapters (Part V) train with committed scripts and load the result in
the book. A checkpoint named ``path`` is two files:

* ``path.npz`` -- the parameters, one named array each (no pickle: ``allow_pickle``
  stays off when reading);
* ``path.json`` -- the configuration, the metrics, the checksum of each data file the
  run read, the library versions and the wall time, readable by a person.

::

    save_checkpoint("checkpoints/charlm/lstm", params, config={"H": 256},
                    metrics={"test_nats": 1.61}, data_files=[text_path], wall_time_s=900)
    params, meta = load_checkpoint("checkpoints/charlm/lstm")
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np

from ..backend import to_numpy

__all__ = ["save_checkpoint", "load_checkpoint", "file_sha256", "library_versions"]


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, as hex (the data checksum a checkpoint records)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file_sha256: no file at {path}")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def library_versions() -> dict:
    """Python, NumPy and labrnn versions, and the machine, for a checkpoint's record."""
    from .. import __version__
    return {"python": sys.version.split()[0], "numpy": np.__version__,
            "labrnn": __version__, "machine": platform.machine()}


def _paths(path):
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


def save_checkpoint(path, params, *, config=None, metrics=None, data_files=(),
                    wall_time_s=None, extra=None):
    """Write ``path.npz`` (the arrays of ``params``) and ``path.json`` (the record).

    ``params`` is a dict of named arrays on any backend (moved to the host).
    ``config`` and ``metrics`` must be JSON-serialisable dicts; ``data_files`` are
    paths whose SHA-256 is recorded under ``data`` (by file name). Returns the two paths.
    """
    if not isinstance(params, dict) or not params:
        raise TypeError(f"params must be a non-empty dict of named arrays, received "
                        f"{type(params).__name__}")
    npz, meta_path = _paths(path)
    npz.parent.mkdir(parents=True, exist_ok=True)
    arrays = {str(k): to_numpy(v) for k, v in params.items()}
    np.savez(npz, **arrays)
    meta = {
        "config": dict(config or {}),
        "metrics": dict(metrics or {}),
        "data": {Path(f).name: file_sha256(f) for f in data_files},
        "versions": library_versions(),
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 1),
        "arrays": {k: list(a.shape) for k, a in arrays.items()},
    }
    if extra:
        meta.update(extra)
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return npz, meta_path


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`: ``(params, meta)``.

    ``params`` maps each name to a host NumPy array (move it with
    :func:`labrnn.from_numpy`); ``meta`` is the JSON record. A missing file raises
    ``FileNotFoundError`` naming it.
    """
    npz, meta_path = _paths(path)
    for f in (npz, meta_path):
        if not f.is_file():
            raise FileNotFoundError(f"load_checkpoint: missing {f} (a checkpoint is a "
                                    f".npz and a .json file with the same name)")
    with np.load(npz, allow_pickle=False) as z:
        params = {k: z[k] for k in z.files}
    meta = json.loads(meta_path.read_text())
    return params, meta
