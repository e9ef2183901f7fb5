"""Checks for the Parts IV and V exercises (assignment ``part45_applications``).

Eight functions from the application chapters, time-major as in ``labrnn``:

1. ``masked_sequence_loss(logits (T, B, V), targets (T, B), mask (T, B)) -> (loss, dlogits)``:
   the mean of ``-log softmax(logits)[target]`` over the real positions and its gradient
   (language models, chapter 13; reference :func:`labrnn.training.losses.softmax_cross_entropy`);
2. ``rmsprop_update(param, grad, state, lr, rho, eps) -> (new_param, new_state)``: one
   RMSProp step, ``v <- rho v + (1 - rho) g^2``, ``param <- param - lr g / (sqrt(v) + eps)``;
3. ``top_k_sample(logits (V,), k, temperature, rng) -> int``: keep every logit at least as
   large as the k-th largest, softmax at a temperature, draw with ``rng`` (as
   :func:`labrnn.models.decoding.sample_decode`);
4. ``token_accuracy(pred (T, B), gold (T, B), lengths (B,)) -> float``: the per-token
   accuracy over the real positions of a padded batch (chapter 15);
5. ``seasonal_naive_errors(series (N,), test_start, horizons, season=12) -> {h: (rmse, mae)}``:
   the seasonal-naive forecast from every origin of the test period and its errors by
   horizon (chapter 16; :mod:`labrnn.lab.forecast`);
6. ``masked_attention_context(query (B, H), keys (S, B, H), values (S, B, H), mask (S, B),
   W_q, W_k, v) -> (context (B, H), alpha (S, B))``: additive attention with a mask
   (chapter 17; :func:`labrnn.layers.attention.attention_forward` for the weights);
7. ``speed_and_gradient(h (H,), W (H, H), b (H,)) -> (q, grad (H,))``: the speed
   ``q(h) = 1/2 ||F(h) - h||^2`` of ``F(h) = tanh(W h + b)`` and its gradient
   ``(J - I)^T (F(h) - h)`` (fixed points, chapter 20);
8. ``ctc_alpha(log_probs (T, C), target (S,), blank=0) -> alpha (T, 2S + 1)``: the CTC
   forward variables in log space (chapter 18; :func:`labrnn.training.ctc.ctc_alpha`), checked
   also against the sum over every path (:func:`labrnn.training.ctc.ctc_brute_force`).

``labrnn`` has no RMSProp, top-k sampler (as a function of one distribution), token
accuracy or fixed-point speed: their references are written here.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..lab import forecast
from ..layers import attention
from ..training import ctc, losses
from ._harness import (DEFAULT_TIMEOUT, CheckFailed, call, call_args, close, compare,
                       expect_array, expect_tuple, first_mismatch, passed, rng_for)

__all__ = ["check_masked_sequence_loss", "check_rmsprop_update", "check_top_k_sample",
           "check_token_accuracy", "check_seasonal_naive_errors",
           "check_masked_attention_context", "check_speed_and_gradient", "check_ctc_alpha",
           "rmsprop_reference", "top_k_probabilities", "token_accuracy_reference",
           "seasonal_naive_errors_reference", "speed_and_gradient_reference"]


def _number(name, what, value):
    """``value`` as a float (a Python number or a 0-d / one-element array), else CheckFailed."""
    if value is None:
        raise CheckFailed(f"{what} is None (did you forget the `return` statement?)")
    try:
        arr = np.asarray(value, dtype=float)
        if arr.size != 1:
            raise TypeError
        return float(arr.reshape(()))
    except (TypeError, ValueError):
        shape = f" of shape {np.shape(value)}" if hasattr(value, "shape") else ""
        raise CheckFailed(f"{what} must be a single number (a float or a 0-d array); {name} "
                          f"returned {type(value).__name__}{shape}") from None


# ================================================================== 1. masked sequence loss
def _np_seq_loss(logits, targets, mask, count="mask", use_mask=True, mask_grad=True):
    m = np.asarray(mask, dtype=float)
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    w = m if use_mask else np.ones_like(m)
    n = {"mask": w.sum(), "all": m.size}[count]
    loss = (nll * w).sum() / n
    onehot = np.eye(logits.shape[-1])[targets]
    dl = (np.exp(logp) - onehot) * ((w if mask_grad else np.ones_like(w)) / n)[..., None]
    return loss, dl


def _seq_loss_variants(args, k):
    _, _, mask = args
    cnt, allp = int(np.asarray(mask).sum()), np.asarray(mask).size
    return [
        (_np_seq_loss(*args, use_mask=False)[k],
         "the mask is ignored: the padded positions (mask == 0) are counted. Multiply each "
         "position's loss by the mask and divide by mask.sum()"),
        (_np_seq_loss(*args, count="all")[k],
         f"it is divided by T*B = {allp}, the number of ALL positions; divide by the number "
         f"of real positions, mask.sum() = {cnt}"),
        (_np_seq_loss(*args, mask_grad=False)[k],
         "the gradient is not masked: dlogits must be 0 at the padded positions (mask == 0), "
         "which do not count in the loss; multiply by mask[..., None]"),
        (_np_seq_loss(*args, count="all", mask_grad=False)[k],
         f"the gradient is not masked and is divided by T*B = {allp}: dlogits is "
         f"(softmax - onehot) * mask / mask.sum() (mask.sum() = {cnt})"),
    ]


def _seq_loss_inputs(rng, T, B, V, boolean=False):
    logits = rng.normal(scale=2.0, size=(T, B, V))
    targets = rng.integers(0, V, size=(T, B))
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T
    if B > 1:
        lengths[-1] = max(1, T - 2)
    mask = np.arange(T)[:, None] < lengths[None, :]
    return logits, targets, (mask if boolean else mask.astype(float))


def _seq_loss_call(name, fn, args, timeout):
    out = call_args(name, fn, args, timeout)
    loss, dl = expect_tuple(name, out, ("loss", "dlogits"))
    return _number(name, "the loss", loss), dl


def check_masked_sequence_loss(masked_sequence_loss, T=5, B=3, V=6, boolean_mask=False,
                               seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``masked_sequence_loss(logits, targets, mask) -> (loss, dlogits)``: the mean
    softmax cross-entropy over the real positions (``mask`` 1/True) and its gradient
    ``(softmax - onehot) * mask / mask.sum()``; also with logits around 1000."""
    name = "masked_sequence_loss"
    rng = rng_for(seed)
    args = _seq_loss_inputs(rng, T, B, V, boolean_mask)
    logits, targets, mask = args
    ref_loss, ref_dl = losses.softmax_cross_entropy(logits, targets, np.asarray(mask, float))
    loss, dl = _seq_loss_call(name, masked_sequence_loss, args, timeout)
    if not math.isfinite(loss):
        raise CheckFailed(f"the loss is {loss}: it must be a finite number")
    compare("the loss", np.asarray(loss), np.asarray(float(ref_loss)),
            [(np.asarray(v), why) for v, why in _seq_loss_variants(args, 0)])
    dl = expect_array("dlogits", dl, logits.shape, "dlogits has the shape of logits (T, B, V)")
    compare("dlogits", dl, ref_dl, _seq_loss_variants(args, 1))
    big = (logits + 1000.0, targets, mask)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            loss_big, dl_big = _seq_loss_call(name, masked_sequence_loss, big, timeout)
            ok = (math.isfinite(loss_big) and hasattr(dl_big, "shape")
                  and np.all(np.isfinite(np.asarray(dl_big, float))))
        except CheckFailed:
            ok = False
    if not ok or not np.isclose(loss_big, float(ref_loss), rtol=1e-6):
        raise CheckFailed("with large logits (all around 1000) the loss or its gradient is not "
                          "finite, or not the same as for logits - 1000: exp(1000) overflows "
                          "(unstable softmax). Use a stable log-softmax: subtract each "
                          "position's largest logit before exp, log_p = z - log(sum(exp(z))) "
                          "with z = logits - logits.max(axis=-1, keepdims=True)")
    passed(f"{name} is correct: the mean over the real positions and its gradient match, "
           f"stable for large logits (T={T}, B={B}, V={V}).")


# ================================================================== 2. RMSProp
def rmsprop_reference(param, grad, state, lr, rho, eps):
    """One RMSProp step: ``v = rho state + (1 - rho) g^2``, ``param - lr g / (sqrt(v) + eps)``.
    Returns ``(new_param, v)``."""
    v = rho * state + (1.0 - rho) * grad ** 2
    return param - lr * grad / (np.sqrt(v) + eps), v


def _rmsprop_variants(args):
    param, grad, state, lr, rho, eps = args
    g2 = grad ** 2
    v = rho * state + (1 - rho) * g2
    v_swap = (1 - rho) * state + rho * g2
    return [
        ((param - lr * grad / (np.sqrt(v_swap) + eps), v_swap),
         f"rho and 1 - rho are swapped: the running average keeps rho = {rho:g} of the OLD "
         "value, v <- rho v + (1 - rho) g^2"),
        ((param - lr * grad / (v + eps), v),
         "the square root is missing: divide by sqrt(v) + eps (v is a mean of SQUARED "
         "gradients, its root has the gradient's scale)"),
        ((param - lr * grad / np.sqrt(v + eps), v),
         "eps is inside the square root, g / sqrt(v + eps) (TensorFlow 1's convention). This "
         "exercise uses the other convention (PyTorch's and the book's): g / (sqrt(v) + eps). "
         "Both work in practice, but they are different numbers for small v"),
        ((param - lr * grad / (np.sqrt(v) + eps), state),
         "new_state is the old state: return the updated running average "
         "v = rho * state + (1 - rho) * grad**2"),
        ((param - lr * grad / (np.sqrt(state) + eps), v),
         "the step divides by the OLD average: update v first, then divide by sqrt(v_new) + eps"),
        ((param + lr * grad / (np.sqrt(v) + eps), v),
         "the step goes up the gradient: param - lr * g / (sqrt(v) + eps)"),
    ]


def _rmsprop_inputs(rng, shape, first=False, eps=None):
    param = rng.normal(size=shape)
    grad = rng.normal(scale=rng.uniform(0.05, 2.0), size=shape)
    state = np.zeros(shape) if first else rng.uniform(0.0, 0.5, size=shape) ** 2
    lr = float(rng.uniform(0.001, 0.05))
    rho = float(rng.uniform(0.6, 0.95))
    eps = float(rng.uniform(0.02, 0.2)) if eps is None else eps
    return param, grad, state, lr, rho, eps


def check_rmsprop_update(rmsprop_update, shape=(4, 3), seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``rmsprop_update(param, grad, state, lr, rho, eps) -> (new_param, new_state)``
    (``state`` is the running average ``v`` of the squared gradients, the shape of
    ``param``): one step from a non-zero state, one from zeros, inputs left unchanged."""
    name = "rmsprop_update"
    rng = rng_for(seed)
    shape = tuple(shape)
    for first in (False, True):
        args = _rmsprop_inputs(rng, shape, first)
        ref = rmsprop_reference(*args)
        out = call_args(name, rmsprop_update, args, timeout)
        new_param, new_state = expect_tuple(name, out, ("new_param", "new_state"))
        new_param = expect_array("new_param", new_param, shape, "it has the shape of param")
        new_state = expect_array("new_state", new_state, shape, "it has the shape of param")
        got = np.concatenate([new_param.ravel(), new_state.ravel()])
        want = np.concatenate([ref[0].ravel(), ref[1].ravel()])
        if first_mismatch(got, want) is None:
            continue
        for (wp, ws), why in _rmsprop_variants(args):
            if close(new_param, wp) and close(new_state, ws):
                raise CheckFailed(f"the RMSProp step is wrong: {why}")
        compare("new_state", new_state, ref[1])
        compare("new_param", new_param, ref[0])
    passed(f"{name} is correct: the running average and the step match, inputs unchanged "
           f"(shape {shape}).")


# ================================================================== 3. top-k sampling
def top_k_probabilities(logits, k, temperature):
    """The distribution ``top_k_sample`` draws from: ``softmax(z / T)`` over every logit at
    least as large as the k-th largest (ties with it kept), 0 elsewhere."""
    z = np.asarray(logits, dtype=float) / temperature
    cut = np.sort(z)[-k]
    z = np.where(z >= cut, z, -np.inf)
    w = np.exp(z - z.max())
    return w / w.sum()


def _index(value, V, what):
    if isinstance(value, (bool, np.bool_)):
        raise CheckFailed(f"{what} returned a bool ({value}); return a token index, an int")
    arr = np.asarray(value) if hasattr(value, "shape") else None
    try:
        if arr is not None:
            if arr.shape != () or not np.issubdtype(arr.dtype, np.integer):
                raise TypeError
            idx = int(arr)
        else:
            idx = operator.index(value)
    except TypeError:
        shape = f" of shape {tuple(value.shape)}" if arr is not None else ""
        got = ("None (did you forget the `return` statement?)" if value is None
               else type(value).__name__ + shape)
        raise CheckFailed(f"{what} must return ONE integer token index (an int); it returned "
                          f"{got}" + (" - rng.choice(V, p=p) returns an int, rng.choice(V, "
                                      "size=1, p=p) an array" if arr is not None else ""))
    if not 0 <= idx < V:
        raise CheckFailed(f"{what} returned {idx}, which is not a token index in [0, {V})")
    return idx


_TOPK_LOGITS = np.array([2.2, 1.4, 0.9, 0.2, -0.6, -1.5])
_TOPK_SETTINGS = ((3, 0.8), (4, 1.6))
_TIE_LOGITS = np.array([1.5, 0.7, 0.7, -0.2, -1.0])
TOPK_DRAWS = 4000
Z_TOL = 5.0


def _topk_variants(z, k, T):
    def soft(x):
        w = np.exp(x - x.max())
        return w / w.sum()
    top = top_k_probabilities(z, k, T) > 0
    low = np.zeros_like(z, dtype=bool)
    low[np.argsort(z)[:k]] = True
    return [
        (np.where(low, soft(np.where(low, z / T, -np.inf)), 0.0),
         f"the k SMALLEST logits are kept: keep the k = {k} largest (np.sort(z)[-k] is the "
         "k-th largest value; np.argsort(z)[:k] are the k smallest)"),
        (top_k_probabilities(z * T, k, 1.0),
         "the temperature multiplies the logits; it must DIVIDE them: softmax(z / T) over the "
         "top k (a high T flattens the distribution)"),
        (top_k_probabilities(z, k, 1.0), "the temperature is ignored: softmax(z / T)"),
        (soft(z / T), f"tokens outside the top k = {k} are drawn: the distribution is the full "
                      "softmax. Set the other logits to -inf (or their probabilities to 0 and "
                      "renormalise) before drawing"),
        (np.where(top, 1.0 / top.sum(), 0.0),
         "the kept tokens are drawn uniformly: draw with their softmax probabilities, "
         "rng.choice(V, p=p)"),
    ]


def _topk_draws(name, fn, z, k, T, seed, n, timeout):
    g = np.random.default_rng(seed)
    out = call(name, lambda: [fn(z.copy(), k, T, g) for _ in range(n)], timeout,
               what=f"{n} calls of {name}(logits, {k}, {T:g}, rng)")
    return np.bincount([_index(v, z.size, name) for v in out], minlength=z.size) / n


def _topk_report(z, k, T, freq, p, why, n):
    np.set_printoptions(precision=3, suppress=True)
    return (f"with k={k}, temperature={T:g}: {why}.\n  logits:               {z}\n"
            f"  observed frequencies: {np.round(freq, 3)} ({n} draws)\n"
            f"  expected:             {np.round(p, 3)}")


def check_top_k_sample(top_k_sample, seed=None, n_draws=TOPK_DRAWS, timeout=20.0):
    """Check ``top_k_sample(logits, k, temperature, rng) -> int``.

    Exact cases first: ``k = 1`` is the argmax at any temperature; the randomness comes
    from ``rng`` (the same seed gives the same draws); logits around 900 do not overflow.
    Then the **statistical test**, as for ``sample_char``: for each setting (k, T),
    ``n_draws`` (4000) draws from a generator seeded ``seed``; every token's frequency must
    lie within ``Z_TOL = 5`` standard errors ``sqrt(p(1-p)/n)`` of its probability (a
    correct sampler fails one comparison with probability 5.7e-7; the smallest kept
    probability here is above 0.1, a dropped token must never be drawn). Ties: every logit
    equal to the k-th largest is kept (``z >= np.sort(z)[-k]``, as
    :func:`labrnn.models.decoding.sample_decode` and common libraries do).
    """
    try:
        _check_top_k_sample(top_k_sample, seed, n_draws, timeout)
    except CheckFailed as e:
        if "do not sum to 1" not in str(e).lower():
            raise
        raise CheckFailed(f"{e}\nThe probabilities of the kept tokens must be renormalised "
                          "to sum to 1 after the others are dropped (a softmax over the "
                          "kept logits only does that)") from None


def _check_top_k_sample(top_k_sample, seed, n_draws, timeout):
    name = "top_k_sample"
    if seed is None:
        seed = int(rng_for(None).integers(2**31))
    fresh = rng_for([seed, 45])
    z = fresh.permutation(_TOPK_LOGITS)
    V = z.size
    # 1. the type, inputs unchanged, and k = 1 is the argmax at any temperature
    for T in (0.5, 1.0, 3.0):
        zz = fresh.normal(size=7)
        got = _index(call_args(name, top_k_sample, (zz, 1, T, np.random.default_rng(seed)),
                               timeout, names=("logits", "k", "temperature", "rng")), 7, name)
        if got != int(np.argmax(zz)) and got == int(np.argmin(zz)):
            raise CheckFailed(f"with k=1 (temperature={T:g}) it returned {got}, the SMALLEST "
                              "logit: the k SMALLEST logits are kept; keep the k largest "
                              "(np.sort(z)[-k] is the k-th largest value)")
        if got != int(np.argmax(zz)):
            raise CheckFailed(f"with k=1 (temperature={T:g}) it returned {got}; only the "
                              f"largest logit is kept, so it must return the argmax, "
                              f"{int(np.argmax(zz))}")
    # 2. reproducibility: the randomness must come from rng
    def draws(s, n=25):
        g = np.random.default_rng(s)
        return [top_k_sample(z.copy(), 3, 1.0, g) for _ in range(n)]
    a = [_index(v, V, name) for v in call(name, lambda: draws(seed), timeout)]
    b = [_index(v, V, name) for v in call(name, lambda: draws(seed), timeout)]
    if a != b:
        raise CheckFailed("two generators with the same seed gave different samples: draw your "
                          "random numbers from the rng argument (rng.choice, rng.random), not "
                          "from np.random or the random module")
    # 3. large logits: the softmax must subtract the maximum
    big = np.array([900.0, 899.0, 0.0, -5.0, 3.0])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            freq = _topk_draws(name, top_k_sample, big, 2, 1.0, seed, 400, timeout)
        except CheckFailed as e:
            raise CheckFailed(f"with logits {big} (k=2, temperature=1): {e}\nexp(900) "
                              "overflows to inf: subtract the largest kept logit before exp "
                              "(the softmax does not change)") from None
    if freq[0] == 0 or freq[1] == 0 or freq[0] + freq[1] < 1:
        raise CheckFailed(f"with logits {big} (k=2, temperature=1) the draws were "
                          f"{np.round(freq, 3)}: only tokens 0 and 1 may be drawn, about "
                          "73% and 27%. Does exp overflow? Subtract the maximum before exp")
    # 4. the distribution
    for k, T in _TOPK_SETTINGS:
        p = top_k_probabilities(z, k, T)
        freq = _topk_draws(name, top_k_sample, z, k, T, seed, n_draws, timeout)
        tol = Z_TOL * np.sqrt(p * (1 - p) / n_draws)
        if np.all(np.abs(freq - p) <= tol):
            continue
        why = "the frequencies do not follow softmax(logits / T) over the k largest logits"
        for q, msg in _topk_variants(z, k, T):
            if np.all(np.abs(freq - q) <= Z_TOL * np.sqrt(np.maximum(q * (1 - q), 1e-4)
                                                          / n_draws)):
                why = msg
                break
        raise CheckFailed(_topk_report(z, k, T, freq, p, why, n_draws))
    # 5. ties at the k-th largest value are all kept
    zt = fresh.permutation(_TIE_LOGITS)
    p = top_k_probabilities(zt, 2, 1.0)
    freq = _topk_draws(name, top_k_sample, zt, 2, 1.0, seed, n_draws, timeout)
    if not np.all(np.abs(freq - p) <= Z_TOL * np.sqrt(p * (1 - p) / n_draws)):
        tied = (zt == np.sort(zt)[-2]) & (p > 0)
        if np.any(freq[tied] == 0) and np.any(freq[tied] > 0):
            why = ("a token whose logit ties with the k-th largest is never drawn: keep EVERY "
                   "logit >= the k-th largest value, z >= np.sort(z)[-k] (np.argsort(z)[-k:] "
                   "keeps exactly k and drops one of the tied tokens arbitrarily)")
        elif np.all(freq[tied] == 0):
            why = ("the tokens whose logit equals the k-th largest are never drawn: keep the "
                   "logits >= the k-th largest value (>=, not >)")
        else:
            why = "the frequencies do not follow softmax(logits / T) over the kept logits"
        raise CheckFailed(_topk_report(zt, 2, 1.0, freq, p, why, n_draws))
    passed(f"{name} is correct: k = 1 is the argmax, the draws are reproducible from rng, "
           f"stable for large logits, keep ties and follow the top-k softmax for (k, T) in "
           f"{_TOPK_SETTINGS} ({n_draws} draws each).")


# ================================================================== 4. token accuracy
def token_accuracy_reference(pred, gold, lengths):
    """Correct tokens / real tokens over a padded batch: ``pred``, ``gold`` (T, B), ``lengths`` (B,)."""
    T = gold.shape[0]
    mask = np.arange(T)[:, None] < np.asarray(lengths)[None, :]
    return float(((pred == gold) & mask).sum() / mask.sum())


def _acc_variants(pred, gold, lengths):
    T = gold.shape[0]
    mask = np.arange(T)[:, None] < lengths[None, :]
    right = (pred == gold)
    per_sentence = float(np.mean((right & mask).sum(axis=0) / lengths))
    return [
        (float(right.mean()), "the padded positions are counted: only the first lengths[b] "
                              "steps of sequence b are real tokens; count the correct REAL "
                              "tokens and divide by lengths.sum()"),
        (per_sentence, "it is the mean of the per-sentence accuracies: per-token accuracy "
                       "divides the correct tokens of the whole batch by all its real tokens, "
                       "so that a long sentence weighs more than a short one"),
        (float((right & mask).sum() / right.size),
         f"it divides by T*B = {right.size}; divide by the number of real tokens, "
         f"lengths.sum() = {int(lengths.sum())}"),
        (float((right & mask).sum()), "it is a count; divide by the number of real tokens"),
    ]


def _acc_inputs(rng, T, B, V, tries=200):
    fallback = None
    for _ in range(tries):
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = T
        if B > 1:
            lengths[1] = rng.integers(1, max(2, T // 2 + 1))
        mask = np.arange(T)[:, None] < lengths[None, :]
        gold = np.where(mask, rng.integers(1, V, size=(T, B)), 0)
        wrong = rng.random((T, B)) < rng.uniform(0.15, 0.5, size=B)[None, :]
        pred = np.where(mask & wrong, rng.integers(1, V, size=(T, B)), gold)
        pred = np.where(mask, pred, 0)                    # padding: both hold the pad id 0
        values = [token_accuracy_reference(pred, gold, lengths)] + \
            [w for w, _ in _acc_variants(pred, gold, lengths)]
        case = pred, gold, lengths.astype(np.int64)
        if all(abs(a - b) > 1e-6 for i, a in enumerate(values) for b in values[:i]):
            return case
        if fallback is None and all(abs(w - values[0]) > 1e-6 for w in values[1:]):
            fallback = case           # each mistake fails, some with another's message
    if fallback is None:
        raise RuntimeError("no token-accuracy case separates the mistakes; use other sizes")
    return fallback


def check_token_accuracy(token_accuracy, T=7, B=4, V=5, seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``token_accuracy(pred, gold, lengths) -> float``: correct real tokens / real
    tokens, padding (``t >= lengths[b]``, where pred and gold both hold 0) not counted."""
    name = "token_accuracy"
    rng = rng_for(seed)
    for _ in range(2):
        pred, gold, lengths = _acc_inputs(rng, T, B, V)
        out = call_args(name, token_accuracy, (pred, gold, lengths), timeout)
        acc = _number(name, "the accuracy", out)
        ref = token_accuracy_reference(pred, gold, lengths)
        if abs(acc - ref) <= 1e-9:
            continue
        for wrong, why in _acc_variants(pred, gold, lengths):
            if abs(acc - wrong) <= 1e-9:
                raise CheckFailed(f"the accuracy is wrong: {why}")
        raise CheckFailed(f"the accuracy is wrong: received {acc:.6g}, expected {ref:.6g} "
                          f"({int(((pred == gold) & (np.arange(T)[:, None] < lengths)).sum())} "
                          f"correct of {int(lengths.sum())} real tokens, lengths {lengths})")
    passed(f"{name} is correct: correct real tokens / real tokens, padding ignored "
           f"(T={T}, B={B}).")


# ================================================================== 5. seasonal naive errors
def seasonal_naive_errors_reference(series, test_start, horizons, season=12,
                                    source="seasonal"):
    """``{h: (rmse, mae)}`` of a forecast from every origin ``o = test_start - 1 .. N - 2``
    (every target ``o + h`` inside the test period ``[test_start, N)``), with
    :func:`labrnn.lab.forecast.seasonal_naive_forecast` (``source="seasonal"``), or the
    mistakes ``"last"`` (the last value) and ``"future"`` (``y[o + h - season]``)."""
    y = np.asarray(series, dtype=float)
    N = y.size
    K = max(horizons)
    o = np.arange(test_start - 1, N - 1)
    truth = forecast.forecast_targets(y, o, K, N)
    if source == "seasonal":
        yhat = forecast.seasonal_naive_forecast(y, o, K, season)
    elif source == "last":
        yhat = forecast.last_value_forecast(y, o, K)
    else:
        idx = o[:, None] + np.arange(1, K + 1)[None, :] - season
        yhat = y[np.clip(idx, 0, N - 1)]
    rmse, mae, _ = forecast.errors_by_horizon(yhat, truth)
    return {int(h): (float(rmse[h - 1]), float(mae[h - 1])) for h in horizons}


def _co2_like(rng, N, season):
    t = np.arange(N)
    return (300 + 0.12 * t + 3.0 * np.sin(2 * np.pi * t / season + rng.uniform(0, 6))
            + 1.2 * np.cos(4 * np.pi * t / season) + rng.normal(scale=0.3, size=N)
            + np.cumsum(rng.normal(scale=0.1, size=N)))


def check_seasonal_naive_errors(seasonal_naive_errors, N=120, test_start=84,
                                horizons=(1, 3, 12, 13, 24), season=12, seed=None,
                                timeout=DEFAULT_TIMEOUT):
    """Check ``seasonal_naive_errors(series, test_start, horizons, season) -> {h: (rmse, mae)}``
    on a seasonal series with a trend: the forecast of ``y[o + h]`` made at the origin ``o``
    is ``y[o + h - season * ceil(h / season)]`` (the latest value of the same month known at
    ``o``), from every origin ``test_start - 1 .. N - 2``, over the targets inside the test
    period ``[test_start, N)`` (the conventions of :mod:`labrnn.lab.forecast` and chapter 16)."""
    name = "seasonal_naive_errors"
    rng = rng_for(seed)
    y = _co2_like(rng, N, season)
    horizons = [int(h) for h in horizons]
    args = (y, test_start, list(horizons), season)
    ref = seasonal_naive_errors_reference(*args)
    out = call_args(name, seasonal_naive_errors, args, timeout,
                    names=("series", "test_start", "horizons", "season"))
    if not isinstance(out, dict):
        raise CheckFailed(f"{name} must return a dict {{h: (rmse, mae)}}; it returned "
                          + ("None (did you forget the `return` statement?)" if out is None
                             else type(out).__name__))
    keys = {}
    for key in out:
        try:
            keys[int(key)] = key
        except (TypeError, ValueError):
            raise CheckFailed(f"the keys of the dict are the horizons (ints); found {key!r}") \
                from None
    if sorted(keys) != sorted(horizons):
        raise CheckFailed(f"the dict must have one entry per horizon in {horizons}; its keys "
                          f"are {sorted(keys)}")
    got = {}
    for h in horizons:
        pair = out[keys[h]]
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise CheckFailed(f"the value for h={h} must be a pair (rmse, mae); it is "
                              f"{str(pair)[:100]}")
        got[h] = (_number(name, f"the rmse at h={h}", pair[0]),
                  _number(name, f"the mae at h={h}", pair[1]))
    if all(close(got[h], ref[h]) for h in horizons):
        passed(f"{name} is correct: the seasonal-naive errors by horizon over the test period "
               f"match (N={N}, test_start={test_start}, horizons={horizons}).")
        return
    if all(close(got[h], ref[h][::-1]) for h in horizons):
        raise CheckFailed("RMSE and MAE are swapped: return (rmse, mae), rmse = "
                          "sqrt(mean(err**2)), mae = mean(|err|) (the RMSE is never below the "
                          "MAE)")
    last = seasonal_naive_errors_reference(*args, source="last")
    if all(close(got[h], last[h]) for h in horizons):
        raise CheckFailed("these are the errors of the LAST value y[o] (the naive forecast): the "
                          "seasonal-naive forecast of y[o + h] is the value of the same month "
                          "one season earlier, y[o + h - season * ceil(h / season)]")
    future = seasonal_naive_errors_reference(*args, source="future")
    if all(close(got[h], future[h]) for h in horizons):
        far = [h for h in horizons if h > season]
        raise CheckFailed(f"for h > season ({far}) the forecast y[o + h - season] lies AFTER the "
                          "origin o: it looks into the future, which is not known when the "
                          "forecast is made. Go back as many whole seasons as needed, "
                          "y[o + h - season * ceil(h / season)] (for h = 13..24 the value two "
                          "seasons before the target)")
    for h in horizons:
        for k, what in ((0, "rmse"), (1, "mae")):
            if not close(got[h][k], ref[h][k]):
                raise CheckFailed(
                    f"the {what} at h={h} is wrong: received {got[h][k]:.6g}, expected "
                    f"{ref[h][k]:.6g}. The origins are o = test_start - 1 .. N - 2 "
                    f"({test_start - 1} .. {N - 2}), one forecast per origin and horizon whose "
                    f"target o + h is before N = {N}; the error is y[o + h] - yhat")
    raise CheckFailed("the errors are wrong")      # not reached


# ================================================================== 6. masked attention context
def _ctx_attn(q, keys, W_q, W_k, v, mask, masking="inf", axis=0):
    e = np.tanh(keys @ W_k.T + (q @ W_q.T)[None]) @ v
    if masking == "inf":
        e = np.where(mask, e, -np.inf)
    e = e - e.max(axis=axis, keepdims=True)
    w = np.exp(e)
    alpha = w / w.sum(axis=axis, keepdims=True)
    if masking == "zero_after":
        alpha = alpha * mask
    return alpha


def _ctx_inputs(rng, S, B, H, A, large=False):
    q = rng.normal(size=(B, H))
    keys = rng.normal(size=(S, B, H))
    values = rng.normal(size=(S, B, H))
    W_q = rng.normal(scale=0.7, size=(A, H))
    W_k = rng.normal(scale=0.7, size=(A, H))
    v = rng.normal(size=A)
    lengths = rng.integers(1, S + 1, size=B)
    lengths[0] = S
    if B > 1 and S > 2:
        lengths[1] = rng.integers(1, S)
    mask = np.arange(S)[:, None] < rng.permutation(lengths)[None, :]
    if large:                     # scores in the thousands: exp(e) overflows without the max
        W_q, W_k, v = 10 * W_q, 10 * W_k, v * (3000.0 / np.abs(v).sum())
    return q, keys, values, mask, W_q, W_k, v


def check_masked_attention_context(masked_attention_context, S=5, B=3, H=4, A=6, seed=None,
                                   timeout=DEFAULT_TIMEOUT):
    """Check ``masked_attention_context(query, keys, values, mask, W_q, W_k, v) ->
    (context (B, H), alpha (S, B))``: ``e_s = v^T tanh(W_q q + W_k k_s)`` (as
    :mod:`labrnn.layers.attention`), softmax over the real steps (axis 0), ``context =
    sum_s alpha_s values_s``; also with scores in the thousands."""
    name = "masked_attention_context"
    rng = rng_for(seed)
    for large in (False, True):
        args = _ctx_inputs(rng, S, B, H, A, large)
        q, keys, values, mask, W_q, W_k, v = args
        _, ref_alpha, _ = attention.attention_forward(q, keys, {"W_q": W_q, "W_k": W_k, "v": v},
                                                      "additive", mask)
        ref_ctx = (ref_alpha[..., None] * values).sum(axis=0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out = call_args(name, masked_attention_context, args, timeout)
        context, alpha = expect_tuple(name, out, ("context", "alpha"))
        if large and hasattr(alpha, "shape") and tuple(alpha.shape) == (S, B) \
                and not np.all(np.isfinite(np.asarray(alpha, float))):
            raise CheckFailed("alpha is not finite when the scores are large (in the "
                              "thousands): exp(e) overflows. Subtract each sequence's largest "
                              "real score before exp, e - e.max(axis=0, keepdims=True)")
        hint = "alpha is (S, B), time first like keys" if S != B else ""
        alpha = expect_array("alpha", alpha, (S, B), hint)
        qa = (q, keys, W_q, W_k, v, mask)
        compare("alpha", alpha, ref_alpha, [
            (_ctx_attn(*qa, masking="ignore"),
             "the mask is ignored: padded steps (mask False) must get weight exactly 0; set "
             "their scores to -inf (np.where(mask, e, -np.inf)) BEFORE the softmax"),
            (_ctx_attn(*qa, masking="zero_after"),
             "the padded steps are set to 0 AFTER the softmax, so a sequence's weights no "
             "longer sum to 1 (not renormalised): mask the scores with -inf before the "
             "softmax"),
            (_ctx_attn(*qa, axis=1),
             "the softmax runs over the batch axis (axis 1): each sequence's weights are a "
             "column alpha[:, b] over its S steps; take the max and the sum over axis=0"),
        ])
        context = expect_array("context", context, (B, H),
                               "context is (B, H): the weighted sum over the S steps")
        compare("context", context, ref_ctx, [
            ((ref_alpha[..., None] * keys).sum(axis=0),
             "it is the weighted sum of the KEYS; the context sums the VALUES, "
             "sum_s alpha[s, b] * values[s, b]"),
            ((alpha[..., None] * values).mean(axis=0),
             "it is a mean over the steps; the weights already sum to 1: sum over axis 0"),
        ])
    passed(f"{name} is correct: the weights are a masked softmax over time, stable for large "
           f"scores, and the context sums the values (S={S}, B={B}, H={H}, A={A}).")


# ================================================================== 7. fixed points: speed
def speed_and_gradient_reference(h, W, b):
    """``q = 1/2 ||F(h) - h||^2`` with ``F(h) = tanh(W h + b)`` and ``dq/dh = (J - I)^T (F - h)``,
    ``J = diag(1 - F^2) W``."""
    F = np.tanh(W @ h + b)
    r = F - h
    J = (1 - F ** 2)[:, None] * W
    return 0.5 * float(r @ r), (J - np.eye(h.size)).T @ r


def _speed_variants(h, W, b):
    F = np.tanh(W @ h + b)
    r = F - h
    I = np.eye(h.size)
    J = (1 - F ** 2)[:, None] * W
    J_cols = W * (1 - F ** 2)[None, :]
    J_h = (1 - h ** 2)[:, None] * W
    return [
        (J.T @ r, "it is J^T (F(h) - h): the residual F(h) - h depends on h twice, through F "
                  "and through the - h; its Jacobian is J - I, so the gradient is "
                  "(J - I)^T (F(h) - h)"),
        ((J - I) @ r, "the transpose is missing: the gradient is (J - I)^T (F(h) - h), not "
                      "(J - I)(F(h) - h) (J is not symmetric)"),
        (-(J - I).T @ r, "the sign is wrong: dq/dh = (J - I)^T (F(h) - h) (a descent step "
                         "subtracts it)"),
        (2 * (J - I).T @ r, "it is twice the gradient: q has the factor 1/2, "
                            "dq/dh = (J - I)^T (F(h) - h)"),
        ((J_cols - I).T @ r, "the tanh derivative multiplies the COLUMNS of W: "
                             "J = diag(1 - F^2) W scales row i by 1 - F_i^2, "
                             "(1 - F**2)[:, None] * W"),
        ((J_h - I).T @ r, "the tanh derivative is taken at h: it is 1 - F(h)^2 = "
                          "1 - tanh(W h + b)^2, with F(h), not h"),
        ((W - I).T @ r, "the tanh derivative is missing: J = diag(1 - F^2) W"),
    ]


def _speed_inputs(rng, H):
    W = rng.normal(scale=1.5 / np.sqrt(H), size=(H, H))
    b = rng.normal(scale=0.3, size=H)
    h = rng.uniform(-0.9, 0.9, size=H)
    return h, W, b


def check_speed_and_gradient(speed_and_gradient, H=5, seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``speed_and_gradient(h, W, b) -> (q, grad)``: the speed
    ``q(h) = 1/2 ||F(h) - h||^2`` of ``F(h) = tanh(W h + b)`` (``h`` (H,), ``W`` (H, H),
    ``b`` (H,)) and its gradient ``(J - I)^T (F(h) - h)`` with ``J = diag(1 - F^2) W``."""
    name = "speed_and_gradient"
    rng = rng_for(seed)
    for _ in range(2):
        args = _speed_inputs(rng, H)
        h, W, b = args
        ref_q, ref_g = speed_and_gradient_reference(*args)
        out = call_args(name, speed_and_gradient, args, timeout)
        q, grad = expect_tuple(name, out, ("q", "grad"))
        q = _number(name, "the speed q", q)
        r = np.tanh(W @ h + b) - h
        compare("the speed q", np.asarray(q), np.asarray(ref_q), [
            (np.asarray(float(r @ r)), "q is missing the factor 1/2: q = 1/2 ||F(h) - h||^2"),
            (np.asarray(float(np.sqrt(r @ r))), "q is the norm ||F(h) - h||; it is half its "
                                                "SQUARE, 1/2 ||F(h) - h||^2"),
        ])
        grad = expect_array("grad", grad, (H,), "the gradient has the shape of h")
        compare("grad", grad, ref_g, _speed_variants(*args))
    passed(f"{name} is correct: the speed and its gradient (J - I)^T (F(h) - h) match (H={H}).")


# ================================================================== 8. CTC forward variables
def _np_ctc_alpha(lp, target, blank, skip="rule", init="both"):
    """log alpha (T, 2S + 1) with knobs for the classic mistakes (defaults: correct)."""
    T = lp.shape[0]
    ext = ctc.extend_labels(np.asarray(target, dtype=np.int64), blank)
    L = ext.size
    if skip == "rule":
        can = np.zeros(L, dtype=bool)
        can[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    elif skip == "labels":            # ignores l'_s != l'_{s-2}: skips over a repeated label
        can = np.zeros(L, dtype=bool)
        can[2:] = ext[2:] != blank
    else:                             # "always": from blanks too
        can = np.zeros(L, dtype=bool)
        can[2:] = True
    a = np.full((T, L), -np.inf)
    first = {"both": slice(0, 2), "blank": slice(0, 1), "all": slice(0, L)}[init]
    a[0, first] = lp[0, ext[first]]
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(1, T):
            prev = a[t - 1]
            acc = prev.copy()
            acc[1:] = np.logaddexp(acc[1:], prev[:-1])
            acc[2:] = np.where(can[2:], np.logaddexp(acc[2:], prev[:-2]), acc[2:])
            a[t] = acc + lp[t, ext]
    return a


def _log_probs(rng, T, C, scale=1.5):
    z = rng.normal(scale=scale, size=(T, C))
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _log_alpha_array(name, value, shape, S):
    if value is None or not hasattr(value, "shape") or not hasattr(value, "dtype"):
        if isinstance(value, (list, tuple)):
            raise CheckFailed(f"alpha must be a NumPy array of shape {shape}; received a "
                              f"{type(value).__name__}: return an array, not a Python list")
        got = "None (did you forget the `return` statement?)" if value is None \
            else type(value).__name__
        raise CheckFailed(f"alpha must be an array of shape {shape}; received {got}")
    arr = np.asarray(value, dtype=float)
    if arr.shape != tuple(shape):
        hint = ""
        if arr.ndim == 2 and arr.shape[0] == shape[0] and arr.shape[1] == 2 * S:
            hint = (" It has 2S columns: the extended labelling has a blank at BOTH ends, "
                    "l' = (-, l_1, -, l_2, ..., l_S, -), 2S + 1 symbols")
        elif arr.ndim == 2 and arr.shape[0] == shape[0] and arr.shape[1] == S:
            hint = (" It has S columns: the recursion runs over the extended labelling "
                    "l' = (-, l_1, -, ..., l_S, -) of 2S + 1 symbols")
        raise CheckFailed(f"alpha has the wrong shape: received {arr.shape}, expected "
                          f"{tuple(shape)} (T, 2S + 1).{hint}")
    if np.isnan(arr).any():
        idx = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        raise CheckFailed(f"alpha holds nan at (t, s) = {idx}")
    if np.isposinf(arr).any():
        idx = tuple(int(i) for i in np.argwhere(np.isposinf(arr))[0])
        raise CheckFailed(f"alpha holds +inf at (t, s) = {idx}")
    return arr


def _log_close(a, b, rtol=1e-6, atol=1e-8):
    return (a.shape == b.shape and np.array_equal(np.isneginf(a), np.isneginf(b))
            and np.allclose(np.where(np.isfinite(b), a, 0.0), np.where(np.isfinite(b), b, 0.0),
                            rtol=rtol, atol=atol))


def _ctc_diagnose(alpha, ref, lp, target, blank, T, S):
    ext = ctc.extend_labels(np.asarray(target, dtype=np.int64), blank)
    ninf_got, ninf_ref = np.isneginf(alpha), np.isneginf(ref)
    with np.errstate(over="ignore"):
        if np.all(alpha >= 0) and np.allclose(alpha, np.exp(ref), rtol=1e-6, atol=1e-300):
            return ("alpha holds the probabilities alpha_t(s), not their logarithms: return "
                    "log alpha (and run the recursion in log space: probabilities underflow "
                    "for long inputs)")
    for kw, why in (
            ({"skip": "labels"}, "the skip from s - 2 is allowed over a REPEATED label: when "
                                 "l'_s == l'_{s-2} (two equal labels in a row, e.g. the 'l l' of "
                                 "'hello') the path must pass through the blank between them, "
                                 "otherwise the two copies would merge into one. Allow the skip "
                                 "only when l'_s is not blank AND l'_s != l'_{s-2}"),
            ({"skip": "always"}, "the skip from s - 2 is allowed into a blank too: a blank "
                                 "l'_s is reached only from s or s - 1 (skipping from the "
                                 "previous blank would jump over a label). Allow the skip only "
                                 "when l'_s is not blank and l'_s != l'_{s-2}"),
            ({"init": "blank"}, "alpha_1 is initialised without the first label: a path may "
                                "start with the blank OR with l_1, so alpha[0, 0] = "
                                "log y_1(blank) and alpha[0, 1] = log y_1(l_1); every other "
                                "alpha[0, s] is -inf"),
            ({"init": "all"}, "alpha_1 is initialised at every s: a path starts with the "
                              "leading blank or the first label only, so alpha[0, s] = -inf "
                              "for s >= 2"),
    ):
        if _log_close(alpha, _np_ctc_alpha(lp, target, blank, **kw)):
            return why
    bad = ninf_got & ~ninf_ref
    if bad.any():
        t, s = (int(i) for i in np.argwhere(bad)[0])
        underflow = ""
        if T > 200 and ref[t, s] < -700:
            underflow = (f" Here log alpha is {ref[t, s]:.1f}, below the log of the smallest "
                         "positive float64 (about -745): probabilities underflow to 0 and "
                         "their log is -inf. Run the recursion in log space: multiply by adding logs, sum "
                         "with np.logaddexp")
        return (f"alpha[{t}, {s}] is -inf but the node is reachable (expected "
                f"{ref[t, s]:.6g}; l'_s = {int(ext[s])}).{underflow}")
    bad = ~ninf_got & ninf_ref
    if bad.any():
        t, s = (int(i) for i in np.argwhere(bad)[0])
        return (f"alpha[{t}, {s}] = {alpha[t, s]:.6g} but no path can be in node s = {s} "
                f"(l'_s = {int(ext[s])}) at frame t = {t}: it must be -inf (the start is "
                "alpha[0, 0] and alpha[0, 1] only; a step moves by 0, 1 or, by the skip rule, "
                "2 nodes)")
    fin = np.isfinite(ref)
    mm = first_mismatch(np.where(fin, alpha, 0.0), np.where(fin, ref, 0.0))
    idx, r, e = mm
    return (f"alpha is wrong at {int((~np.isclose(np.where(fin, alpha, 0), np.where(fin, ref, 0))).sum())} "
            f"entries; the first is (t, s) = {idx}: received {r:.6g}, expected {e:.6g}. "
            "log alpha_t(s) = log y_t(l'_s) + logaddexp(alpha_{t-1}(s), alpha_{t-1}(s-1) "
            "[, alpha_{t-1}(s-2) where the skip rule allows it])")


def _ctc_cases(rng, C, blank):
    labels = [c for c in range(C) if c != blank]
    a, b = labels[0], labels[1]
    rep = [int(rng.choice(labels))] * 2 + [int(rng.choice(labels))]
    return [
        (6, rep, "a target with a repeated label"),
        (4, [], "the empty target"),
        (6, [a, a, b, b], "a target that exactly fills its frames (4 labels and 2 blanks "
                          "between the repeats in T = 6)"),
        (5, [int(rng.choice(labels)) for _ in range(2)], "a random target"),
    ]


def check_ctc_alpha(ctc_alpha, C=4, blank=0, long_T=2000, seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``ctc_alpha(log_probs, target, blank) -> alpha (T, 2S + 1)`` in log space
    (equation ``ctc-alpha``, :func:`labrnn.training.ctc.ctc_alpha`): on tiny cases (a repeated label,
    the empty target, a target that exactly fills its frames) also against the sum over
    every path (:func:`labrnn.training.ctc.ctc_brute_force`); -inf at unreachable nodes; finite for
    ``long_T`` frames, where probabilities underflow."""
    name = "ctc_alpha"
    rng = rng_for(seed)
    cases = _ctc_cases(rng, C, blank)
    S_long = max(2, long_T // 100)
    cases.append((long_T, [int(v) for v in rng.choice([c for c in range(C) if c != blank],
                                                       size=S_long)], f"T = {long_T} frames"))
    for T, target, what in cases:
        lp = _log_probs(rng, T, C)
        tg = np.asarray(target, dtype=np.int64)
        S = tg.size
        ref = np.asarray(ctc.ctc_alpha(lp, tg, blank=blank))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out = call_args(name, ctc_alpha, (lp, tg, blank), timeout,
                            names=("log_probs", "target", "blank"))
        alpha = _log_alpha_array(name, out, (T, 2 * S + 1), S)
        if not _log_close(alpha, ref):
            raise CheckFailed(f"with {what} (T={T}, target={list(target) if S < 30 else '...'}, "
                              f"blank={blank}): {_ctc_diagnose(alpha, ref, lp, target, blank, T, S)}")
        if T <= 6:
            loss_bf, _ = ctc.ctc_brute_force(lp, tg, blank=blank)
            tail = alpha[-1, -1] if S == 0 else np.logaddexp(alpha[-1, -1], alpha[-1, -2])
            if not (np.isclose(-tail, loss_bf) or (math.isinf(loss_bf) and np.isneginf(tail))):
                raise CheckFailed(f"with {what}: p(l|x) from alpha, alpha_T(S') + "
                                  f"alpha_T(S'-1), is not the sum over every path that "
                                  f"collapses to the target (-log p = {loss_bf:.6g})")
    passed(f"{name} is correct: log alpha matches the recursion and the sum over all paths, "
           f"with repeats, the empty target, -inf where unreachable, and T = {long_T} "
           f"(C={C}, blank={blank}).")
