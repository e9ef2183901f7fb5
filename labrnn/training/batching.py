"""Batching variable-length sequences: padding, and bucketing by length (book chapter 12).

A batch of sequences of lengths ``L_1..L_B`` is stored as one time-major array of
``T = max_b L_b`` steps; the missing steps are *padding*, and a mask (``m[t, b] = t < L_b``,
:func:`labrnn.sequence_mask`) keeps them out of the states and the loss. Every padded
position still costs computation, so the cost of an epoch is the number of positions
``sum over batches of B * T_batch``, equation ``batch-padding``::

    padded positions = sum over batches of (B * max length in the batch - sum of lengths)

Batches of random sequences pad each one to the longest of B random draws; *bucketing*
sorts the sequences by length first, so each batch holds similar lengths (the batches
are then shuffled, so training still sees them in random order). Host NumPy only.
"""

from __future__ import annotations


import numpy as np

from ..backend import host_rng
from ..validate import check_bool, check_positive_int, check_seed

__all__ = ["pad_sequences", "make_batches", "padding_cost"]


def _check_lengths(lengths):
    if lengths is None:
        raise TypeError("lengths is None; expected a non-empty 1-d array of integers")
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be a non-empty 1-d array of integers, received shape "
                         f"{lengths.shape} and dtype {lengths.dtype}")
    if lengths.min() < 1:
        raise ValueError(f"every length must be >= 1, found {int(lengths.min())}")
    return lengths


def pad_sequences(seqs, pad=0):
    """Stack integer sequences of different lengths into a time-major ``(T, B)`` array.

    Returns ``(ids, lengths)``: ``ids[t, b] = seqs[b][t]`` for ``t < len(seqs[b])`` and
    ``pad`` after it; ``T`` is the longest length.
    """
    if not isinstance(seqs, (list, tuple)) or not seqs:
        raise ValueError(f"seqs must be a non-empty list of sequences, received "
                         f"{type(seqs).__name__} of length {len(seqs) if hasattr(seqs, '__len__') else '?'}")
    arrays = [np.asarray(s) for s in seqs]
    for b, a in enumerate(arrays):
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"seqs[{b}] must be a non-empty 1-d sequence, received shape {a.shape}")
    lengths = np.array([a.size for a in arrays])
    ids = np.full((int(lengths.max()), len(arrays)), pad, dtype=np.result_type(*arrays, np.asarray(pad)))
    for b, a in enumerate(arrays):
        ids[:a.size, b] = a
    return ids, lengths


def make_batches(lengths, B, seed, bucket=False):
    """Split the indices of the sequences into batches of (at most) ``B``.

    ``bucket=False``: a random permutation cut into batches. ``bucket=True``: the
    indices sorted by length (ties in random order) cut into batches, and the batches
    shuffled. Both drawn from ``seed``. Returns a list of index arrays.
    """
    lengths = _check_lengths(lengths)
    B = check_positive_int("B", B)
    bucket = check_bool("bucket", bucket)
    check_seed("seed", seed)
    rng = host_rng(seed)
    order = rng.permutation(lengths.size)
    if bucket:
        order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[i:i + B] for i in range(0, order.size, B)]
    if bucket:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def padding_cost(lengths, batches):
    """``(real, padded)``: the number of real positions and of padded ones over the batches
    (equation ``batch-padding``); the cost of an epoch is ``real + padded``."""
    lengths = _check_lengths(lengths)
    real = padded = 0
    for idx in batches:
        L = lengths[np.asarray(idx)]
        real += int(L.sum())
        padded += int(L.size * L.max() - L.sum())
    return real, padded
