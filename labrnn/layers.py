"""The affine (dense) layer used for outputs: ``y = W h + b`` (book eq. ``rnn-output``).

Works on any number of leading axes: ``h`` of shape ``(..., H)`` gives ``y`` of
shape ``(..., O)`` with ``W: (O, H)`` and ``b: (O,)``.
"""

from __future__ import annotations

from .backend import namespace
from .validate import check_float, check_shape


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
