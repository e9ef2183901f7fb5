"""Timing: pinned threads, calibrated rounds of calls, per-call statistics, the GEMM peak.

* :func:`thread_env` sets ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``,
  ``MKL_NUM_THREADS`` (and the Accelerate / numexpr equivalents) for a worker
  process; they must be set before NumPy or PyTorch is imported, which is why
  every implementation runs in a process of its own.
* :func:`calibrate` picks how many calls make one round last about
  ``min_round_s``; :func:`time_calls` times each call with
  :func:`time.perf_counter`.
* :func:`summarize` turns per-call times into the reported figures: median and
  minimum seconds per call, microseconds per time step, GFLOP/s and the fraction
  of the measured GEMM peak.
* :func:`gemm_peak`: the best GFLOP/s of ``numpy.matmul`` on two ``n x n``
  matrices of the run's dtype, in the same process and so with the same threads
  and BLAS as the implementation it normalises.
"""

from __future__ import annotations

import math
import os
import statistics
import time

__all__ = ["THREAD_VARS", "thread_env", "calibrate", "time_calls", "summarize", "gemm_peak",
           "all_cores"]

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def all_cores():
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def thread_env(threads, base=None):
    """A copy of ``base`` (default ``os.environ``) with every BLAS/OpenMP thread count set to ``threads``."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, received {threads!r}")
    env = dict(os.environ if base is None else base)
    env.update({k: str(threads) for k in THREAD_VARS})
    return env


def time_calls(fn, n):
    """Seconds taken by each of ``n`` calls of ``fn()`` (a list of floats)."""
    times = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return times


def calibrate(fn, min_round_s, max_calls=100_000):
    """Calls per round so that a round lasts at least ``min_round_s`` (after one warm-up call)."""
    fn()                                   # warm-up: first-touch allocations, lazy imports
    once = min(time_calls(fn, 2))
    if once <= 0:
        return max_calls
    return max(1, min(max_calls, math.ceil(min_round_s / once)))


def summarize(times, flops, T, peak_gflops=None):
    """Figures of one implementation on one case from its per-call ``times`` (seconds).

    ``median_s``, ``min_s`` (per call), ``us_per_step`` and ``us_per_step_min``
    (per time step: the call's time over ``T``), ``gflops`` (``flops`` over the
    median time) and ``gflops_best`` (over the minimum), ``peak_fraction`` (``gflops``
    over ``peak_gflops``; None without a peak) and ``calls`` (how many were timed).
    """
    if not times:
        raise ValueError("times is empty: nothing was timed")
    med, best = statistics.median(times), min(times)
    g = flops / med / 1e9
    return {"calls": len(times), "median_s": med, "min_s": best,
            "us_per_step": med / T * 1e6, "us_per_step_min": best / T * 1e6,
            "gflops": g, "gflops_best": flops / best / 1e9,
            "peak_fraction": g / peak_gflops if peak_gflops else None}


def gemm_peak(n=2048, dtype="float32", reps=5, seed=0):
    """Best GFLOP/s of ``numpy.matmul`` on ``(n, n) @ (n, n)`` in ``dtype`` (``2 n^3`` FLOPs a product)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=out)               # warm-up
    best = min(time_calls(lambda: np.matmul(a, b, out=out), reps))
    return 2.0 * n ** 3 / best / 1e9
