"""BPTT activation memory against ``T``: what forward keeps for backward.

labrnn: the bytes of every distinct array reachable from the cache that
:func:`labrnn.bench.adapter.forward` returns, except the parameters and the input
``x`` (they exist without the pass); views count once, by the buffer they view.
PyTorch: the bytes of every distinct storage that autograd saves for backward
(``torch.autograd.graph.saved_tensors_hooks``), except the parameters and ``x``.
Both grow linearly in ``T``: :func:`activation_memory` also reports the slope,
bytes per time step, between the first and the last ``T``.

Gradient checkpointing (``cell.forward(..., checkpoint_every=k)``, :mod:`labrnn.cells.recompute`;
Chen et al. 2016, Gruslys et al. 2016) trades this memory for time: the forward pass keeps
only the state at every ``k``-th step, the backward pass recomputes each segment of ``k``
steps from its checkpoint before it backpropagates through it.
:func:`checkpoint_tradeoff` measures both sides for each ``k``:

* memory: the checkpointed cache (``ceil(T/k)`` states, walked like the plain one) plus
  the activations of one recomputed segment while it is alive (the plain pass's cache of
  ``min(k, T)`` steps: exactly what the backward pass rebuilds for its longest segment),
  ``~ a T/k + b k`` with ``a`` the bytes of one state and ``b`` the bytes the plain pass
  keeps per step. Its minimum is at ``k = sqrt(a T / b)``: the classic ``k = sqrt(T)``
  (``T/k`` checkpoints against ``k`` recomputed steps, equal when ``k = sqrt(T)``, total
  ``2 sqrt(T)`` instead of ``T``), somewhat smaller for an LSTM, whose step keeps more than its
  state. As a cross-check it also reports the peak of :mod:`tracemalloc` (which sees NumPy's
  allocations) over one forward + backward call, temporaries and gradients included;
* time: the median forward + backward seconds per call relative to the plain pass
  (``k = None``): every step runs forward twice, so one extra forward pass of arithmetic for
  any ``k``, plus a small cost per segment (one input-projection GEMM per segment instead of
  one for the whole sequence); but the plain forward pass keeps ``T`` steps of activations in
  freshly allocated, cache-cold memory, while the checkpointed one reuses a segment's worth,
  so at large sizes the net ratio can be close to 1 (measure, do not assume).

Run it (one thread; the JSON holds the machine, the libraries and every figure)::

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m labrnn.bench.memory --out benchmarks/memory.json

It writes (a) ``activation``: activation bytes against ``T`` (25 to 400) for the Elman cell, the
LSTM and the GRU at ``B=32, D=128, H=256``, labrnn and PyTorch (when installed), and (b)
``checkpointing``: the trade-off for the LSTM at ``T=400`` and ``k`` in
``none, 5, 10, 20, 40, 100``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from ..cells import CheckpointCache, SequenceCache, get_cell
from . import adapter
from .cases import Case, make_inputs
from .timing import calibrate, time_calls

__all__ = ["labrnn_activation_bytes", "torch_activation_bytes", "activation_memory",
           "activation_bytes", "checkpoint_tradeoff", "main"]


def _walk(obj, out):
    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base.base, np.ndarray):
            base = base.base
        out[id(base)] = base.nbytes
    elif isinstance(obj, dict):
        for v in obj.values():
            _walk(v, out)
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            _walk(v, out)
    elif isinstance(obj, (SequenceCache, CheckpointCache)):
        for name in type(obj).__slots__:
            _walk(getattr(obj, name, None), out)


def activation_bytes(cache, exclude=()):
    """Bytes of the distinct NumPy buffers reachable from ``cache`` that ``exclude`` does not hold.

    ``cache``: a :class:`~labrnn.cells.SequenceCache` or a
    :class:`~labrnn.cells.CheckpointCache` (or dicts, tuples and lists of arrays);
    ``exclude``: what exists without the pass (the parameters and ``x``). A view counts
    once, as the whole buffer it views.
    """
    held, skip = {}, {}
    _walk(cache, held)
    _walk(exclude, skip)
    return int(sum(b for k, b in held.items() if k not in skip))


def labrnn_activation_bytes(case, dtype="float32"):
    """Bytes labrnn's forward keeps for backward in ``case`` (a cell), parameters and ``x`` excluded."""
    inputs = make_inputs(case, dtype)
    _, cache = adapter.forward(case.cell, inputs["x"], inputs["params"])
    return activation_bytes(cache, [inputs["params"], inputs["x"]])


def torch_activation_bytes(case, dtype="float32"):
    """Bytes PyTorch's autograd saves for backward in ``case`` (a cell), parameters and ``x`` excluded."""
    import torch
    from . import impl_torch
    inputs = make_inputs(case, dtype)
    tdtype = getattr(torch, dtype)
    mod = impl_torch._rnn(case, inputs["params"], {"": "_l0"}, tdtype)
    x = torch.from_numpy(inputs["x"]).requires_grad_(True)
    skip = {p.untyped_storage().data_ptr() for p in mod.parameters()}
    skip.add(x.untyped_storage().data_ptr())
    saved = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            saved[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out, _ = mod(x)
    del out
    return int(sum(saved.values()))


def activation_memory(cell="lstm", Ts=(25, 50, 100, 200), B=32, D=128, H=256, dtype="float32",
                      impls=("labrnn",)):
    """Activation bytes at each ``T`` for each implementation, and the fitted bytes per step.

    Returns a list of dicts ``{"impl", "cell", "B", "D", "H", "dtype", "T": [...],
    "bytes": [...], "bytes_per_step": slope (first to last T), "state_bytes": B*H*itemsize}`` (the
    last for scale: one step's hidden state).
    """
    Ts = [int(T) for T in Ts]
    if len(Ts) < 2 or any(b <= a for a, b in zip(Ts, Ts[1:])):
        raise ValueError(f"Ts must hold at least two increasing sequence lengths, received {Ts}")
    fns = {"labrnn": labrnn_activation_bytes, "torch": torch_activation_bytes}
    out = []
    for impl in impls:
        sizes = [fns[impl](Case("cell", cell, T, B, D, H), dtype) for T in Ts]
        slope = (sizes[-1] - sizes[0]) / (Ts[-1] - Ts[0])
        out.append({"impl": impl, "cell": cell, "B": B, "D": D, "H": H, "dtype": dtype,
                    "T": list(Ts), "bytes": sizes, "bytes_per_step": slope,
                    "state_bytes": B * H * np.dtype(dtype).itemsize})
    return out


def _traced_peak(fn):
    """Peak bytes :mod:`tracemalloc` sees during ``fn()`` above what was allocated before it."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def checkpoint_tradeoff(cell="lstm", T=400, B=32, D=128, H=256, ks=(None, 5, 10, 20, 40, 100),
                        dtype="float32", rounds=5, min_round_s=0.2, seed=0):
    """Memory and time of gradient checkpointing for each ``k`` in ``ks`` (``None``: plain BPTT).

    Returns a list of dicts, one per ``k``: ``k``, ``segments`` (``ceil(T/k)``),
    ``cache_bytes`` (what the forward pass keeps, walked like :func:`activation_bytes`,
    parameters and ``x`` excluded), ``segment_bytes`` (the activations of the longest
    recomputed segment, alive during the backward pass; 0 for ``None``),
    ``activation_bytes`` (their sum: the most activation memory alive at once),
    ``memory_ratio`` (over the plain pass's), ``traced_peak_bytes`` (the
    :mod:`tracemalloc` peak of one forward + backward call, temporaries and gradients
    included), ``median_s``/``min_s`` per forward + backward call and ``time_ratio``
    (median over the plain pass's median). The calls of all ``k`` alternate, ``rounds``
    rounds of a calibrated number of calls each (about ``min_round_s`` seconds).
    See the module docstring for why the memory is ``~ T/k + k`` steps.
    """
    c = get_cell(cell)
    ks = [None if k is None else int(k) for k in ks]
    if None not in ks:
        ks = [None] + ks                         # the reference of the ratios
    inputs = make_inputs(Case("cell", c.name, T, B, D, H), dtype, seed)
    x, params, dout = inputs["x"], inputs["params"], inputs["dout"]
    exclude = [params, x]

    def call(k):
        def run():
            out, _, cache = c.forward(x, params, checkpoint_every=k)
            c.backward(dout, cache)
        return run

    rows = []
    for k in ks:
        _, _, cache = c.forward(x, params, checkpoint_every=k)
        held = activation_bytes(cache, exclude)
        del cache
        seg = 0
        if k is not None:
            _, _, scache = c.forward(x[:min(k, T)], params)    # what backward rebuilds
            seg = activation_bytes(scache, exclude)
            del scache
        rows.append({"k": k, "segments": 1 if k is None else math.ceil(T / k),
                     "cache_bytes": held, "segment_bytes": seg, "activation_bytes": held + seg,
                     "traced_peak_bytes": int(_traced_peak(call(k)))})
    calls = {k: call(k) for k in ks}
    n = min(calibrate(calls[k], min_round_s) for k in ks)
    times = {k: [] for k in ks}
    for r in range(rounds):                      # alternate the k, reversing each round
        for k in (ks if r % 2 == 0 else ks[::-1]):
            times[k].extend(time_calls(calls[k], n))
    plain = rows[ks.index(None)]
    ref = statistics.median(times[None])
    for row in rows:
        t = times[row["k"]]
        row.update({"memory_ratio": row["activation_bytes"] / plain["activation_bytes"],
                    "traced_peak_ratio": row["traced_peak_bytes"] / plain["traced_peak_bytes"],
                    "median_s": statistics.median(t), "min_s": min(t),
                    "time_ratio": statistics.median(t) / ref})
    return {"cell": c.name, "T": T, "B": B, "D": D, "H": H, "dtype": dtype, "rounds": rounds,
            "calls_per_round": n, "state_bytes": len(c.state_names) * B * H
            * np.dtype(dtype).itemsize, "results": rows}


def _ints(text):
    return [int(t) for t in text.split(",") if t.strip()]


def main(argv=None):
    """Command line: activation bytes against ``T`` and the checkpointing trade-off, as JSON."""
    from .machine import blas_info, library_versions, machine_info
    ap = argparse.ArgumentParser(prog="python -m labrnn.bench.memory",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--cells", default="elman,lstm,gru", help="cells of the T sweep")
    ap.add_argument("--Ts", default="25,50,100,200,400", help="sequence lengths of the T sweep")
    ap.add_argument("--B", type=int, default=32)
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--H", type=int, default=256)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--ckpt-cell", default="lstm")
    ap.add_argument("--ckpt-T", type=int, default=400)
    ap.add_argument("--ks", default="5,10,20,40,100", help="checkpoint_every values (plus none)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-round-s", type=float, default=0.2)
    ap.add_argument("--no-torch", action="store_true", help="measure labrnn only")
    ap.add_argument("--out", default="benchmarks/memory.json")
    a = ap.parse_args(argv)
    start = time.time()
    have_torch = importlib.util.find_spec("torch") is not None and not a.no_torch
    impls = ("labrnn", "torch") if have_torch else ("labrnn",)
    activation = []
    for cell in [t.strip() for t in a.cells.split(",") if t.strip()]:
        activation += activation_memory(cell, _ints(a.Ts), a.B, a.D, a.H, a.dtype, impls)
    trade = checkpoint_tradeoff(a.ckpt_cell, a.ckpt_T, a.B, a.D, a.H, [None] + _ints(a.ks),
                                a.dtype, a.rounds, a.min_round_s)
    notes = {} if have_torch else {"torch": "not measured: " + (
        "--no-torch" if a.no_torch else "PyTorch is not installed")}
    record = {"benchmark": "memory", "command": "python -m labrnn.bench.memory "
              + " ".join(sys.argv[1:] if argv is None else argv),
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": machine_info(), "versions": library_versions(), "blas": blas_info(),
              "wall_s": round(time.time() - start, 1), "notes": notes,
              "activation": activation, "checkpointing": trade}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print("BPTT activation memory (forward's cache, parameters and x excluded)")
    for m in activation:
        print(f"  {m['impl']:<7} {m['cell']:<6} {m['bytes_per_step'] / 1024:9.1f} KiB per step"
              f"  {m['bytes'][-1] / 2**20:8.1f} MiB at T={m['T'][-1]}")
    print(f"Gradient checkpointing, {trade['cell']} T={trade['T']} B={trade['B']} "
          f"D={trade['D']} H={trade['H']} {trade['dtype']}")
    print(f"  {'k':>5} {'cache MiB':>10} {'+segment':>9} {'memory':>7} {'peak':>7} {'time':>6}")
    for r in trade["results"]:
        k = "none" if r["k"] is None else str(r["k"])
        print(f"  {k:>5} {r['cache_bytes'] / 2**20:10.2f} {r['segment_bytes'] / 2**20:9.2f} "
              f"{r['memory_ratio']:7.3f} {r['traced_peak_ratio']:7.3f} {r['time_ratio']:6.2f}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
