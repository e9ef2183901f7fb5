"""Checks for the Part III exercises (assignment ``part3_architectures``).

Shapes are time-major as in :mod:`labrnn.models.bidirectional` and :mod:`labrnn.layers.attention`:

* bidirectional outputs ``(T, B, H)``, ``lengths`` an integer array ``(B,)``; the
  merged output is ``(T, B, 2H)`` (``merge="concat"``, forward half first) or
  ``(T, B, H)`` (``merge="sum"``), zero at padded steps ``t >= lengths[b]``;
* beam search over a ``step_fn(prefix) -> log_probs (V,)`` where ``prefix`` is the
  tuple of tokens so far, starting with ``bos``; the best hypothesis is returned as
  ``(tokens, score)``, ``tokens`` without ``bos`` and ending with ``eos`` when it was
  produced, ``score = log p(tokens) / len(tokens)**alpha`` (as :mod:`labrnn.models.decoding`);
* additive attention: query ``q (B, Hq)``, keys ``(T, B, Hk)``, ``W_q (A, Hq)``,
  ``W_k (A, Hk)``, ``v (A,)``, boolean ``mask (T, B)``; the weights ``alpha`` are
  ``(T, B)``, a softmax over the time axis (axis 0) of each sequence's real steps.
"""

from __future__ import annotations

import numpy as np

from ..layers import attention
from ..models import decoding
from ..layers.masking import reverse_padded, sequence_mask
from ._harness import (DEFAULT_TIMEOUT, CheckFailed, call_args, close, compare, expect_array,
                       expect_tuple, first_mismatch, passed, rng_for)

__all__ = ["check_bidirectional_combine", "check_beam_search",
           "check_additive_attention_weights"]


def _lengths(rng, T, B):
    """Lengths (B,) in 1..T with one full-length sequence and (B >= 2, T >= 3) one of
    length 2..T-1, so that reversing within a length differs from reversing T steps."""
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T
    if B >= 2 and T >= 3:
        lengths[1] = rng.integers(2, T)
    return rng.permutation(lengths).astype(np.int64)


# ================================================================== 10. bidirectional merge
def _bidir_inputs(rng, T, B, H):
    # Values everywhere, padded steps included: an RNN run over the padding.
    return rng.normal(size=(T, B, H)), rng.normal(size=(T, B, H)), _lengths(rng, T, B)


def _np_bidir(h_fw, h_bw_reversed, lengths, merge, back="within", zero=True, order="fw,bw"):
    """The merge, with knobs reproducing the usual mistakes (defaults: correct)."""
    T = h_fw.shape[0]
    y_bw = {"within": lambda h: reverse_padded(h, lengths), "flip": lambda h: h[::-1],
            "none": lambda h: h}[back](h_bw_reversed)
    parts = (h_fw, y_bw) if order == "fw,bw" else (y_bw, h_fw)
    y = np.concatenate(parts, axis=-1) if merge == "concat" else parts[0] + parts[1]
    if zero:
        y = y * sequence_mask(lengths, T)[..., None]
    return y


def _bidir_variants(args):
    within = ("each sequence must be reversed within its OWN length L_b, not over all T "
              "steps: y_bw[t, b] = h_bw_reversed[L_b - 1 - t, b] for t < L_b "
              "(labrnn.reverse_padded); reversing the padded axis puts padding at the start "
              "of the shorter sequences")
    back = ("the backward outputs are not reversed back into time order: the backward RNN "
            "read each sequence reversed, so its output number t belongs to time step "
            "L_b - 1 - t (y_bw[t, b] = h_bw_reversed[L_b - 1 - t, b])")
    kw_why = [
        ({"back": "flip"}, f"it matches reversing the whole padded time axis (h[::-1]): {within}"),
        ({"back": "flip", "zero": False},
         f"it matches reversing the whole padded time axis (h[::-1]), and the padded steps "
         f"are not zero: {within}"),
        ({"back": "none"}, back),
        ({"back": "none", "zero": False}, back + "; also set the padded steps to zero"),
        ({"zero": False}, "the padded steps (t >= L_b) are not zero: both directions hold "
                          "values there (the RNNs ran over the padding); multiply by the mask "
                          "labrnn.sequence_mask(lengths, T)[..., None]"),
        ({"order": "bw,fw"}, "the two halves are swapped: merge='concat' puts the forward "
                             "direction first, y_t = [fw_t ; bw_t]"),
        ({"order": "bw,fw", "zero": False}, "the two halves are swapped (forward first: "
                                            "y_t = [fw_t ; bw_t]) and the padded steps are "
                                            "not zero"),
    ]
    if args[3] == "sum":
        kw_why = [(kw, why) for kw, why in kw_why if "order" not in kw]
    return [(_np_bidir(*args, **kw), why) for kw, why in kw_why]


def check_bidirectional_combine(bidirectional_combine, T=6, B=4, H=3, merge=None,
                                seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``bidirectional_combine(h_fw, h_bw_reversed, lengths, merge) -> y``
    (book chapter 9): ``y`` (T, B, 2H) for ``merge="concat"``, (T, B, H) for ``"sum"``.
    ``merge=None`` (the default) checks both merges."""
    name = "bidirectional_combine"
    fn = bidirectional_combine
    rng = rng_for(seed)
    merges = ("concat", "sum") if merge is None else (merge,)
    for merge in merges:
        h_fw, h_bw_rev, lengths = _bidir_inputs(rng, T, B, H)
        args = (h_fw, h_bw_rev, lengths, merge)
        ref = _np_bidir(*args)
        out = call_args(name, fn, args, timeout)
        width = 2 * H if merge == "concat" else H
        hint = ("merge='concat' joins the two directions along the last axis: (T, B, 2H)"
                if merge == "concat" else "merge='sum' adds the two directions: (T, B, H)")
        y = expect_array(f"y (merge={merge!r})", out, (T, B, width), hint)
        compare(f"y (merge={merge!r})", y, ref, _bidir_variants(args))
    shown = " and ".join(repr(m) for m in merges)
    passed(f"{name} is correct: both directions aligned in time, reversed within each length, "
           f"zero at padding (merge={shown}, T={T}, B={B}, H={H}).")


# ================================================================== 11. beam search
class _Model:
    """A tiny deterministic language model over V tokens: the log-probabilities of the
    next token are a fixed random function of the prefix (seeded by ``base`` and the
    prefix itself). Records the prefixes it is asked about."""

    def __init__(self, base, V, bos, eos, scale=1.5, eos_bias=0.0):
        self.base, self.V, self.bos, self.eos = int(base), V, bos, eos
        self.scale, self.eos_bias = scale, eos_bias
        self.table, self.after_eos = {}, False

    def lp(self, prefix):
        key = tuple(prefix)
        if key not in self.table:
            r = np.random.default_rng([self.base, *key])
            z = r.normal(scale=self.scale, size=self.V)
            z[self.eos] += self.eos_bias
            z = z - z.max()
            self.table[key] = z - np.log(np.exp(z).sum())
        return self.table[key].copy()

    def student_step_fn(self):
        def step_fn(prefix):
            try:
                key = tuple(int(t) for t in prefix)
            except TypeError:
                raise TypeError(f"step_fn(prefix): prefix must be a tuple or list of token "
                                f"ids, received {type(prefix).__name__}") from None
            if not key or key[0] != self.bos:
                raise ValueError(f"step_fn(prefix): prefix must start with bos={self.bos}, "
                                 f"received {key}")
            if self.eos in key[1:]:
                self.after_eos = True
            return self.lp(key)
        return step_fn

    def lab_step(self, state, token):
        prefix = state + (int(token),)
        return self.lp(prefix), prefix

    def search(self, beam_width, max_len, alpha):
        return decoding.beam_search(self.lab_step, (), self.bos, self.eos, max_len, beam_width,
                                    alpha=alpha)[0]

    def search_through_eos(self, beam_width, max_len, alpha):
        """The mistake: EOS is an ordinary token, every hypothesis is extended max_len times."""
        beams = [((), 0.0)]
        for _ in range(max_len):
            cand = [(t + (v,), s + lp[v]) for t, s in beams
                    for lp in [self.lp((self.bos,) + t)] for v in range(self.V)]
            cand.sort(key=lambda c: -c[1])
            beams = cand[:beam_width]
        return max(beams, key=lambda c: decoding.length_normalized(c[1], len(c[0]), alpha))

    def search_drop_live(self, beam_width, max_len, alpha):
        """The mistake: the hypotheses still live after max_len steps are dropped, only
        those that produced EOS are ranked. Returns (tokens, log_prob) or None."""
        beams, finished = [((), 0.0)], []
        for _ in range(max_len):
            cand = [(t + (v,), s + lp[v]) for t, s in beams
                    for lp in [self.lp((self.bos,) + t)] for v in range(self.V)]
            cand.sort(key=lambda c: -c[1])
            finished += [c for c in cand[:beam_width] if c[0][-1] == self.eos]
            beams = [c for c in cand[:beam_width] if c[0][-1] != self.eos]
            if not beams:
                break
        if not finished:
            return None
        return max(finished, key=lambda c: decoding.length_normalized(c[1], len(c[0]), alpha))


def _design(rng, V, beam_width, max_len, alpha, live_best=False, tries=300):
    """A model on which the right answer differs from each diagnosed mistake.

    With ``live_best`` the best hypothesis is one still live after ``max_len`` steps
    (it does not end with EOS) while some hypothesis did finish, so that dropping the
    live hypotheses at ``max_len`` gives another answer: every model drawn from the same
    ``rng`` state is the same, so the check catches that mistake every time.
    """
    model = None
    for _ in range(tries):
        bos, eos = (int(i) for i in rng.choice(V, size=2, replace=False))
        bias = float(rng.uniform(-2.0, 0.0) if live_best else rng.uniform(-0.5, 1.0))
        model = _Model(rng.integers(2**32), V, bos, eos, eos_bias=bias)
        ref = model.search(beam_width, max_len, alpha).tokens
        greedy = model.search(1, max_len, alpha).tokens if beam_width > 1 else None
        raw = model.search(beam_width, max_len, 0.0).tokens \
            if alpha != 0 and beam_width > 1 else None
        dropped = model.search_drop_live(beam_width, max_len, alpha)
        if live_best:
            # The best hypothesis is live at max_len, and dropping the live ones gives an
            # answer of its own (greedy decoding often finds the live best here too, and
            # extending through EOS always does: those are caught on the other model).
            if ref[-1] != eos and dropped is not None and dropped[0] != ref \
                    and dropped[0] not in (greedy, raw):
                return model
            continue
        others = [model.search_through_eos(beam_width, max_len, alpha)[0]]
        others += [o for o in (greedy, raw) if o is not None]
        if dropped is not None and dropped[0] != ref:
            others.append(dropped[0])
        if len(set(others)) == len(others) and ref not in others:
            return model
    if not live_best:
        return model                    # the best found: some mistakes may share answers
    raise RuntimeError(f"no test model found for V={V}, beam_width={beam_width}, "
                       f"max_len={max_len}, alpha={alpha} (live_best={live_best}): "
                       "use other sizes")


def _tokens_of(name, value):
    try:
        toks = tuple(int(t) for t in np.asarray(value).reshape(-1))
        if not all(float(t) == float(u) for t, u in zip(np.asarray(value).reshape(-1), toks)):
            raise ValueError
        return toks
    except (TypeError, ValueError):
        raise CheckFailed(f"tokens must be a list of integer token ids; {name} returned "
                          f"{str(value)[:200]}") from None


def _check_beam_once(name, fn, model, beam_width, max_len, alpha, timeout):
    ref = model.search(beam_width, max_len, alpha)
    step_fn = model.student_step_fn()
    out = call_args(name, fn, (step_fn, model.bos, model.eos, beam_width, max_len, alpha),
                    timeout)
    tokens, score = expect_tuple(name, out, ("tokens", "score"))
    if tokens is None:
        raise CheckFailed(f"tokens must be a list of integer token ids; {name} returned None "
                          "in their place")
    toks = _tokens_of(name, tokens)
    setting = f"(beam_width={beam_width}, max_len={max_len}, alpha={alpha:g})"
    if toks != ref.tokens:
        if toks[:1] == (model.bos,) and toks[1:] == ref.tokens:
            raise CheckFailed("tokens start with bos: return only the generated tokens "
                              f"(without bos={model.bos}, with the final eos)")
        if model.eos in toks[:-1]:
            raise CheckFailed(f"tokens {list(toks)} go on after eos={model.eos}: a hypothesis "
                              "that produces eos is finished. Move it out of the beam (into a "
                              "list of finished hypotheses) and do not extend it any more; the "
                              "beam continues with the unfinished ones only")
        if len(toks) > max_len:
            raise CheckFailed(f"tokens {list(toks)} are longer than max_len={max_len}")
        if model.after_eos:
            raise CheckFailed("step_fn was called on a prefix that already contains eos: a "
                              "hypothesis that produces eos is finished and must not be "
                              "extended (it leaves the beam and waits in the finished list)")
        dropped = model.search_drop_live(beam_width, max_len, alpha)
        if (ref.tokens[-1] != model.eos and dropped is not None and toks == dropped[0]
                and toks != model.search(beam_width, max_len, 0.0).tokens):
            raise CheckFailed(f"tokens {list(toks)} are the best of the hypotheses that produced "
                              f"eos, but the best answer {list(ref.tokens)} was still live (in "
                              f"the beam, without eos) after max_len={max_len} steps: the "
                              "hypotheses still live after max_len steps count as finished too; "
                              "add them to the finished list before ranking")
        if beam_width > 1 and toks == model.search(1, max_len, alpha).tokens:
            raise CheckFailed(f"tokens {list(toks)} are the greedy answer (the single most "
                              f"likely token at every step): keep the beam_width={beam_width} "
                              "best extensions of ALL live hypotheses at every step, not just "
                              "the best one")
        if alpha != 0 and toks == model.search(beam_width, max_len, 0.0).tokens:
            raise CheckFailed(f"tokens {list(toks)} win on the raw log-probability: finished "
                              "hypotheses are ranked by the length-normalised score "
                              f"log p / len**alpha (alpha={alpha:g}); without it the shortest "
                              "hypotheses win merely by being short")
        exp = list(ref.tokens)
        raise CheckFailed(f"tokens are wrong {setting}: received {list(toks)}, expected {exp} "
                          f"(score {ref.score:.6g}). Prune the candidates by their summed "
                          "log-probability, beam_width of them per step; rank the finished "
                          "ones (and those still live after max_len steps) by log p / "
                          "len**alpha")
    try:
        s = float(np.asarray(score).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"score must be one number; {name} returned {str(score)[:200]}") \
            from None
    if not close(s, ref.score):
        n = len(ref.tokens)
        for wrong, why in (
                (ref.log_prob, "it is the raw log-probability log p; the score is "
                               f"log p / len**alpha with len = {n} tokens"),
                (decoding.length_normalized(ref.log_prob, n + 1, alpha),
                 "it divides by (len + 1)**alpha: len counts the generated tokens (eos "
                 "included, bos not)"),
                (decoding.length_normalized(ref.log_prob, n - 1, alpha) if n > 1 else None,
                 "it divides by (len - 1)**alpha: len counts the generated tokens, eos "
                 "included"),
                (ref.log_prob * n ** alpha, "it multiplies by len**alpha; divide: "
                                            "log p / len**alpha")):
            if wrong is not None and close(s, wrong):
                raise CheckFailed(f"the tokens are right but the score is wrong: {why}")
        raise CheckFailed(f"the tokens are right but the score is wrong {setting}: received "
                          f"{s:.6g}, expected log p / len**alpha = {ref.log_prob:.6g} / "
                          f"{n}**{alpha:g} = {ref.score:.6g}")


def check_beam_search(beam_search, V=4, beam_width=2, max_len=5, alpha=1.0, seed=None,
                      timeout=DEFAULT_TIMEOUT):
    """Check ``beam_search(step_fn, bos, eos, beam_width, max_len, alpha) -> (tokens, score)``
    (book chapter 10) on tiny models designed so that greedy decoding, ranking by the raw
    log-probability and extending past EOS all give other answers; compared with
    :func:`labrnn.models.decoding.beam_search`."""
    name = "beam_search"
    rng = rng_for(seed)
    # (with one beam, a finished hypothesis ends the search: nothing is live beside it)
    for live_best in ((False, True) if beam_width > 1 else (False,)):
        model = _design(rng, V, beam_width, max_len, alpha, live_best=live_best)
        _check_beam_once(name, beam_search, model, beam_width, max_len, alpha, timeout)
    passed(f"{name} is correct: the best hypothesis and its length-normalised score match "
           f"(V={V}, beam_width={beam_width}, max_len={max_len}, alpha={alpha:g}).")


# ================================================================== 12. additive attention
def _attn_inputs(rng, T, B, Hq, Hk, A, large=False):
    if large:        # redraw until some score is far beyond exp's range (exp(710) = inf)
        for _ in range(100):
            args = _attn_draw(rng, T, B, Hq, Hk, A, large)
            q, keys, W_q, W_k, v, _ = args
            if (np.tanh(keys @ W_k.T + (q @ W_q.T)[None]) @ v).max() > 800:
                break
        return args
    return _attn_draw(rng, T, B, Hq, Hk, A, large)


def _attn_draw(rng, T, B, Hq, Hk, A, large):
    q = rng.normal(size=(B, Hq))
    keys = rng.normal(size=(T, B, Hk))
    W_q = rng.normal(scale=0.7, size=(A, Hq))
    W_k = rng.normal(scale=0.7, size=(A, Hk))
    v = rng.normal(size=A)
    if large:        # saturated tanh, scores in the thousands: exp(e) overflows
        W_q, W_k = 10 * W_q, 10 * W_k
        v = v * (3000.0 / np.abs(v).sum())
        mask = np.ones((T, B), dtype=bool)
    else:
        mask = sequence_mask(_lengths(rng, T, B), T)
    return q, keys, W_q, W_k, v, mask


def _attn_padded_dominant(rng, T, B, Hq, Hk, A, tries=200):
    """Inputs whose largest score in some sequence is at a PADDED step, 800+ above every
    real step of that sequence (None if the sizes allow no padding): a softmax that takes
    the max over all steps then underflows to 0 / 0 = nan at the real steps."""
    for _ in range(tries):
        q, keys, W_q, W_k, v, mask = _attn_draw(rng, T, B, Hq, Hk, A, large=False)
        if mask.all():
            return None
        v = v * (3000.0 / np.abs(v).sum())
        keys = keys.copy()
        for t, b in zip(*np.nonzero(~mask)):
            want = 30.0 * np.sign(v) - q[b] @ W_q.T            # tanh(.) close to sign(v)
            keys[t, b] = np.linalg.lstsq(W_k, want, rcond=None)[0]
        e = np.tanh(keys @ W_k.T + (q @ W_q.T)[None]) @ v
        pad_max = np.where(mask, -np.inf, e).max(axis=0)
        real_max = np.where(mask, e, -np.inf).max(axis=0)
        if np.any(pad_max > real_max + 800):
            return q, keys, W_q, W_k, v, mask
    return None


def _np_attn(q, keys, W_q, W_k, v, mask, masking="inf", axis=0, use_tanh=True):
    pre = keys @ W_k.T + (q @ W_q.T)[None]
    e = (np.tanh(pre) if use_tanh else pre) @ v                       # (T, B)
    if masking == "inf":
        e = np.where(mask, e, -np.inf)
    e = e - e.max(axis=axis, keepdims=True)
    w = np.exp(e)
    alpha = w / w.sum(axis=axis, keepdims=True)
    if masking == "zero_after":
        alpha = alpha * mask
    return alpha


def _attn_variants(args):
    def axis_why(extra=""):
        return ("the softmax runs over the batch axis: alpha is (T, B), time first as in "
                "labrnn.layers.attention, so each sequence's weights are a column alpha[:, b]; take "
                f"the max and the sum over axis=0 (time){extra}")
    return [(_np_attn(*args, **kw), why) for kw, why in (
        ({"masking": "ignore"}, "the mask is ignored: padded steps (mask False) must get weight "
                                "exactly 0; set their scores to -inf (np.where(mask, e, -np.inf)) "
                                "BEFORE the softmax"),
        ({"masking": "zero_after"}, "the padded steps are set to 0 after the softmax, so the "
                                    "weights of a sequence no longer sum to 1: mask the scores "
                                    "(-inf at padded steps) before the softmax instead, or "
                                    "renormalise"),
        ({"axis": 1}, axis_why()),
        ({"axis": 1, "masking": "ignore"}, axis_why(", and mask the padded steps")),
        ({"axis": 1, "masking": "zero_after"}, axis_why(", and mask the scores before it")),
        ({"use_tanh": False}, "the scores lack the tanh: e_t = v^T tanh(W_q q + W_k k_t)"),
    )]


def check_additive_attention_weights(additive_attention_weights, T=5, B=3, Hq=4, Hk=6, A=7,
                                     seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``additive_attention_weights(q, keys, W_q, W_k, v, mask) -> alpha (T, B)``
    (book chapter 11), also with scores in the thousands (the softmax must subtract the max)."""
    name = "additive_attention_weights"
    fn = additive_attention_weights
    rng = rng_for(seed)
    hint = ("alpha is time-major like keys: alpha[t, b] is the weight of keys[t, b]"
            if B != T else "")
    for case in ("plain", "large", "padded_max"):
        if case == "padded_max":
            args = _attn_padded_dominant(rng, T, B, Hq, Hk, A)
            if args is None:                  # no padding possible at these sizes
                continue
        else:
            args = _attn_inputs(rng, T, B, Hq, Hk, A, case == "large")
        large = case != "plain"
        q, keys, W_q, W_k, v, mask = args
        _, ref, _ = attention.attention_forward(q, keys, {"W_q": W_q, "W_k": W_k, "v": v},
                                                "additive", mask)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out = call_args(name, fn, args, timeout)
        if large and hasattr(out, "shape") and tuple(out.shape) == (T, B):
            bad = ~np.isfinite(np.asarray(out, dtype=float))
            if bad.any() and case == "padded_max":
                e = np.tanh(keys @ W_k.T + (q @ W_q.T)[None]) @ v
                raise CheckFailed(
                    f"alpha holds {'nan' if np.isnan(np.asarray(out, float)).any() else 'inf'} "
                    f"when a PADDED step has the largest score (here up to "
                    f"{np.where(mask, -np.inf, e).max():.0f} at padding, the real steps of that "
                    f"sequence far lower): the max subtracted before exp is taken over the "
                    "padded steps too, so every real step underflows to exp(-1000) = 0 and "
                    "the softmax is 0 / 0. Mask first, then take the max over the real steps: "
                    "e = np.where(mask, e, -np.inf); e - e.max(axis=0, keepdims=True)")
            if bad.any():
                e = np.tanh(keys @ W_k.T + (q @ W_q.T)[None]) @ v
                raise CheckFailed(
                    f"alpha holds {'nan' if np.isnan(np.asarray(out, float)).any() else 'inf'} "
                    f"when the scores are large (here between {e.min():.0f} and {e.max():.0f}): "
                    "exp(e) overflows (exp(710) is inf). Subtract each sequence's largest score "
                    "before exp, e - e.max(axis=0, keepdims=True): the softmax does not change")
        alpha = expect_array("alpha", out, (T, B), hint)
        if first_mismatch(alpha, ref) is None:
            continue
        for wrong, why in _attn_variants(args):
            if close(alpha, wrong):
                raise CheckFailed(f"alpha is wrong: {why}")
        sums = alpha.sum(axis=0)
        if not np.allclose(sums, 1.0):
            b = int(np.argmax(~np.isclose(sums, 1.0)))
            raise CheckFailed(f"alpha is wrong: the weights of sequence b={b} sum to "
                              f"{sums[b]:.6g} over time; a softmax over axis 0 sums to 1")
        compare("alpha", alpha, ref)
    passed(f"{name} is correct: the weights match, zero at padded steps, stable for large "
           f"scores (T={T}, B={B}, Hq={Hq}, Hk={Hk}, A={A}).")
