"""Small datasets and synthetic tasks, all offline and seeded.

Every generator takes a ``seed`` (or a ``numpy.random.Generator``) and
returns host NumPy arrays in the time-major convention; move them to a
backend with :func:`labrnn.from_numpy`.
"""

from __future__ import annotations

import numpy as np

from ..backend import host_rng


class CharVocab:
    """A character vocabulary: sorted distinct characters of a text.

    ``encode("abc") -> int array``; ``decode(ints) -> str``; ``len(vocab)``.
    """

    def __init__(self, text):
        if not text:
            raise ValueError("cannot build a vocabulary from an empty text")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the vocabulary {self.chars}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        ids = np.asarray(ids).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"ids must lie in [0, {len(self.chars)}), found "
                             f"[{ids.min()}, {ids.max()}]")
        return "".join(self.chars[int(i)] for i in ids)

    def __repr__(self):
        return f"CharVocab({''.join(self.chars)!r})"


def one_hot(ids, depth):
    """One-hot float64 encoding: integer array of any shape -> shape + (depth,)."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be integers, received dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= depth):
        raise ValueError(f"ids must lie in [0, {depth}), found [{ids.min()}, {ids.max()}]")
    return np.eye(depth)[ids]


def next_char_batch(text, vocab=None):
    """Inputs and targets for next-character prediction on one text.

    Returns ``(x, y, vocab)`` with ``x`` one-hot ``(T, 1, V)`` for characters
    ``0..T-1`` and ``y`` integer ``(T, 1)`` for characters ``1..T``.
    """
    vocab = vocab or CharVocab(text)
    ids = vocab.encode(text)
    if len(ids) < 2:
        raise ValueError("next-character prediction needs a text of at least 2 characters")
    return one_hot(ids[:-1], len(vocab))[:, None, :], ids[1:, None], vocab


def adding_problem(T, B, seed):
    """The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015).

    Each input step has two features: a random number in [0, 1) and a marker
    that is 1 at exactly two positions (one in each half of the sequence) and
    0 elsewhere. The target is the sum of the two marked numbers. Predicting
    0.5 + 0.5 = 1 always gives a mean squared error of about 1/6 ~ 0.167;
    beating it requires remembering a number across up to T steps.

    Returns ``x (T, B, 2)`` and ``y (B, 1)``.
    """
    if T < 2:
        raise ValueError(f"the adding problem needs T >= 2, received {T}")
    rng = host_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(T, B))
    marks = np.zeros((T, B))
    half = T // 2
    first = rng.integers(0, half, size=B)
    second = rng.integers(half, T, size=B)
    marks[first, np.arange(B)] = 1.0
    marks[second, np.arange(B)] = 1.0
    x = np.stack([values, marks], axis=-1)
    y = (values[first, np.arange(B)] + values[second, np.arange(B)])[:, None]
    return x, y


# ---- Part I, chapter 3: one tiny task per input/output shape ---------------------------

def _check_sizes(**sizes):
    for name, (value, low) in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, received {value!r}")


def contains_run_task(T, B, seed, run_length=3):
    """Many-to-one: does a random bit sequence contain ``run_length`` ones in a row?

    With ``T = 10`` and ``run_length = 3`` about half of all sequences do, so
    guessing the majority class gives about 50 %. Returns ``x (T, B, 1)``
    float bits and ``y (B, 1)`` float labels (1.0 = contains the run).
    """
    _check_sizes(T=(T, 1), B=(B, 1), run_length=(run_length, 1))
    bits = host_rng(seed).integers(0, 2, size=(T, B))
    run = np.zeros(B, dtype=np.int64)          # length of the run of ones ending at t
    longest = np.zeros(B, dtype=np.int64)
    for t in range(T):
        run = np.where(bits[t] == 1, run + 1, 0)
        longest = np.maximum(longest, run)
    return bits[..., None].astype(np.float64), (longest >= run_length).astype(np.float64)[:, None]


def running_parity_task(T, B, seed):
    """Many-to-many, aligned: tag every step with the parity of the bits so far.

    ``y_t = x_1 XOR x_2 XOR ... XOR x_t``: one label per input step, and each
    label depends on the whole prefix. Returns ``x (T, B, 1)`` and ``y (T, B, 1)``,
    both float 0/1.
    """
    _check_sizes(T=(T, 1), B=(B, 1))
    bits = host_rng(seed).integers(0, 2, size=(T, B))
    parity = np.cumsum(bits, axis=0) % 2
    return bits[..., None].astype(np.float64), parity[..., None].astype(np.float64)


def sine_from_phase_task(T, B, seed, period=10.0):
    """One-to-many: from one vector, the phase, generate a whole sine wave.

    The phase ``phi`` is uniform in [0, 2 pi) and is given as the vector
    ``v = (cos phi, sin phi)``; the target sequence is
    ``y_t = sin(phi + 2 pi t / period)`` for ``t = 0, ..., T-1``.
    Returns ``v (B, 2)`` and ``y (T, B, 1)``.
    """
    _check_sizes(T=(T, 1), B=(B, 1))
    if not period > 0:
        raise ValueError(f"period must be positive, received {period!r}")
    phi = host_rng(seed).uniform(0.0, 2 * np.pi, size=B)
    v = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    t = np.arange(T)[:, None]
    return v, np.sin(phi[None, :] + 2 * np.pi * t / period)[..., None]


def reverse_task(L, B, V, seed):
    """Many-to-many, unaligned: read ``L`` random symbols, then emit them in reverse order.

    Output step ``t`` needs input step ``L - 1 - t``: no output can be produced
    at the moment its input arrives, which is what an encoder-decoder is for.
    Returns ``x`` one-hot ``(L, B, V)`` and integer targets ``y (L, B)`` with
    ``y[t] = ids[L - 1 - t]``.
    """
    _check_sizes(L=(L, 1), B=(B, 1), V=(V, 2))
    ids = host_rng(seed).integers(0, V, size=(L, B))
    return one_hot(ids, V), np.ascontiguousarray(ids[::-1])
