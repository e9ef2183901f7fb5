"""Shared pieces of the text applications (book chapters 14 and 15): padding, batches, encoder.

* :func:`pad_ids` pads lists of token ids into a time-major ``(T, B)`` integer array
  plus their lengths ``(B,)`` (book chapter 10, equation ``masked-state``);
* :func:`length_batches` groups examples of similar length into batches (bucketing:
  less padding, so fewer wasted recurrent steps), in a seeded order;
* :func:`init_encoder`, :func:`encoder_forward`, :func:`encoder_backward`: one recurrent
  layer, unidirectional (:func:`labrnn.recurrent_forward`) or bidirectional
  (:mod:`labrnn.models.bidirectional`, merge ``"concat"``), over a padded batch with
  ``lengths``, returning every step's output (tagging, many-to-many aligned) or the
  sequence summary (classification, many-to-one, chapter 3);
* :class:`EarlyStopping` keeps the best parameters on a validation metric.

NumPy on the host: these are the training scripts' helpers, not array-API kernels.
"""

from __future__ import annotations

import numpy as np

from ..backend import namespace

from ..models.bidirectional import bidirectional_backward, bidirectional_forward, init_bidirectional
from ..cells import init_cell
from ..models.recurrent import recurrent_backward, recurrent_forward

__all__ = ["pad_ids", "length_batches", "init_encoder", "encoder_forward",
           "encoder_backward", "encoder_width", "EarlyStopping"]


def pad_ids(sequences, pad=0):
    """Time-major padding: ``(ids (T, B) int64, lengths (B,) int64)`` for lists of ids.

    ``T`` is the longest length; position ``t >= lengths[b]`` holds ``pad``. Every
    sequence needs at least one id.
    """
    if not sequences:
        raise ValueError("pad_ids needs at least one sequence")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if lengths.min() < 1:
        raise ValueError(f"sequence {int(np.argmin(lengths))} is empty: every sequence needs "
                         "at least one token")
    ids = np.full((int(lengths.max()), len(sequences)), pad, dtype=np.int64)
    for b, s in enumerate(sequences):
        ids[:len(s), b] = s
    return ids, lengths


def length_batches(lengths, batch_size, rng=None):
    """Index arrays of batches of similar length (bucketing).

    Without ``rng``: sorted by length, in order (deterministic, for evaluation). With a
    ``numpy.random.Generator``: shuffle, sort within windows of 20 batches by length,
    cut into batches and shuffle the batches, so that every epoch differs but each batch
    holds sequences of similar length.
    """
    lengths = np.asarray(lengths)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, received {batch_size}")
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    perm = rng.permutation(len(lengths))
    window = 20 * batch_size
    order = np.concatenate([perm[i:i + window][np.argsort(lengths[perm[i:i + window]],
                                                          kind="stable")]
                            for i in range(0, len(perm), window)])
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def init_encoder(cell, D, H, bidirectional, seed, dtype="float32"):
    """Parameters of one recurrent layer: ``cell`` parameters, or ``fw.*``/``bw.*`` ones."""
    if bidirectional:
        return init_bidirectional(cell, D, H, seed=seed, dtype=dtype)
    return init_cell(cell, D, H, seed=seed, dtype=dtype)


def encoder_width(H, bidirectional):
    """Width of the encoder's output: ``2H`` bidirectional (concatenated), ``H`` otherwise."""
    return 2 * H if bidirectional else H


def encoder_forward(x, params, *, cell, bidirectional, lengths, return_sequences):
    """Run the layer over ``x`` (T, B, D) with ``lengths`` (B,); returns ``(out, cache)``.

    ``return_sequences=True``: ``out`` (T, B, H or 2H), zero at padded steps.
    ``False``: unidirectional, the state at each sequence's own last step (B, H);
    bidirectional, ``[->h_{L_b} ; <-h_1]`` (B, 2H), equation ``bidir-merge``.
    """
    if bidirectional:
        out, (s_fw, s_bw), cache = bidirectional_forward(x, params, None, lengths, cell=cell)
        if not return_sequences:
            out = namespace(x).concat([s_fw[0], s_bw[0]], axis=-1)
        return out, ("bi", (cache, return_sequences))
    out, cache = recurrent_forward(x, params, None, lengths, cell=cell,
                                   return_sequences=return_sequences)
    return out, ("uni", cache)


def encoder_backward(dout, cache):
    """Backward of :func:`encoder_forward`: ``(dx (T, B, D), grads)``."""
    kind, inner = cache
    if kind == "bi":
        inner, return_sequences = inner
        if return_sequences:
            dx, _, grads = bidirectional_backward(dout, inner)
        else:                            # the summary [->h_L ; <-h_1] is the two final states
            H, rest = inner["H"], (None,) * (len(inner["fw"]["inner"].state0) - 1)
            dx, _, grads = bidirectional_backward(
                None, inner, dstate_T=((dout[:, :H],) + rest, (dout[:, H:],) + rest))
    else:
        dx, _, grads = recurrent_backward(dout, inner)
    return dx, grads


class EarlyStopping:
    """Keep the parameters of the best validation score; stop after ``patience`` worse epochs.

    ``update(score, params)`` returns True when training should stop. ``best`` is the best
    score (higher is better), ``best_params`` a copy of the parameters at that epoch and
    ``best_epoch`` its index (0-based count of ``update`` calls).
    """

    def __init__(self, patience):
        if patience < 1:
            raise ValueError(f"patience must be >= 1, received {patience}")
        self.patience, self.best, self.best_params, self.best_epoch = patience, -np.inf, None, -1
        self._epoch, self._bad = -1, 0

    def update(self, score, params):
        """Record one epoch's validation ``score``; True when patience has run out."""
        self._epoch += 1
        if score > self.best:
            self.best, self.best_epoch, self._bad = float(score), self._epoch, 0
            self.best_params = {k: np.array(v, copy=True) for k, v in params.items()}
            return False
        self._bad += 1
        return self._bad >= self.patience
