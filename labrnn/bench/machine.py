"""What the results were measured on: machine, library versions, BLAS and threads."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

__all__ = ["machine_info", "library_versions", "blas_info", "torch_info"]

_LIBRARIES = ("labrnn", "numpy", "array-api-compat", "numba", "torch", "tqdm", "threadpoolctl")


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def machine_info():
    """CPU model, core counts, memory, load average, OS and Python (a JSON-ready dict)."""
    from .timing import all_cores
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or None)
    mem = next((int(line.split()[1]) * 1024 for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), None)
    flags = next((line.split(":", 1)[1].split() for line in _read("/proc/cpuinfo").splitlines()
                  if line.startswith("flags")), [])
    try:
        load = list(os.getloadavg())
    except (AttributeError, OSError):
        load = None
    return {"cpu": cpu, "machine": platform.machine(), "logical_cores": os.cpu_count(),
            "usable_cores": all_cores(), "memory_bytes": mem,
            "simd": sorted(f for f in flags if f in ("sse3", "avx", "avx2", "fma", "avx512f")),
            "load_average": load, "os": platform.platform(), "python": sys.version.split()[0],
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}


def library_versions():
    """Installed versions of labrnn, NumPy, array-api-compat, PyTorch, ... (None if absent)."""
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def blas_info():
    """NumPy's BLAS build configuration and, with threadpoolctl, the loaded BLAS/OpenMP libraries.

    Call it in the process whose BLAS is meant: the thread counts reported by
    threadpoolctl are that process's.
    """
    import numpy as np
    info = {}
    try:
        cfg = np.show_config(mode="dicts")
        deps = cfg.get("Build Dependencies", {})
        info["numpy_build"] = {k: {kk: deps[k].get(kk) for kk in ("name", "version",
                                                                  "openblas configuration")}
                               for k in ("blas", "lapack") if k in deps}
    except (TypeError, ValueError, AttributeError):          # older NumPy
        info["numpy_build"] = None
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: d.get(k) for k in ("user_api", "internal_api", "prefix",
                                                      "version", "num_threads", "architecture")}
                               for d in threadpool_info()]
    except ImportError:
        info["threadpools"] = None
    return info


def torch_info():
    """PyTorch's version, intra-op and inter-op threads and its build configuration (one string)."""
    import torch
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
            "config": torch.__config__.show()}
