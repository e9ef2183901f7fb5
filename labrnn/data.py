"""Small datasets and synthetic tasks, all offline and seeded.

Every generator takes a ``seed`` (or a ``numpy.random.Generator``) and
returns host NumPy arrays in the time-major convention; move them to a
backend with :func:`labrnn.from_numpy`.
"""

from __future__ import annotations

import numpy as np

from .backend import host_rng


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
        return "".join(self.chars[int(i)] for i in np.asarray(ids).ravel())

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
