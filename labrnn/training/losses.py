"""Losses with their gradients (book chapter 12, used from chapter 2 on).

Each returns ``(loss, dinput)``: ``loss`` is a 0-d array of the input's namespace
(a ``numpy.float64`` on NumPy; ``float(loss)`` gives a Python float), the mean
over the entries that count; ``dinput`` is its gradient with respect to the
first argument, same shape.

**Entries and the mask convention** (one for every loss). A loss averages a
per-entry loss ``l`` over its *entries*:

* :func:`softmax_cross_entropy`: one entry per position, ``logits.shape[:-1]``
  (the class axis ``C`` is the distribution of one entry);
* :func:`binary_cross_entropy`: every element of ``logits`` is an entry (each is
  its own yes/no prediction), ``logits.shape``;
* :func:`mean_squared_error`: every element of ``pred`` is an entry, ``pred.shape``.

An optional ``mask`` covers the *leading axes* of the entries: its shape is a
prefix of the entries' shape, typically ``(T, B)`` for a padded time-major batch
(:func:`labrnn.sequence_mask`), whatever the loss, and an entry counts when the
mask value above it is ``True``/1. So one ``(T, B)`` padding mask serves all three
losses (and attention, :mod:`labrnn.layers.attention`); a mask of the full entries'
shape masks single elements (e.g. missing values in a ``(T, B, F)`` target).
The mask is boolean or numbers that are exactly 0 or 1 (it selects, it never
weights: other values raise). Equation ``masked-loss``::

    L = sum_e m_e l_e / sum_e m_e,        dL/dz_e = m_e / sum(m) * dl_e/dz_e

Masked entries get a zero gradient. A mask (or an input) with no entry that
counts raises ``ValueError``: the mean over zero entries is undefined.
"""

from __future__ import annotations

from ..layers.activations import log_softmax, sigmoid
from ..backend import namespace, device_of
from ..errors import DTypeError, ShapeError
from ..validate import check_array, check_finite, check_float

__all__ = ["softmax_cross_entropy", "binary_cross_entropy", "mean_squared_error"]

_HINT = ("training has probably diverged: lower the learning rate or clip the "
         "gradients (labrnn.clip_by_global_norm)")


def _mask(mask, entries_shape, like, name="mask", what="the logits"):
    """The mask broadcast to ``entries_shape`` (in ``like``'s dtype) and the number of entries it keeps."""
    xp = namespace(like)
    entries_shape = tuple(entries_shape)
    if mask is None:
        count = _prod(entries_shape)
        if count == 0:
            raise ValueError(f"{what} hold no entry (entries of shape {entries_shape}): the mean "
                             "loss over zero positions is undefined")
        return xp.ones(entries_shape, dtype=like.dtype, device=device_of(like)), float(count)
    namespace(mask, like, names=[name, what])
    shape = tuple(mask.shape)
    if (len(shape) == 0 and entries_shape) or shape != entries_shape[:len(shape)]:
        raise ShapeError(f"{name} must cover the leading axes of the entries {entries_shape}, "
                         f"e.g. shape {entries_shape[:2] if len(entries_shape) >= 2 else entries_shape}"
                         f" (one value per position), received {shape}")
    if not (mask.dtype == xp.bool or xp.isdtype(mask.dtype, ("integral", "real floating"))):
        raise DTypeError(f"{name} must be boolean or hold 0/1 numbers, received dtype {mask.dtype}")
    if mask.dtype != xp.bool and not bool(xp.all((mask == 0) | (mask == 1))):
        raise ValueError(f"{name} must hold only 0 and 1 (or False/True): it selects positions, "
                         f"it does not weight them; received values in "
                         f"[{float(xp.min(mask))}, {float(xp.max(mask))}]")
    m = xp.astype(mask, like.dtype)
    if len(shape) < len(entries_shape):
        m = xp.broadcast_to(xp.reshape(m, shape + (1,) * (len(entries_shape) - len(shape))),
                            entries_shape)
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
    check_array("logits", logits, "a float array (..., C) of scores")
    check_array("targets", targets, "an integer array of class indices")
    xp = namespace(logits, targets, names=["logits", "targets"])
    check_float("logits", logits)
    if logits.ndim == 0:
        raise ShapeError("logits must have shape (..., C) with a class axis, received shape ()")
    check_finite("logits", logits, _HINT)
    pos = tuple(logits.shape[:-1])
    C = logits.shape[-1]
    if tuple(targets.shape) != pos:
        raise ShapeError(f"targets must have shape {pos} (the logits' shape without the class "
                         f"axis C={C}), received {tuple(targets.shape)}")
    if not xp.isdtype(targets.dtype, "integral"):
        raise DTypeError(f"targets must hold integer class indices, received dtype {targets.dtype}")
    if targets.size and (int(xp.min(targets)) < 0 or int(xp.max(targets)) >= C):
        raise ValueError(f"targets must lie in [0, {C}), found values in "
                         f"[{int(xp.min(targets))}, {int(xp.max(targets))}]")
    m, count = _mask(mask, pos, logits)
    if C == 0:
        raise ShapeError(f"logits must have at least one class (C >= 1), received shape "
                         f"{tuple(logits.shape)}")
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
    ``logits`` and ``targets`` share a shape, whose every element is an entry; ``mask``
    covers its leading axes (e.g. ``(T, B)`` for logits ``(T, B)`` or ``(T, B, O)``).
    """
    check_array("logits", logits, "a float array of scores")
    check_array("targets", targets, "an array of probabilities in [0, 1]")
    xp = namespace(logits, targets, names=["logits", "targets"])
    check_float("logits", logits)
    check_finite("logits", logits, _HINT)
    if not (targets.dtype == xp.bool or xp.isdtype(targets.dtype, ("integral", "real floating"))):
        raise DTypeError(f"targets must hold numbers in [0, 1], received dtype {targets.dtype}")
    if tuple(targets.shape) != tuple(logits.shape):
        raise ShapeError(f"targets must have the logits' shape {tuple(logits.shape)}, "
                         f"received {tuple(targets.shape)}")
    y = xp.astype(targets, logits.dtype)
    check_finite("targets", y)
    if y.size and (float(xp.min(y)) < 0 or float(xp.max(y)) > 1):
        raise ValueError(f"targets must lie in [0, 1] (probabilities), found values in "
                         f"[{float(xp.min(y))}, {float(xp.max(y))}]")
    m, count = _mask(mask, tuple(logits.shape), logits)
    z = logits
    per = xp.maximum(z, xp.zeros_like(z)) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
    loss = xp.sum(per * m) / count
    return loss, (sigmoid(z) - y) * m / count


def mean_squared_error(pred, target, mask=None):
    """Mean squared error ``mean((pred - target)**2)`` over every entry (element) that counts.

    ``pred`` and ``target``: (..., F), same shape and dtype; ``mask`` covers the leading
    axes, typically ``(T, B)`` (every feature of a real position counts) or the full
    ``(T, B, F)`` (single missing values). Gradient ``2 (pred - target) m / count``.
    """
    check_array("pred", pred, "a float array (..., F)")
    check_array("target", target, "a float array of pred's shape")
    xp = namespace(pred, target, names=["pred", "target"])
    check_float("pred", pred)
    check_float("target", target, pred.dtype)
    check_finite("pred", pred, _HINT)
    check_finite("target", target, "clean the data (a NaN target makes the loss NaN)")
    if tuple(target.shape) != tuple(pred.shape):
        raise ShapeError(f"target must have pred's shape {tuple(pred.shape)}, "
                         f"received {tuple(target.shape)}")
    if mask is not None and pred.ndim and check_array("mask", mask).ndim == pred.ndim:
        m, count = _mask(mask, tuple(pred.shape), pred, what="pred")     # element mask
        diff = pred - target
        loss = xp.sum(diff * diff * m) / count
        return loss, 2.0 * diff * m / count
    F = pred.shape[-1] if pred.ndim else 1
    m, count = _mask(mask, tuple(pred.shape[:-1]), pred, what="pred")
    count *= F
    if count == 0:
        raise ValueError(f"pred holds no entry (shape {tuple(pred.shape)}): the mean loss over "
                         "zero positions is undefined")
    diff = pred - target
    loss = xp.sum(diff * diff * m[..., None]) / count
    return loss, 2.0 * diff * m[..., None] / count
