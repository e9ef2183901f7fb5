"""Floating-point operations of a benchmark case: the matrix products only.

The convention of GEMM benchmarks: a product of an ``(m, k)`` by a ``(k, n)``
matrix costs ``2 m k n`` FLOPs (one multiply and one add per term). Only the
matrix products are counted; the element-wise work (gate nonlinearities,
products, sums) is ``O(B H)`` per step against the products' ``O(B H (D + H))``
and is left out, so GFLOP/s measures how fast the useful matrix work runs and
compares directly with the GEMM peak (:func:`labrnn.bench.timing.gemm_peak`).

A cell with ``k`` gate blocks (``k = 1`` Elman, ``4`` LSTM and layer-normalised
LSTM, ``3`` GRU) computes per step ``x_t W_x^T`` and ``h_{t-1} W_h^T``, each
``(B, ·)`` times ``(·, kH)``::

    forward   = 2 B kH (D + H)                   per step
    backward  = 4 B kH (D + H)                   dx_t = da W_x, dh = da W_h, dW_x += da^T x, dW_h += da^T h
    fwd + bwd = 6 B kH (D + H)                   per step, times T for a sequence

The models add their own products: a stack of ``L`` layers counts each layer with
its own input size (``D`` for layer 0, ``H`` above); a bidirectional layer two
cells; the attention model an LSTM encoder plus additive attention
``e_t = v^T tanh(W_q q + W_k k_t)`` with ``A = H`` (forward ``2 T B A H`` for
the keys, ``2 B A H`` for the query; backward twice that); the character
language model an LSTM plus the output layer ``2 T B V H`` forward and
``4 T B V H`` backward (the embedding is a lookup: no products; the optimiser
is element-wise).
"""

from __future__ import annotations

__all__ = ["GATE_BLOCKS", "cell_flops", "case_flops"]

#: k, the number of gate blocks of each cell's fused weights
GATE_BLOCKS = {"elman": 1, "lstm": 4, "lnlstm": 4, "gru": 3}


def cell_flops(cell, T, B, D, H, mode="fwdbwd"):
    """Matrix-product FLOPs of ``cell`` over ``T`` steps: ``2 T B kH (D + H)`` forward, 3x that with backward."""
    if cell not in GATE_BLOCKS:
        raise ValueError(f"cell must be one of {sorted(GATE_BLOCKS)}, received {cell!r}")
    if mode not in ("fwd", "fwdbwd"):
        raise ValueError(f"mode must be 'fwd' or 'fwdbwd', received {mode!r}")
    fwd = 2 * T * B * GATE_BLOCKS[cell] * H * (D + H)
    return fwd if mode == "fwd" else 3 * fwd


def case_flops(case):
    """Matrix-product FLOPs of one call of ``case`` (a :class:`labrnn.bench.cases.Case`)."""
    c, T, B, D, H, mode = case.cell, case.T, case.B, case.D, case.H, case.mode
    mult = 1 if mode == "fwd" else 3
    if case.kind in ("cell", "overhead"):
        return cell_flops(c, T, B, D, H, mode)
    if case.kind == "stacked":
        return sum(cell_flops(c, T, B, D if l == 0 else H, H, mode) for l in range(case.layers))
    if case.kind == "bidir":
        return 2 * cell_flops(c, T, B, D, H, mode)
    if case.kind == "attention":
        return cell_flops(c, T, B, D, H, mode) + mult * (2 * T * B * H * H + 2 * B * H * H)
    if case.kind == "charlm":
        return sum(cell_flops("lstm", T, B, D if l == 0 else H, H, mode)
                   for l in range(case.layers)) + mult * 2 * T * B * case.V * H
    raise ValueError(f"unknown case kind {case.kind!r}")
