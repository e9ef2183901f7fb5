"""The handwritten digits of scikit-learn and their English names (book chapter 19).

The images are scikit-learn's bundled copy of the UCI "Optical Recognition of
Handwritten Digits" test set (Alpaydin & Kaynak 1998): 1797 images of 8 x 8
pixels, each pixel a count 0..16, labels 0..9. They ship inside the
``scikit-learn`` package (``sklearn.datasets.load_digits``), so nothing is
downloaded. :func:`load_split` gives a fixed stratified split, 30 % held out
for testing (``random_state=0``), pixels scaled to ``[0, 1]``.

The targets are the digits' English names spelled character by character,
:data:`DIGIT_NAMES`, over the vocabulary :data:`NAME_VOCAB`: ``<bos>``,
``<eos>`` and the 15 letters that occur in the names.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIGIT_NAMES", "NAME_VOCAB", "BOS", "EOS", "load_split", "encode_names",
           "decode_name", "name_tokens"]

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
NAME_VOCAB = ("<bos>", "<eos>") + tuple(sorted(set("".join(DIGIT_NAMES))))
BOS, EOS = 0, 1
_INDEX = {c: i for i, c in enumerate(NAME_VOCAB)}


def load_split(test_size=0.3, seed=0):
    """The stratified train/test split: a dict of host arrays.

    ``X_train`` (N, 64) and ``X_test`` (M, 64) float64 in ``[0, 1]`` (pixel
    count / 16, rows of the 8 x 8 image), ``y_train``, ``y_test`` int64
    labels. Needs scikit-learn (the data ship with it).
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:           # pragma: no cover - scikit-learn is a book dependency
        raise ImportError("the digits data ship with scikit-learn: pip install scikit-learn") from exc
    d = load_digits()
    X = d.data.astype(np.float64) / 16.0
    y = d.target.astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, random_state=seed,
                                          stratify=y)
    return {"X_train": Xtr, "y_train": ytr, "X_test": Xte, "y_test": yte}


def name_tokens(name):
    """Token ids of a name, EOS appended: ``"one" -> [o, n, e, <eos>]``."""
    unknown = sorted(set(name) - set(_INDEX) - {"<"})
    if unknown or not name:
        raise ValueError(f"name must be a non-empty string of the letters in NAME_VOCAB, "
                         f"received {name!r}")
    return [_INDEX[c] for c in name] + [EOS]


def encode_names(labels):
    """Targets for digit ``labels`` (B,): ``(tgt (T, B) int64 padded with EOS, lengths (B,))``."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or \
            (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"labels must be a 1-d array of digits 0..9, received {labels!r}")
    seqs = [name_tokens(DIGIT_NAMES[int(k)]) for k in labels]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    T = int(lengths.max()) if len(seqs) else 1
    tgt = np.full((T, len(seqs)), EOS, dtype=np.int64)
    for b, s in enumerate(seqs):
        tgt[:len(s), b] = s
    return tgt, lengths


def decode_name(tokens):
    """The string of a token sequence, stopping at (and dropping) ``<eos>``."""
    out = []
    for t in tokens:
        t = int(t)
        if t == EOS:
            break
        if not 0 <= t < len(NAME_VOCAB):
            raise ValueError(f"token {t} is outside the vocabulary of {len(NAME_VOCAB)} symbols")
        out.append(NAME_VOCAB[t] if t != BOS else "<bos>")
    return "".join(out)
