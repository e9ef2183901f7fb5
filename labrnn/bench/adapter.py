"""The one place where the benchmark calls a labrnn cell.

Every labrnn cell workload of the suite (the cells, the attention model's
encoder, the array-API overhead case) runs a cell through these two functions
and nothing else, so a change of the cell interface changes only this module.
They wrap the cell protocol, :func:`labrnn.cells.cell_forward` /
:func:`labrnn.cells.cell_backward`: ``forward(x, params, state0=None, lengths=None)
-> (out, final_state, cache)`` and ``backward(dout, cache, dstate_T=None) ->
(dx, dstate0, grads)``.
"""

from __future__ import annotations

from .. import cells as _cells

__all__ = ["forward", "backward"]


def forward(cell, x, params):
    """Run ``cell`` over ``x`` (T, B, D) from a zero state; returns ``(out (T, B, H), cache)``."""
    out, _, cache = _cells.cell_forward(cell, x, params)
    return out, cache


def backward(dout, cache):
    """BPTT of :func:`forward` from ``dout`` (T, B, H); returns ``(dx (T, B, D), grads)``."""
    dx, _, grads = _cells.cell_backward(dout, cache)
    return dx, grads
