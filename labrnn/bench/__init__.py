"""The benchmark suite: labrnn against PyTorch (and against plain NumPy), timed honestly.

Run it with ``python -m labrnn.bench`` (or ``make bench``)::

    python -m labrnn.bench --preset targets --compare            # the issue's targets, one thread
    python -m labrnn.bench --preset targets --threads 1,all --compare
    python -m labrnn.bench --preset grid --out grid.json         # the whole grid (hours)
    python -m labrnn.bench --from bench-targets.json             # re-print a saved table

What it does (:mod:`labrnn.bench.runner`): checks in float64 that labrnn and
every other implementation of each case compute the same outputs and gradients
(:mod:`labrnn.bench.check`, relative error <= 1e-8), then times every case in
one worker process per implementation with the BLAS/OpenMP threads pinned
(:mod:`labrnn.bench.worker`, :mod:`labrnn.bench.timing`), in rounds that
alternate between the implementations, and reports median and minimum per call,
microseconds per time step, GFLOP/s of the matrix products
(:mod:`labrnn.bench.flops` documents the count) and that as a fraction of a
float32 (or float64) ``numpy.matmul`` peak measured in the same process.
PyTorch is optional (``pip install -e '.[bench]'``); without it labrnn is timed
alone. The labrnn cells are called through one adapter,
:mod:`labrnn.bench.adapter`.

JSON report (schema ``"labrnn-bench/1"``), top-level keys:

``schema``, ``created`` (UTC), ``command`` (argv), ``preset``, ``dtype``, ``threads`` (list)
    what was run;
``settings``
    ``rounds``, ``min_round_s`` (each round lasts at least this long), ``peak_n``
    (the GEMM size of the peak), ``memory`` (the sizes of the memory measurement);
``machine``
    ``cpu``, ``machine``, ``logical_cores``, ``usable_cores``, ``memory_bytes``,
    ``simd``, ``load_average`` (at the start: a busy machine shows here), ``os``,
    ``python``, ``openblas_coretype``;
``libraries``
    versions of labrnn, numpy, array-api-compat, torch, tqdm, threadpoolctl (None: absent);
``implementations``, ``notes``
    the implementations that ran; why one did not (e.g. torch not installed);
``checks``
    one entry per (case, implementation) compared with labrnn: ``case``, ``impl``,
    ``reference``, ``T``, ``max_rel_error``, ``passed``;
``workers``
    one entry per worker process: ``impl``, ``pid``, ``threads``, ``dtype``, ``env``
    (the thread variables it saw), ``gemm_peak_n``, ``gemm_peak_gflops`` (the larger of
    ``gemm_peak_gflops_start`` and ``gemm_peak_gflops_end``, measured before and after the cases),
    ``versions``, ``blas`` (NumPy's BLAS build and threadpoolctl's thread pools),
    and for PyTorch ``torch`` (threads, build configuration) and ``torch_mm_peak_gflops``;
``results``
    one entry per (case, implementation, thread count): ``case`` (its fields and
    ``id``), ``impl``, ``threads``, ``dtype``, ``flops`` (per call), ``calls``,
    ``median_s``, ``min_s``, ``us_per_step``, ``us_per_step_min``, ``gflops``,
    ``gflops_best``, ``peak_fraction``;
``ratios``
    one entry per case and thread count with labrnn and its reference: ``case``,
    ``threads``, ``reference``, ``labrnn_us_per_step``, ``reference_us_per_step``,
    ``ratio`` (medians), ``ratio_min`` (minima), ``target``, ``met``;
``memory``
    BPTT activation memory against ``T`` (:mod:`labrnn.bench.memory`), one entry
    per cell and implementation: ``impl``, ``cell``, ``B``, ``D``, ``H``, ``dtype``,
    ``T`` (list), ``bytes`` (list), ``bytes_per_step`` (fitted slope), ``state_bytes``.

The suite times NumPy arrays on the CPU only (a GPU run is a later step).
"""

from .cases import PRESETS, Case, make_inputs, preset_cases
from .check import EquivalenceError, check_case, compare_outputs
from .flops import case_flops, cell_flops
from .runner import compare_table, run_suite

__all__ = ["PRESETS", "Case", "make_inputs", "preset_cases", "EquivalenceError", "check_case",
           "compare_outputs", "case_flops", "cell_flops", "compare_table", "run_suite"]
