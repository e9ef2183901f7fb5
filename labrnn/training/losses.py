"""Losses with their gradients (book chapter 12, used from chapter 2 on).

Each returns ``(loss, dinput)``: ``loss`` is a 0-d array (use ``float(...)``),
the mean over the positions that count; ``dinput`` is its gradient with
respect to the first argument, same shape. An optional ``mask`` (1 = counts,
0 = padding) with the shape of the positions removes padded steps from both.
"""

from __future__ import annotations

from ..layers.activations import log_softmax, sigmoid
from ..backend import namespace, device_of
from ..errors import ShapeError
from ..validate import check_finite, check_float

_HINT = ("training has probably diverged: lower the learning rate or clip the "
         "gradients (labrnn.clip_by_global_norm)")


def _mask(mask, positions_shape, like, name="mask"):
    xp = namespace(like)
    if mask is None:
        return xp.ones(positions_shape, dtype=like.dtype, device=device_of(like)), float(
            _prod(positions_shape))
    namespace(mask, like, names=[name, "the predictions"])
    if tuple(mask.shape) != tuple(positions_shape):
        raise ShapeError(f"{name} must have shape {tuple(positions_shape)} (one entry per "
                         f"position), received {tuple(mask.shape)}")
    m = xp.astype(mask, like.dtype)
    count = float(xp.sum(m))
    if count == 0:
        raise ValueError(f"{name} selects no position: the mean loss over zero positions is undefined")
    return m, count


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def softmax_cross_entropy(logits, targets, mask=None):
    """Mean softmax cross-entropy ``-log softmax(z)[target]`` over the positions.

    ``logits``: (..., C) float; ``targets``: (...) integer class indices in
    ``[0, C)``; ``mask``: (...) optional. The gradient is
    ``(softmax(z) - onehot(target)) * mask / count``.
    """
    xp = namespace(logits, targets, names=["logits", "targets"])
    check_float("logits", logits)
    check_finite("logits", logits, _HINT)
    pos = tuple(logits.shape[:-1])
    C = logits.shape[-1]
    if tuple(targets.shape) != pos:
        raise ShapeError(f"targets must have shape {pos} (the logits' shape without the class "
                         f"axis C={C}), received {tuple(targets.shape)}")
    if not xp.isdtype(targets.dtype, "integral"):
        raise TypeError(f"targets must hold integer class indices, received dtype {targets.dtype}")
    if targets.size and (int(xp.min(targets)) < 0 or int(xp.max(targets)) >= C):
        raise ValueError(f"targets must lie in [0, {C}), found values in "
                         f"[{int(xp.min(targets))}, {int(xp.max(targets))}]")
    m, count = _mask(mask, pos, logits)
    logp = log_softmax(logits)
    onehot = xp.astype(targets[..., None] == xp.arange(C, device=device_of(logits)), logits.dtype)
    nll = -xp.sum(logp * onehot, axis=-1)
    loss = xp.sum(nll * m) / count
    dlogits = (xp.exp(logp) - onehot) * (m / count)[..., None]
    return loss, dlogits


def binary_cross_entropy(logits, targets, mask=None):
    """Mean binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1].

    Computed from logits without forming ``log(sigmoid)`` (equation ``bce-stable``):
    ``max(z, 0) - z*y + log1p(exp(-|z|))``; gradient ``sigmoid(z) - y``. ``log1p``
    matters for large ``|z|``: ``1 + exp(-|z|)`` rounds to 1 once ``exp(-|z|)`` is
    below the float spacing near 1, so ``log(1 + exp(-30))`` is off by about 1e-3
    relative and ``log(1 + exp(-40))`` is 0 instead of about 4e-18.
    ``logits`` and ``targets`` share a shape; ``mask`` has that shape too.
    """
    xp = namespace(logits, targets, names=["logits", "targets"])
    check_float("logits", logits)
    check_finite("logits", logits, _HINT)
    if tuple(targets.shape) != tuple(logits.shape):
        raise ShapeError(f"targets must have the logits' shape {tuple(logits.shape)}, "
                         f"received {tuple(targets.shape)}")
    y = xp.astype(targets, logits.dtype)
    if y.size and (float(xp.min(y)) < 0 or float(xp.max(y)) > 1):
        raise ValueError(f"targets must lie in [0, 1] (probabilities), found values in "
                         f"[{float(xp.min(y))}, {float(xp.max(y))}]")
    m, count = _mask(mask, tuple(logits.shape), logits)
    z = logits
    per = xp.maximum(z, xp.zeros_like(z)) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
    loss = xp.sum(per * m) / count
    return loss, (sigmoid(z) - y) * m / count


def mean_squared_error(pred, target, mask=None):
    """Mean squared error ``mean((pred - target)**2)`` over every entry of the unmasked positions.

    ``pred`` and ``target``: (..., F); ``mask``: (...) optional.
    Gradient ``2 (pred - target) / count``.
    """
    xp = namespace(pred, target, names=["pred", "target"])
    check_float("pred", pred)
    check_float("target", target, pred.dtype)
    check_finite("pred", pred, _HINT)
    if tuple(target.shape) != tuple(pred.shape):
        raise ShapeError(f"target must have pred's shape {tuple(pred.shape)}, "
                         f"received {tuple(target.shape)}")
    F = pred.shape[-1] if pred.ndim else 1
    m, count = _mask(mask, tuple(pred.shape[:-1]), pred)
    diff = pred - target
    count *= F
    loss = xp.sum(diff * diff * m[..., None]) / count
    return loss, 2.0 * diff * m[..., None] / count
