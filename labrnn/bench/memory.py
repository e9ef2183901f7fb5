"""BPTT activation memory against ``T``: what forward keeps for backward.

labrnn: the bytes of every distinct array reachable from the cache that
:func:`labrnn.bench.adapter.forward` returns, except the parameters and the input
``x`` (they exist without the pass); views count once, by the buffer they view.
PyTorch: the bytes of every distinct storage that autograd saves for backward
(``torch.autograd.graph.saved_tensors_hooks``), except the parameters and ``x``.
Both grow linearly in ``T``: :func:`activation_memory` also reports the slope,
bytes per time step, between the first and the last ``T``. Gradient checkpointing (keeping
fewer steps and recomputing the rest) would trade this memory for time: a later step.
"""

from __future__ import annotations

import numpy as np

from ..cells import SequenceCache
from . import adapter
from .cases import Case, make_inputs

__all__ = ["labrnn_activation_bytes", "torch_activation_bytes", "activation_memory"]


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
    elif isinstance(obj, SequenceCache):
        for name in SequenceCache.__slots__:
            _walk(getattr(obj, name, None), out)


def labrnn_activation_bytes(case, dtype="float32"):
    """Bytes labrnn's forward keeps for backward in ``case`` (a cell), parameters and ``x`` excluded."""
    inputs = make_inputs(case, dtype)
    _, cache = adapter.forward(case.cell, inputs["x"], inputs["params"])
    held, exclude = {}, {}
    _walk(cache, held)
    _walk([inputs["params"], inputs["x"]], exclude)
    return int(sum(b for k, b in held.items() if k not in exclude))


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
