"""Variable-length sequences: lengths, masks and reversal within a length (book chapter 10).

A batch of sequences of different lengths is stored padded to the longest,
time-major ``(T, B, ...)``. Sequence ``b`` is real for ``t < lengths[b]`` and
padding afterwards. The *mask* says which steps are real::

    m_t[b] = 1  if t < lengths[b]  else 0          (T, B)              (mask)

A recurrent layer that receives ``lengths`` freezes each sequence's state
after its end, ``h_t = m_t * h_new + (1 - m_t) * h_{t-1}``, and outputs zeros
at padded steps, so padding never changes a result (:mod:`labrnn.models.recurrent`).

Rules for ``lengths``: shape ``(B,)``, an integer dtype (a float or boolean
array is refused), every entry in ``[1, T]``. A Python list or a NumPy array
of integers is accepted too and moved to the namespace and device of the data.

**The mask convention** (the same for every loss and layer of ``labrnn``):
a mask is a ``(T, B)`` array over the leading axes of the data (``True``/1 = a
real step, ``False``/0 = padding), boolean or numbers that are exactly 0 or 1
(a mask selects, it never weights: other values raise). :func:`sequence_mask`
builds it from ``lengths``. Attention takes it as ``mask`` (:func:`check_mask`),
the losses as ``mask`` (where it may also cover more leading axes of their
entries, :mod:`labrnn.training.losses`); the recurrent layers take the ``lengths`` it is
built from, since freezing a state needs each sequence's end.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..backend import device_of, from_numpy, namespace
from ..errors import ArgumentTypeError, DTypeError, ShapeError

__all__ = ["check_lengths", "sequence_mask", "check_mask", "reverse_padded"]


def check_lengths(lengths, T, B, like):
    """Validate ``lengths`` (B,) against a padded length ``T`` and return it on ``like``'s device.

    Raises :class:`~labrnn.errors.DTypeError` for a non-integer dtype,
    :class:`~labrnn.errors.ShapeError` for a shape other than ``(B,)`` and
    ``ValueError`` for an entry outside ``[1, T]`` (naming the first offender).
    """
    if isinstance(lengths, (list, tuple, np.ndarray)) or isinstance(lengths, numbers.Number):
        host = np.asarray(lengths)
        if host.dtype == object or not np.issubdtype(host.dtype, np.integer):
            raise DTypeError(f"lengths must hold integers (one length per sequence), received "
                             f"dtype {host.dtype}; convert with .astype(int)")
        lengths = from_numpy(host, like=like)
    xp = namespace(lengths, like, names=["lengths", "x"])
    if not xp.isdtype(lengths.dtype, "integral"):
        raise DTypeError(f"lengths must hold integers (one length per sequence), received "
                         f"dtype {lengths.dtype}; convert with xp.astype(lengths, xp.int64)")
    if tuple(lengths.shape) != (B,):
        raise ShapeError(f"lengths must have shape (B={B},), one length per sequence, received "
                         f"{tuple(lengths.shape)}")
    lo, hi = int(xp.min(lengths)), int(xp.max(lengths))
    if lo < 1:
        raise ValueError(f"lengths must be at least 1 (a sequence needs a real step), found "
                         f"{lo} at position {_first(xp, lengths < 1)}")
    if hi > T:
        raise ValueError(f"lengths must not exceed the padded length T={T}, found {hi} at "
                         f"position {_first(xp, lengths > T)}")
    return lengths


def _first(xp, flags):
    """Index of the first True entry of a 1-d boolean array (computed on its device)."""
    idx = xp.arange(flags.shape[0], device=device_of(flags))
    return int(xp.min(xp.where(flags, idx, flags.shape[0])))


def sequence_mask(lengths, T, like=None):
    """Boolean mask (T, B), equation ``masked-state``: ``m[t, b] = t < lengths[b]``.

    ``lengths`` is an integer array (B,) (see :func:`check_lengths`); with a
    Python list pass ``like`` (any array) to choose the namespace and device.
    Cast with ``xp.astype(m, x.dtype)`` for a 0/1 float mask.
    """
    if like is None:
        like = lengths
    B = len(lengths) if isinstance(lengths, (list, tuple)) else lengths.shape[0]
    lengths = check_lengths(lengths, T, B, like)
    xp = namespace(lengths)
    t = xp.arange(T, device=device_of(lengths), dtype=lengths.dtype)
    return t[:, None] < lengths[None, :]


def check_mask(mask, T, B, like, name="mask"):
    """A ``(T, B)`` mask with at least one real step per sequence (column); returns it as booleans.

    Boolean, or integer/float numbers that are exactly 0 or 1 (the mask convention of
    the module docstring); other values raise ``ValueError`` (a mask selects steps,
    it does not weight them). Build one from lengths with :func:`sequence_mask`.
    """
    if mask is None:
        raise ArgumentTypeError(f"{name} is None; expected a (T={T}, B={B}) boolean or 0/1 array")
    namespace(mask, like, names=[name, "the data"])
    xp = namespace(mask)
    if tuple(mask.shape) != (T, B):
        raise ShapeError(f"{name} must have shape (T={T}, B={B}), received {tuple(mask.shape)}")
    if mask.dtype != xp.bool:
        if not xp.isdtype(mask.dtype, ("integral", "real floating")):
            raise DTypeError(f"{name} must be boolean or hold 0/1 numbers (True/1 = a real step), "
                             f"received dtype {mask.dtype}; build one with "
                             "labrnn.sequence_mask(lengths, T)")
        if not bool(xp.all((mask == 0) | (mask == 1))):
            raise ValueError(f"{name} must hold only 0 and 1 (or False/True): it selects steps, "
                             f"it does not weight them; received values in "
                             f"[{float(xp.min(mask))}, {float(xp.max(mask))}]")
        mask = mask == 1
    if not bool(xp.all(xp.any(mask, axis=0))):
        raise ValueError(f"{name} masks every step of some sequence: each column needs at least "
                         "one True (a softmax over zero positions is undefined)")
    return mask


def reverse_padded(x, lengths):
    """Reverse each sequence of ``x`` (T, B, ...) within its own length; padding stays in place.

    ``y[t, b] = x[lengths[b] - 1 - t, b]`` for ``t < lengths[b]`` and
    ``y[t, b] = x[t, b]`` otherwise. The map is a permutation that is its own
    inverse, so it is also its own backward: ``dx = reverse_padded(dy, lengths)``.
    ``lengths=None`` reverses the whole time axis. Exact (a gather, no arithmetic).
    """
    xp = namespace(x)
    T, B = x.shape[0], x.shape[1]
    if lengths is None:
        return xp.flip(x, axis=0)
    lengths = check_lengths(lengths, T, B, x)
    dev = device_of(x)
    t = xp.arange(T, device=dev, dtype=lengths.dtype)[:, None]               # (T, 1)
    rev = xp.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)        # (T, B)
    idx = xp.reshape(rev * B + xp.arange(B, device=dev, dtype=lengths.dtype)[None, :], (T * B,))
    rest = tuple(x.shape[2:])
    flat = xp.reshape(x, (T * B, -1))
    return xp.reshape(xp.take(flat, idx, axis=0), (T, B) + rest)
