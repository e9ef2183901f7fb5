"""Decoding a sequence from any decoder: greedy, sampling, beam search (book chapter 10).

Every strategy talks to the decoder through ONE interface, so it works for
an Elman, LSTM or GRU decoder, with or without attention::

    log_probs, state = step_fn(state, token)

``token`` is the previous output (an ``int``; ``bos`` at the first step),
``state`` whatever the decoder carries (opaque to the search), and
``log_probs`` a 1-d array (V,) of log-probabilities of the next token (any
array library; it is copied to the host, where the search runs). Decoding
stops at ``eos`` (which is kept in the output) or after ``max_len`` tokens.

* **greedy**: ``y_t = argmax_v log p(v | y_<t)``;
* **sampling**: ``y_t ~ softmax(log p / temperature)`` restricted to the
  ``top_k`` most likely tokens; seeded, so a seed reproduces the sequence;
  ``temperature -> 0`` tends to greedy;
* **beam search** keeps the ``beam_width`` most likely prefixes at every
  step and ranks finished hypotheses by the length-normalised score,
  equation ``seq2seq-beam``::

      score(y) = log p(y) / |y|^alpha          (alpha = 0: raw log-probability)

  which stops short hypotheses from winning merely by being short. A beam
  as wide as the number of possible prefixes makes it an exhaustive search.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..backend import host_rng, to_numpy
from ..validate import check_int, check_number, check_positive, check_seed

__all__ = ["Hypothesis", "greedy_decode", "sample_decode", "beam_search", "length_normalized"]


@dataclass(frozen=True)
class Hypothesis:
    """A decoded sequence: ``tokens`` (ending with ``eos`` if it was produced),
    ``log_prob`` (sum of the tokens' log-probabilities) and ``score`` (the
    length-normalised score of equation ``seq2seq-beam``)."""

    tokens: tuple
    log_prob: float
    score: float


def length_normalized(log_prob, length, alpha=1.0):
    """Equation ``seq2seq-beam``: ``log_prob / length**alpha`` (``length >= 1``)."""
    return log_prob / (length ** alpha) if length > 0 else log_prob


def _check_int(name, value, low):
    return check_int(name, value, low=low)


def _log_probs(step_fn, state, token, V=None):
    out = step_fn(state, token)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError("step_fn(state, token) must return the pair (log_probs, state)")
    lp, state = out
    lp = np.asarray(to_numpy(lp), dtype=np.float64)
    if lp.ndim == 2 and lp.shape[0] == 1:
        lp = lp[0]                              # a batch of one
    if lp.ndim != 1 or lp.size == 0 or (V is not None and lp.size != V):
        raise ValueError(f"step_fn must return log_probs of shape (V,)"
                         f"{'' if V is None else f' with V={V}'}, received {lp.shape}")
    if np.isnan(lp).any() or (lp > 1e-9).any():
        raise ValueError("step_fn returned log_probs with NaN or positive entries; "
                         "return log-probabilities (e.g. labrnn.log_softmax(logits))")
    return lp, state


def _check_common(max_len, step_fn=None, bos=0, eos=0, alpha=1.0):
    """The arguments every strategy shares: ``step_fn`` callable, ``bos``/``eos`` token ids
    (``bos`` an integer >= 0; ``eos`` an integer, a negative one or ``None`` never produced,
    so decoding runs ``max_len`` steps), ``max_len >= 1``, ``alpha`` finite and ``>= 0``."""
    if not callable(step_fn):
        raise TypeError(f"step_fn must be a callable step_fn(state, token) -> (log_probs, state), "
                        f"received {type(step_fn).__name__}")
    check_int("bos", bos, low=0)
    if eos is not None:
        check_int("eos", eos)
    check_number("alpha", alpha, low=0)
    return _check_int("max_len", max_len, 1)


def greedy_decode(step_fn, state, bos, eos, max_len, alpha=1.0):
    """The most likely token at every step: ``y_t = argmax log p(. | y_<t)``. Returns a :class:`Hypothesis`."""
    max_len = _check_common(max_len, step_fn, bos, eos, alpha)
    tokens, total, token = [], 0.0, int(bos)
    for _ in range(max_len):
        lp, state = _log_probs(step_fn, state, token)
        token = int(np.argmax(lp))
        tokens.append(token)
        total += float(lp[token])
        if token == eos:
            break
    return Hypothesis(tuple(tokens), total, length_normalized(total, len(tokens), alpha))


def sample_decode(step_fn, state, bos, eos, max_len, seed, temperature=1.0, top_k=None,
                  alpha=1.0):
    """Sample ``y_t ~ softmax(log p / temperature)`` over the ``top_k`` most likely tokens.

    ``seed`` (int or Generator) makes the draw reproducible; ``temperature > 0``
    (``< 1`` sharpens, ``> 1`` flattens, ``-> 0`` gives greedy); ``top_k=None``
    keeps every token. ``log_prob`` of the result is under the model itself
    (temperature 1, no truncation). Returns a :class:`Hypothesis`.
    """
    max_len = _check_common(max_len, step_fn, bos, eos, alpha)
    temperature = check_positive("temperature", temperature)
    if top_k is not None:
        top_k = _check_int("top_k", top_k, 1)
    check_seed("seed", seed)
    rng = host_rng(seed)
    tokens, total, token = [], 0.0, int(bos)
    for _ in range(max_len):
        lp, state = _log_probs(step_fn, state, token)
        z = lp / temperature
        if top_k is not None and top_k < z.size:
            cut = np.sort(z)[-top_k]
            z = np.where(z >= cut, z, -np.inf)
        z = z - z.max()
        p = np.exp(z)
        p /= p.sum()
        token = int(rng.choice(p.size, p=p))
        tokens.append(token)
        total += float(lp[token])
        if token == eos:
            break
    return Hypothesis(tuple(tokens), total, length_normalized(total, len(tokens), alpha))


def beam_search(step_fn, state, bos, eos, max_len, beam_width, n_best=1, alpha=1.0):
    """Beam search with length normalisation (equation ``seq2seq-beam``).

    At every step each of the (at most ``beam_width``) live prefixes is
    extended by every token; the ``beam_width`` most likely extensions
    survive; those ending in ``eos`` are finished and leave the beam. After
    ``max_len`` steps unfinished prefixes count as finished. Finished
    hypotheses are ranked by ``log p / length**alpha``.

    Returns the list of the ``n_best`` best :class:`Hypothesis`, best first
    (fewer if fewer exist). ``beam_width=1`` is greedy decoding.
    """
    max_len = _check_common(max_len, step_fn, bos, eos, alpha)
    bos = int(bos)
    if isinstance(beam_width, numbers.Integral) and not isinstance(beam_width, bool) \
            and beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, received {beam_width}: an empty "
                         "beam holds no hypothesis")
    beam_width = _check_int("beam_width", beam_width, 1)
    n_best = _check_int("n_best", n_best, 1)
    beams = [((), 0.0, state)]
    finished = []
    V = None
    for _ in range(max_len):
        candidates = []
        for toks, total, st in beams:
            lp, new_st = _log_probs(step_fn, st, toks[-1] if toks else bos, V)
            V = lp.size
            for v in range(V):
                if lp[v] > -np.inf:
                    candidates.append((toks + (v,), total + float(lp[v]), new_st))
        # stable sort: among equal log-probabilities the earlier beam / smaller token wins,
        # as argmax does, so beam_width=1 reproduces greedy decoding exactly
        candidates.sort(key=lambda c: -c[1])
        beams = []
        for c in candidates[:beam_width]:
            (finished if c[0][-1] == eos else beams).append(c)
        if not beams:
            break
    finished.extend(beams)
    hyps = [Hypothesis(t, lp, length_normalized(lp, len(t), alpha)) for t, lp, _ in finished]
    hyps.sort(key=lambda h: -h.score)
    return hyps[:n_best]
