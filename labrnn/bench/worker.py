"""A worker process: one implementation, pinned threads, commands as JSON lines.

Started by :mod:`labrnn.bench.runner` as
``python -m labrnn.bench.worker IMPL THREADS DTYPE PEAK_N`` with the thread
variables of :func:`labrnn.bench.timing.thread_env` already in its environment
(PyTorch also gets ``torch.set_num_threads(THREADS)`` and one inter-op thread).
It reads one JSON object per line on stdin and answers one per line on stdout:

* ``{"op": "info"}`` -> versions, BLAS and thread pools as this process sees them,
  and ``gemm_peak_gflops`` (:func:`labrnn.bench.timing.gemm_peak` at ``PEAK_N``);
* ``{"op": "setup", "case": {...}, "min_round_s": s}`` -> builds the case's
  workload in ``DTYPE``, warms it up, returns ``{"n": calls per round}``;
* ``{"op": "time", "n": n}`` -> ``{"times": [seconds of each of n calls]}``;
* ``{"op": "peak"}`` -> ``{"gemm_peak_gflops": ...}`` measured again (the runner asks
  at the end and keeps the larger: a peak measured while the machine was busy is low);
* ``{"op": "quit"}`` ends it. An exception answers ``{"error": traceback}``.

Anything a library prints goes to stderr, never into the protocol.
"""

from __future__ import annotations

import json
import sys
import traceback

__all__ = ["IMPLEMENTATIONS", "implementation", "main"]

IMPLEMENTATIONS = ("labrnn", "torch", "numpy")


def implementation(name):
    """The implementation module called ``name`` (``"labrnn"``, ``"torch"`` or ``"numpy"``)."""
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {list(IMPLEMENTATIONS)}, received {name!r}")
    from importlib import import_module
    return import_module(f"labrnn.bench.impl_{name}")


def main(argv=None):
    """Serve commands until ``quit`` or the end of stdin (see the module docstring)."""
    name, threads, dtype, peak_n = (sys.argv[1:] if argv is None else argv)
    threads, peak_n = int(threads), int(peak_n)
    proto, sys.stdout = sys.stdout, sys.stderr
    import numpy  # noqa: F401  (BLAS loads here, under the pinned environment)
    if name == "torch":
        import torch
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:        # already set: only possible before any parallel work
            pass
    if name == "labrnn":
        import os
        from ..fast import set_fast_paths
        set_fast_paths(os.environ.get("LABRNN_FAST_PATHS", "auto"))
    from .cases import Case, make_inputs
    from .timing import calibrate, gemm_peak, time_calls
    impl = implementation(name)
    workload = None
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            op = msg["op"]
            if op == "quit":
                break
            if op == "info":
                reply = _info(name, threads, dtype, peak_n, gemm_peak)
            elif op == "setup":
                case = Case.from_dict(msg["case"])
                workload = impl.build(case, make_inputs(case, dtype))
                reply = {"n": calibrate(workload.run, float(msg["min_round_s"]))}
            elif op == "peak":
                reply = {"gemm_peak_gflops": gemm_peak(peak_n, dtype)}
            elif op == "time":
                reply = {"times": time_calls(workload.run, int(msg["n"]))}
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception:           # report it to the runner, which stops the suite loudly
            reply = {"error": traceback.format_exc()}
        proto.write(json.dumps(reply) + "\n")
        proto.flush()
    return 0


def _info(name, threads, dtype, peak_n, gemm_peak):
    import os
    from .machine import blas_info, library_versions
    from .timing import THREAD_VARS
    peak = gemm_peak(peak_n, dtype)
    info = {"impl": name, "pid": os.getpid(), "threads": threads, "dtype": dtype,
            "env": {k: os.environ.get(k) for k in THREAD_VARS},
            "gemm_peak_n": peak_n, "gemm_peak_gflops": peak,
            "versions": library_versions(), "blas": blas_info()}
    if name == "labrnn":
        from .. import fast
        info["fast_paths"] = {"mode": fast.get_fast_paths(), "numba": fast.HAVE_NUMBA,
                              "small": fast.SMALL}
    if name == "torch":
        import time
        import torch
        from .machine import torch_info
        info["torch"] = torch_info()
        a = torch.randn(peak_n, peak_n, dtype=getattr(torch, dtype))
        torch.mm(a, a)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            torch.mm(a, a)
            best = min(best, time.perf_counter() - t0)
        info["torch_mm_peak_gflops"] = 2.0 * peak_n ** 3 / best / 1e9
    return info


if __name__ == "__main__":
    sys.exit(main())
