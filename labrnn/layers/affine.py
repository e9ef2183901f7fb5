"""The affine (dense) layer ``y = W h + b`` (book eq. ``rnn-output``), and views of fused gates.

Works on any number of leading axes: ``h`` of shape ``(..., H)`` gives ``y`` of
shape ``(..., O)`` with ``W: (O, H)`` and ``b: (O,)``.
"""

from __future__ import annotations

from ..backend import namespace
from ..validate import check_float, check_shape


def affine_forward(h, W, b):
    """``y = h @ W.T + b``; returns ``(y, cache)``."""
    xp = namespace(h, W, b, names=["h", "W", "b"])
    check_float("h", h, W.dtype)
    O, H = W.shape
    check_shape("b", b, (("O", O),))
    if h.shape[-1] != H:
        check_shape("h", h, tuple(("·", None) for _ in h.shape[:-1]) + (("H", H),))
    y = xp.matmul(h, xp.matrix_transpose(W)) + b
    return y, (h, W)


def affine_backward(dy, cache):
    """Gradients of :func:`affine_forward`: returns ``(dh, dW, db)``.

    ``dW`` and ``db`` sum over every leading axis (time and batch), because one
    weight matrix serves every position.
    """
    h, W = cache
    xp = namespace(dy, W)
    dh = xp.matmul(dy, W)
    H, O = h.shape[-1], dy.shape[-1]
    h2 = xp.reshape(h, (-1, H))
    dy2 = xp.reshape(dy, (-1, O))
    dW = xp.matmul(xp.matrix_transpose(dy2), h2)
    db = xp.sum(dy2, axis=0)
    return dh, dW, db


def gate_views(params, gates):
    """The per-gate blocks of fused gate weights, as slices (views on NumPy).

    ``params`` holds ``W_x (kH, D)``, ``W_h (kH, H)`` and ``b (kH,)`` with the
    ``k = len(gates)`` gate blocks stacked in the order ``gates``; returns
    ``{"W_x<g>": (H, D), "W_h<g>": (H, H), "b_<g>": (H,)}`` for every gate ``g``.
    The LSTM (``"ifgo"``) and the GRU (``"rzn"``) store their gates this way.
    """
    H = params["W_h"].shape[1]
    views = {}
    for k, gate in enumerate(gates):
        rows = slice(k * H, (k + 1) * H)
        views[f"W_x{gate}"] = params["W_x"][rows, :]
        views[f"W_h{gate}"] = params["W_h"][rows, :]
        views[f"b_{gate}"] = params["b"][rows]
    return views
