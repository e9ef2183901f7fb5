"""Character (or token) n-gram language models, the baselines of book chapter 13.

A model of order ``n`` predicts a token from the ``n - 1`` tokens before it, from
counts in a training text. Two smoothings keep every probability positive:

* ``"add_k"`` (Laplace for ``k = 1``), equation ``ngram-addk``::

      P(w | h) = (c(h w) + k) / (c(h) + k V)

* ``"kneser_ney"``, interpolated Kneser-Ney (Kneser & Ney 1995; Chen & Goodman 1999),
  equation ``ngram-kn``, recursively from the longest context ``h`` down to the
  uniform distribution ``1 / V``::

      P_n(w | h) = max(c_n(h w) - D_n, 0) / c_n(h) + D_n N_n(h) / c_n(h) * P_{n-1}(w | h')

  where ``h'`` drops the oldest token of ``h``, ``c_n(h) = sum_w c_n(h w)``,
  ``N_n(h)`` is the number of distinct ``w`` with ``c_n(h w) > 0``, and the discount
  ``D_n = n_1 / (n_1 + 2 n_2)`` (``n_r``: how many n-grams of that order have count
  ``r``; ``D_n = 1/2`` when ``n_1 = 0``, so that every token keeps a positive
  probability). At the highest order ``c_n`` is the raw count; at every lower order it is
  the *continuation count*, the number of distinct tokens seen before ``h w``:
  a token that follows many contexts gets a high lower-order probability, one that
  only ever follows a single context ("Francisco" after "San") a low one.
  A context never seen (``c_n(h) = 0``) backs off to ``P_{n-1}(w | h')`` entirely.

Tokens are integers in ``[0, V)`` (e.g. from :class:`labrnn.lab.data.CharVocab`); the
model is NumPy-only (counting is host work).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["NGramLM"]

SMOOTHINGS = ("add_k", "kneser_ney")


class NGramLM:
    """An n-gram model of ``order`` over ``V`` tokens, smoothed by ``smoothing``.

    ``fit(ids)`` counts a training sequence; ``prob(context)`` is the distribution
    ``(V,)`` of the next token after ``context`` (its last ``order - 1`` tokens are
    used; a shorter context uses the lower orders); ``cross_entropy(ids)`` is the
    mean ``-log P`` in nats of every token of ``ids`` after the first, each given the
    tokens before it in ``ids``.
    """

    def __init__(self, order, V, smoothing="kneser_ney", k=1.0):
        for name, v, low in (("order", order, 1), ("V", V, 1)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, received {v!r}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, received {smoothing!r}")
        if smoothing == "add_k" and not (isinstance(k, numbers.Real) and k > 0):
            raise ValueError(f"k must be a positive number, received {k!r}")
        self.order, self.V, self.smoothing, self.k = int(order), int(V), smoothing, float(k)
        self.tables = None

    # ------------------------------------------------------------ counting
    def _check_ids(self, name, ids):
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} must be a 1-d array of integer token ids, received "
                             f"shape {ids.shape} and dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.V):
            raise ValueError(f"{name} must lie in [0, V={self.V}), found values in "
                             f"[{ids.min()}, {ids.max()}]")
        return ids.astype(np.int64)

    def _grams(self, ids, m):
        """Integer codes of every m-gram of ``ids`` (base V, oldest token most significant)."""
        n = ids.size - m + 1
        code = np.zeros(max(n, 0), dtype=np.int64)
        for j in range(m):
            code = code * self.V + ids[j:j + n]
        return code

    def fit(self, ids):
        """Count the training sequence ``ids`` (1-d integers in ``[0, V)``); returns self."""
        ids = self._check_ids("ids", ids)
        if ids.size < self.order:
            raise ValueError(f"ids must hold at least order={self.order} tokens, "
                             f"received {ids.size}")
        V, n = self.V, self.order
        self.tables = {}
        for m in range(1, n + 1):
            grams = self._grams(ids, m)
            if m == n or self.smoothing == "add_k":
                codes, counts = np.unique(grams, return_counts=True)
            else:                       # continuation counts: distinct left neighbours
                longer = np.unique(self._grams(ids, m + 1))
                codes, counts = np.unique(longer % V ** m, return_counts=True)
            self.tables[m] = self._table(codes, counts, m)
        return self

    def _table(self, codes, counts, m):
        """``{context code: counts (V,)}`` plus totals, types and the discount of order m."""
        V = self.V
        ctx, last = codes // V, codes % V
        uctx, inverse = np.unique(ctx, return_inverse=True)
        dense = np.zeros((uctx.size, V), dtype=np.float64)
        dense[inverse, last] = counts
        n1, n2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
        D = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5     # n1 = 0 would give D = 0: no mass left
        return {"index": {int(c): i for i, c in enumerate(uctx)}, "counts": dense,
                "total": dense.sum(axis=1), "types": (dense > 0).sum(axis=1), "D": D}

    def counts(self, context):
        """The count vector ``(V,)`` of the highest order after ``context`` (``order - 1``
        tokens; raw counts, zeros for an unseen context)."""
        self._fitted()
        context = self._check_ids("context", context)
        if context.size != self.order - 1:
            raise ValueError(f"context must hold order - 1 = {self.order - 1} tokens, "
                             f"received {context.size}")
        tab = self.tables[self.order]
        i = tab["index"].get(self._code(context))
        return np.zeros(self.V) if i is None else tab["counts"][i].copy()

    def _code(self, context):
        code = 0
        for t in context:
            code = code * self.V + int(t)
        return code

    def _fitted(self):
        if self.tables is None:
            raise RuntimeError("the model has no counts yet: call fit(ids) first")

    # ------------------------------------------------------------ probabilities
    def prob(self, context=()):
        """Distribution ``(V,)`` of the next token after ``context`` (sums to 1)."""
        self._fitted()
        context = self._check_ids("context", np.asarray(context, dtype=np.int64))
        ctx = context[max(0, context.size - (self.order - 1)):]
        if self.smoothing == "add_k":
            tab = self.tables[ctx.size + 1]
            i = tab["index"].get(self._code(ctx))
            c = np.zeros(self.V) if i is None else tab["counts"][i]
            return (c + self.k) / (c.sum() + self.k * self.V)
        p = np.full(self.V, 1.0 / self.V)                      # order 0: uniform
        for m in range(1, ctx.size + 2):                        # m-gram level, context of m-1
            tab = self.tables[m]
            i = tab["index"].get(self._code(ctx[ctx.size - (m - 1):]))
            if i is None:
                continue                                        # unseen context: back off
            c, total, D = tab["counts"][i], tab["total"][i], tab["D"]
            p = np.maximum(c - D, 0.0) / total + D * tab["types"][i] / total * p
        return p

    def cross_entropy(self, ids):
        """Mean ``-log P(w_t | w_<t)`` in nats over ``t = 1..len(ids)-1`` (the first token
        has no context and is not scored; the first ``order - 1`` use shorter contexts)."""
        self._fitted()
        ids = self._check_ids("ids", ids)
        if ids.size < 2:
            raise ValueError(f"ids must hold at least 2 tokens, received {ids.size}")
        total = 0.0
        cache = {}
        for t in range(1, ids.size):
            ctx = ids[max(0, t - (self.order - 1)):t]
            key = ctx.tobytes()
            p = cache.get(key)
            if p is None:
                p = cache[key] = self.prob(ctx)
            total -= math.log(p[ids[t]])
        return total / (ids.size - 1)
