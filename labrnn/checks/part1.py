"""Checks for the Part I exercises (assignment ``part1_elman``).

Conventions are the book's (chapter 2): a batch of row vectors, ``x_t: (B, D)``,
``h: (B, H)``, ``W_xh: (H, D)``, ``W_hh: (H, H)``, ``b_h: (H,)``, so that
``h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)``; sequences are time-major
``(T, B, .)``. Every check draws fresh random inputs on each call (pass
``seed=`` to repeat one: the graded tests do) and compares with ``labrnn``'s
implementation.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..cells import elman
from ..training import losses, optim
from ._harness import (DEFAULT_TIMEOUT, CheckFailed, call, call_args, call_or_blame_orientation,
                       close, compare, expect_array, expect_tuple, passed, rng_for)

__all__ = ["check_rnn_step_forward", "check_rnn_step_backward", "check_rnn_backward",
           "check_clip_by_global_norm", "check_masked_cross_entropy", "check_sample_char"]


def _copy(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _elman_inputs(rng, B, D, H):
    x = rng.normal(size=(B, D))
    h_prev = np.tanh(rng.normal(size=(B, H)))
    W_xh = rng.normal(scale=0.5, size=(H, D))
    W_hh = rng.normal(scale=0.5, size=(H, H))
    b_h = rng.normal(scale=0.5, size=H)
    return x, h_prev, W_xh, W_hh, b_h


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _insensitive(name, fn, args, k, rng, pick=lambda out: out):
    """True if the student's output does not change when argument ``k`` changes."""
    changed = list(_copy(args))
    changed[k] = changed[k] + rng.normal(size=np.shape(changed[k]))
    try:
        a = pick(call(name, lambda: fn(*_copy(args))))
        b = pick(call(name, lambda: fn(*changed)))
        return close(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=1e-12)
    except (CheckFailed, TypeError, ValueError, IndexError):
        return False


def _orientation_hint(name, fn, make_args, expected_fn, failure, variants_fn=None):
    """The call raised on non-square sizes: try square sizes to tell a transposed weight."""
    args = make_args(square=True)
    try:
        out = call(name, lambda: fn(*_copy(args)))
    except CheckFailed:
        raise failure from None
    if variants_fn is not None:
        for wrong, why in variants_fn(*args):
            try:
                if close(np.asarray(out, float), wrong):
                    raise CheckFailed(f"{failure}\nWith D == H it runs and {why}") from None
            except (TypeError, ValueError):
                pass
    raise CheckFailed(f"{failure}\nIt runs when D == H, so a weight is probably used with the "
                      "wrong orientation: check every matrix product against the shapes "
                      f"in the docstring. {expected_fn}") from None


# ================================================================== 1. Elman step forward
def _rnn_forward_variants(x, h_prev, W_xh, W_hh, b_h):
    a = x @ W_xh.T + h_prev @ W_hh.T + b_h
    return [
        (np.tanh(x @ W_xh.T + h_prev @ W_hh + b_h),
         "it matches h_prev @ W_hh instead of h_prev @ W_hh.T: W_hh is used transposed "
         "(row i of W_hh holds the weights INTO unit i of the new state)"),
        (np.tanh(x @ W_xh + h_prev @ W_hh.T + b_h) if W_xh.shape[0] == W_xh.shape[1] else None,
         "it matches x_t @ W_xh instead of x_t @ W_xh.T: W_xh (shape (H, D)) is used transposed"),
        (a, "it equals the pre-activation a_t without the nonlinearity: apply tanh"),
        (_sigmoid(a), "it matches sigmoid(a_t): this exercise uses f = tanh"),
        (np.maximum(a, 0), "it matches relu(a_t): this exercise uses f = tanh"),
        (np.tanh(x @ W_xh.T + b_h) + h_prev @ W_hh.T,
         "the recurrent term h_prev @ W_hh.T is added after the tanh; it belongs inside"),
    ]


def check_rnn_step_forward(rnn_step_forward, B=3, D=4, H=5, seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h) -> h_t`` (book chapter 2)."""
    name = "rnn_step_forward"
    fn = rnn_step_forward
    rng = rng_for(seed)

    def make_args(square=False):
        return _elman_inputs(rng, B, H if square else D, H)
    args = make_args()
    x, h_prev, W_xh, W_hh, b_h = args
    expected, _ = elman.rnn_step_forward(x, h_prev, {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h})
    try:
        out = call_args(name, fn, args, timeout)
    except CheckFailed as failure:
        if D == H or failure.kind != "raised":
            raise
        _orientation_hint(name, fn, make_args,
                          "h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)", failure,
                          _rnn_forward_variants)
    h_t = expect_array(f"the h_t returned by {name}", out, (B, H),
                       "h_t has one row per example and one column per hidden unit: (B, H)")
    if not close(h_t, expected):
        for k, what, hint in ((4, "b_h", "is the bias b_h added?"),
                              (1, "h_prev", "is the recurrent term h_prev @ W_hh.T added?"),
                              (0, "x_t", "is the input term x_t @ W_xh.T added?")):
            if _insensitive(name, fn, args, k, rng):
                raise CheckFailed(f"h_t does not change when {what} changes: {hint}")
    compare("h_t", h_t, expected, _rnn_forward_variants(*args))
    passed(f"{name} is correct: h_t matches the book's equation (B={B}, D={D}, H={H}).")


# ================================================================== 2. Elman step backward
_DERIVATIVES = {
    "tanh": (lambda h: 1.0 - h * h, None),
    "one_minus_h": (lambda h: 1.0 - h,
                    "it uses f'(a_t) = 1 - h_t; the derivative of tanh is 1 - h_t**2"),
    "none": (lambda h: np.ones_like(h),
             "the gradient does not pass through tanh: multiply by f'(a_t) = 1 - h_t**2 "
             "(da_t = dh_t * (1 - h_t**2))"),
    "tanh_again": (lambda h: 1.0 - np.tanh(h) ** 2,
                   "it uses 1 - tanh(h_t)**2, but h_t is already tanh(a_t): f'(a_t) = 1 - h_t**2"),
    "sigmoid": (lambda h: h * (1.0 - h),
                "it uses h_t (1 - h_t), the derivative of the sigmoid; for tanh it is 1 - h_t**2"),
}


def _step_grads(dh, x, h_prev, h, W_xh, W_hh, deriv="tanh", dh_prev_T=False, dW_hh_with="prev"):
    da = dh * _DERIVATIVES[deriv][0](h)
    dx = da @ W_xh
    dh_prev = da @ (W_hh.T if dh_prev_T else W_hh)
    dW_xh = da.T @ x
    dW_hh = da.T @ (h if dW_hh_with == "current" else h_prev)
    return dx, dh_prev, dW_xh, dW_hh, da.sum(axis=0)


STEP_GRAD_NAMES = ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db_h")


def _step_variants(args, k):
    out = []
    for deriv, (_, why) in _DERIVATIVES.items():
        if why:
            out.append((_step_grads(*args, deriv=deriv)[k], why))
    out.append((_step_grads(*args, dh_prev_T=True)[k],
                "it matches da @ W_hh.T; the forward pass used h_prev @ W_hh.T, so going back "
                "it is dh_prev = da @ W_hh"))
    out.append((_step_grads(*args, dW_hh_with="current")[k],
                "it pairs da with h_t; dW_hh = da.T @ h_prev (the state that was multiplied "
                "by W_hh)"))
    return out


_SHAPE_HINTS = {
    "dx_t": "dx_t has the shape of x_t: dx_t = da @ W_xh",
    "dh_prev": "dh_prev has the shape of h_prev: dh_prev = da @ W_hh",
    "dW_xh": "a parameter's gradient has the parameter's shape; dW_xh = da.T @ x_t "
             "(x_t.T @ da would be the transpose)",
    "dW_hh": "dW_hh = da.T @ h_prev",
    "db_h": "b_h was added to every row of the batch, so db_h sums da over the batch "
            "axis: da.sum(axis=0)",
}


def _elman_step_backward_inputs(rng, B, D, H):
    x, h_prev, W_xh, W_hh, b_h = _elman_inputs(rng, B, D, H)
    h, _ = elman.rnn_step_forward(x, h_prev, {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h})
    dh = rng.normal(size=(B, H))
    return (dh, x, h_prev, h, W_xh, W_hh)


def check_rnn_step_backward(rnn_step_backward, B=3, D=4, H=5, seed=None,
                            timeout=DEFAULT_TIMEOUT):
    """Check ``rnn_step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh)
    -> (dx_t, dh_prev, dW_xh, dW_hh, db_h)`` (book chapter 4)."""
    name = "rnn_step_backward"
    rng = rng_for(seed)
    args = _elman_step_backward_inputs(rng, B, D, H)
    dh, x, h_prev, h, W_xh, W_hh = args
    da = dh * (1.0 - h * h)                       # the given h_t decides f'(a_t)
    expected = (da @ W_xh, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(axis=0))
    out = call_or_blame_orientation(
        name, rnn_step_backward, args,
        None if D == H else lambda: _elman_step_backward_inputs(rng, B, H, H),
        "a weight or an input is used with the wrong orientation: dx_t = da @ W_xh (B, D), "
        "dW_xh = da.T @ x_t (H, D).", timeout)
    out = expect_tuple(name, out, STEP_GRAD_NAMES)
    shapes = [a.shape for a in expected]
    got = [expect_array(n, o, s, _SHAPE_HINTS[n]) for n, o, s in zip(STEP_GRAD_NAMES, out, shapes)]
    for k, n in enumerate(STEP_GRAD_NAMES):
        compare(n, got[k], expected[k], _step_variants(args, k))
    passed(f"{name} is correct: all five gradients match (B={B}, D={D}, H={H}).")


# ================================================================== 3. BPTT over a sequence
def _np_bptt(dh, x, h0, hs, W_xh, W_hh, deriv="tanh", carry=True, carry_after_f=False,
             keep="all", h_prev0="h0", dW_hh_with="prev"):
    """BPTT with knobs that reproduce the usual mistakes (all False/default: correct)."""
    T, B, H = hs.shape
    fp = _DERIVATIVES[deriv][0]
    dx = np.zeros_like(x)
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(H)
    nxt = np.zeros((B, H))
    for t in reversed(range(T)):
        if carry_after_f:
            da = dh[t] * fp(hs[t]) + (nxt if carry else 0)
        else:
            da = (dh[t] + (nxt if carry else 0)) * fp(hs[t])
        hp = (h0 if h_prev0 == "h0" else np.zeros_like(h0)) if t == 0 else hs[t - 1]
        if dW_hh_with == "current":
            hp = hs[t]
        dx[t] = da @ W_xh
        use = keep == "all" or (keep == "first" and t == 0) or (keep == "last" and t == T - 1)
        if use:
            dW_xh += da.T @ x[t]
            dW_hh += da.T @ hp
            db += da.sum(axis=0)
        nxt = da @ W_hh
    return dx, nxt, dW_xh, dW_hh, db


BPTT_NAMES = ("dx", "dh0", "dW_xh", "dW_hh", "db_h")


def _bptt_variants(args, k):
    T = args[3].shape[0]
    out = [
        (_np_bptt(*args, carry=False)[k],
         "the gradient from the future is missing: at every step add dh_next = da_{t+1} @ W_hh "
         "(what step t+1 sends back) to dh[t] before multiplying by f'(a_t)"),
        (_np_bptt(*args, carry_after_f=True)[k],
         "dh_next is added after multiplying by f'(a_t); it must be added before: "
         "da_t = (dh[t] + dh_next) * (1 - h_t**2)"),
        (_np_bptt(*args, keep="first")[k],
         "it holds only the contribution of time step t = 0: the weights are shared by all "
         f"{T} steps, so their gradients are SUMS over time (accumulate with +=)"),
        (_np_bptt(*args, keep="last")[k],
         f"it holds only the contribution of the last time step t = {T - 1}: the weights are "
         "shared by all steps, so their gradients are SUMS over time (accumulate with +=)"),
        (_np_bptt(*args, h_prev0="zeros")[k],
         "at t = 0 the previous state is h0, not zeros: use h0 for the first step"),
        (_np_bptt(*args, dW_hh_with="current")[k],
         "it pairs da_t with h_t; dW_hh sums da_t.T @ h_{t-1} (h0 at t = 0)"),
    ]
    for deriv, (_, why) in _DERIVATIVES.items():
        if why:
            out.append((_np_bptt(*args, deriv=deriv)[k], why))
    return out


def _bptt_inputs(rng, T, B, D, H):
    x = rng.normal(size=(T, B, D))
    h0 = np.tanh(rng.normal(size=(B, H)))
    W_xh = rng.normal(scale=0.5, size=(H, D))
    W_hh = rng.normal(scale=0.5, size=(H, H))
    b_h = rng.normal(scale=0.5, size=H)
    hs, _, _ = elman.rnn_forward(x, {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h}, (h0,))
    dh = rng.normal(size=(T, B, H))
    return dh, x, h0, hs, W_xh, W_hh


def _bptt_expected(args):
    dh, x, h0, hs, W_xh, W_hh = args
    T = hs.shape[0]
    das, carry = [None] * T, np.zeros_like(h0)      # BPTT over the GIVEN hidden states
    for t in range(T - 1, -1, -1):
        das[t] = (dh[t] + carry) * (1.0 - hs[t] * hs[t])          # eq. bptt-da
        carry = das[t] @ W_hh                                      # eq. bptt-dh
    da = np.stack(das)
    h_prev = np.concatenate([h0[None], hs[:-1]], axis=0)
    return (da @ W_xh, carry, np.einsum("tbh,tbd->hd", da, x),
            np.einsum("tbh,tbk->hk", da, h_prev), da.sum(axis=(0, 1)))


def _bptt_run(name, fn, args, timeout):
    T, B, D = args[1].shape
    out = call_args(name, fn, args, timeout)
    out = expect_tuple(name, out, BPTT_NAMES)
    exp = _bptt_expected(args)
    hints = {"dx": "dx has the shape of x: (T, B, D)", "dh0": "dh0 has the shape of h0: (B, H)",
             "dW_xh": _SHAPE_HINTS["dW_xh"], "dW_hh": _SHAPE_HINTS["dW_hh"],
             "db_h": "db_h sums da over time AND batch: shape (H,)"}
    got = [expect_array(n, o, e.shape, hints[n]) for n, o, e in zip(BPTT_NAMES, out, exp)]
    return got, exp


def check_rnn_backward(rnn_backward, T=4, B=2, D=3, H=5, seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``rnn_backward(dh, x, h0, hs, W_xh, W_hh) -> (dx, dh0, dW_xh, dW_hh, db_h)``
    (backpropagation through time, book chapter 4)."""
    name = "rnn_backward"
    rng = rng_for(seed)
    args = _bptt_inputs(rng, T, B, D, H)
    got, exp = _bptt_run(name, rnn_backward, args, timeout)
    if all(close(g, e) for g, e in zip(got, exp)):
        passed(f"{name} is correct: every gradient matches over T={T} steps "
               f"(B={B}, D={D}, H={H}).")
        return
    # Something is wrong. Is it right for a single step? Then the time recursion is at fault.
    one_step_ok = False
    if T > 1:
        a1 = _bptt_inputs(rng, 1, B, D, H)
        try:
            g1, e1 = _bptt_run(name, rnn_backward, a1, timeout)
            one_step_ok = all(close(g, e) for g, e in zip(g1, e1))
        except CheckFailed:
            pass
    prefix = (f"(correct for a sequence of ONE step, T=1, but not for T={T}: the error is in how "
              "the steps are chained) ") if one_step_ok else ""
    for k, n in enumerate(BPTT_NAMES):
        try:
            compare(n, got[k], exp[k], _bptt_variants(args, k))
        except CheckFailed as e:
            raise CheckFailed(prefix + str(e)) from None


# ================================================================== 4. clipping by global norm
def _grads(rng, scale):
    g = {"W_xh": rng.normal(size=(5, 3)), "W_hh": rng.normal(size=(5, 5)),
         "b_h": rng.normal(size=5)}
    norm = math.sqrt(sum(float((v * v).sum()) for v in g.values()))
    return {k: v * (scale / norm) for k, v in g.items()}


def _clip_variants(grads, max_norm):
    per = {k: v * min(1.0, max_norm / np.linalg.norm(v)) for k, v in grads.items()}
    norm = math.sqrt(sum(float((v * v).sum()) for v in grads.values()))
    always = {k: v * (max_norm / norm) for k, v in grads.items()}
    by_value = {k: np.clip(v, -max_norm, max_norm) for k, v in grads.items()}
    sum_norms = sum(float(np.linalg.norm(v)) for v in grads.values())
    by_sum = {k: v * min(1.0, max_norm / sum_norms) for k, v in grads.items()}
    return [
        (per, "each gradient was rescaled by its OWN norm; global-norm clipping rescales all "
              "of them by ONE factor, max_norm / global_norm, so the direction of the whole "
              "gradient is kept"),
        (always, "the gradients were rescaled although their global norm is below max_norm: "
                 "only rescale when global_norm > max_norm, otherwise return them unchanged"),
        (by_value, "each entry was clipped to [-max_norm, max_norm]: that is clipping by VALUE, "
                   "which changes the direction; rescale by max_norm / global_norm instead"),
        (by_sum, "the global norm used is the SUM of the per-array norms; it is "
                 "sqrt(sum of the squares of ALL entries of all arrays)"),
    ]


def _clip_once(name, fn, grads, max_norm, timeout):
    norm = math.sqrt(sum(float((v * v).sum()) for v in grads.values()))
    ref, ref_norm = optim.clip_by_global_norm(grads, max_norm)
    out = call_args(name, fn, (grads, max_norm), timeout)
    clipped, got_norm = expect_tuple(name, out, ("clipped_grads", "norm"))
    if not isinstance(clipped, dict):
        raise CheckFailed(f"the clipped gradients must be a dict with the same keys as grads "
                          f"({sorted(grads)}); received a {type(clipped).__name__}")
    if set(clipped) != set(grads):
        raise CheckFailed(f"the clipped dict has keys {sorted(clipped)}, expected {sorted(grads)}")
    variants = _clip_variants(grads, max_norm)
    for key in grads:
        g = expect_array(f"clipped_grads[{key!r}]", clipped[key], grads[key].shape,
                         "clipping rescales an array, it keeps its shape")
        compare(f"clipped_grads[{key!r}] (global norm {norm:.3g}, max_norm {max_norm:g})",
                g, ref[key], [(v[key], why) for v, why in variants])
    try:
        n = float(np.asarray(got_norm))
    except (TypeError, ValueError):
        raise CheckFailed(f"the norm returned must be a number; received "
                          f"{type(got_norm).__name__}") from None
    if not np.isclose(n, ref_norm, rtol=1e-6):
        if norm > max_norm and np.isclose(n, max_norm, rtol=1e-6):
            raise CheckFailed(f"the norm returned ({n:.6g}) is the norm AFTER clipping; return the "
                              f"global norm BEFORE clipping ({ref_norm:.6g}), which is what one "
                              "monitors during training")
        raise CheckFailed(f"the norm returned is {n:.6g}; the global norm of the gradients is "
                          f"{ref_norm:.6g} (sqrt of the sum of squares of every entry)")


def check_clip_by_global_norm(clip_by_global_norm, max_norm=1.0, seed=None,
                              timeout=DEFAULT_TIMEOUT):
    """Check ``clip_by_global_norm(grads, max_norm) -> (clipped_grads, norm)`` (chapter 5)."""
    name = "clip_by_global_norm"
    rng = rng_for(seed)
    for scale in (max_norm * rng.uniform(3, 10), max_norm * rng.uniform(0.2, 0.8)):
        _clip_once(name, clip_by_global_norm, _grads(rng, scale), max_norm, timeout)
    passed(f"{name} is correct (max_norm={max_norm:g}): large gradients are rescaled together, small ones are "
           "returned unchanged, and the norm before clipping is returned.")


# ================================================================== 5. masked cross-entropy
def _np_masked_ce(logits, targets, mask, count="mask", use_mask=True, mask_grad=True,
                  onehot=True):
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    m = mask if use_mask else np.ones_like(mask)
    n = {"mask": m.sum(), "all": mask.size, "batch": mask.shape[1], "none": 1.0}[count]
    loss = (nll * m).sum() / n
    oh = np.eye(logits.shape[-1])[targets] if onehot else 0.0
    dl = (np.exp(logp) - oh) * ((m if mask_grad else np.ones_like(m)) / n)[..., None]
    return loss, dl


def _ce_variants(args, k):
    _, _, mask = args
    cnt, allp = int(mask.sum()), mask.size
    return [
        (_np_masked_ce(*args, count="all")[k],
         f"it is divided by the number of ALL positions (T*B = {allp}); divide by the number "
         f"of positions that count, mask.sum() = {cnt}"),
        (_np_masked_ce(*args, use_mask=False)[k],
         "the padded positions (mask == 0) are counted: multiply each position's loss by the "
         "mask and divide by mask.sum()"),
        (_np_masked_ce(*args, count="batch")[k],
         f"it is divided by the batch size B = {mask.shape[1]}; divide by mask.sum() = {cnt}"),
        (_np_masked_ce(*args, count="none")[k],
         f"it is a sum, not a mean: divide by mask.sum() = {cnt}"),
        (_np_masked_ce(*args, mask_grad=False)[k],
         "dlogits is not zero at the padded positions (mask == 0): padding must not receive "
         "a gradient; multiply by the mask"),
        (_np_masked_ce(*args, onehot=False)[k],
         "it is softmax(logits) / count; the gradient of -log softmax(z)[y] is "
         "softmax(z) - onehot(y)"),
    ]


def _ce_inputs(rng, T, B, C):
    logits = rng.normal(scale=2.0, size=(T, B, C))
    targets = rng.integers(0, C, size=(T, B))
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0], lengths[-1] = T, max(1, T - 2)       # at least one full and one padded sequence
    mask = (np.arange(T)[:, None] < lengths[None, :]).astype(float)
    return logits, targets, mask


def _ce_call(name, fn, args, timeout):
    out = call_args(name, fn, args, timeout)
    loss, dl = expect_tuple(name, out, ("loss", "dlogits"))
    try:
        loss = float(np.asarray(loss).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"the loss must be a single number (a float or a 0-d array); "
                          f"received {type(loss).__name__}"
                          + (f" of shape {np.shape(loss)}" if hasattr(loss, 'shape') else "")
                          + ": average the per-position losses") from None
    return loss, dl


def check_masked_cross_entropy(masked_cross_entropy, T=4, B=3, C=5, seed=None,
                               timeout=DEFAULT_TIMEOUT):
    """Check ``masked_cross_entropy(logits, targets, mask) -> (loss, dlogits)``.

    ``logits (T, B, C)``, ``targets (T, B)`` integers, ``mask (T, B)`` of 0/1; the loss is
    the mean of ``-log softmax(logits)[target]`` over the positions with ``mask == 1``.
    """
    name = "masked_cross_entropy"
    rng = rng_for(seed)
    args = _ce_inputs(rng, T, B, C)
    logits, targets, mask = args
    ref_loss, ref_dl = losses.softmax_cross_entropy(logits, targets, mask)
    loss, dl = _ce_call(name, masked_cross_entropy, args, timeout)
    if not math.isfinite(loss):
        raise CheckFailed(f"the loss is {loss}: it must be a finite number")
    compare("the loss", np.asarray(loss), np.asarray(float(ref_loss)),
            [(np.asarray(v), why) for v, why in _ce_variants(args, 0)])
    dl = expect_array("dlogits", dl, logits.shape, "dlogits has the shape of logits (T, B, C)")
    compare("dlogits", dl, ref_dl, _ce_variants(args, 1))
    # Stability: softmax does not change when a constant is added to the logits.
    big = (logits + 1000.0, targets, mask)
    try:
        loss_big, dl_big = _ce_call(name, masked_cross_entropy, big, timeout)
        ok = math.isfinite(loss_big) and np.all(np.isfinite(np.asarray(dl_big, float)))
    except CheckFailed:
        ok = False
    if not ok or not np.isclose(loss_big, float(ref_loss), rtol=1e-6):
        raise CheckFailed("with large logits (all around 1000) the loss is not finite or not "
                          "the same as for logits - 1000: exp(1000) overflows. Subtract the "
                          "maximum logit of each position before exponentiating (softmax is "
                          "unchanged by that shift)")
    # Exactness far in the tail: the target 40 below the best logit. -log p_y = 40 (+ a
    # tiny log-sum-exp term); log(p_y + 1e-12) would cap it at -log(1e-12) = 27.6.
    gap = np.zeros((1, 1, C))
    gap[0, 0, 0] = 40.0
    gap_args = (gap, np.ones((1, 1), dtype=np.int64) * (C - 1), np.ones((1, 1)))
    gap_ref = float(losses.softmax_cross_entropy(*gap_args)[0])
    gap_loss, _ = _ce_call(name, masked_cross_entropy, gap_args, timeout)
    if not np.isclose(gap_loss, gap_ref, rtol=1e-6):
        eps = (f" It equals -log(p_y + 1e-12): adding an epsilon inside the log caps the loss "
               f"at -log(1e-12) = 27.6." if abs(gap_loss + math.log(math.exp(-gap_ref) + 1e-12))
               < 1e-3 else "")
        raise CheckFailed(f"with the target's logit 40 below the largest (logits {gap[0, 0]}, "
                          f"target {C - 1}) the loss is {gap_loss:.6g}; it must be "
                          f"-log softmax(z)[y] = {gap_ref:.6g}.{eps} Compute log-probabilities "
                          "in log space, log_p = z - max(z) - log(sum(exp(z - max(z)))), "
                          "without an epsilon")
    passed(f"{name} is correct: loss and gradient match, padding is ignored, and large "
           f"logits and a 40-logit gap are handled (T={T}, B={B}, C={C}).")


# ================================================================== 6. temperature sampling
def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _as_index(value, C, what):
    if isinstance(value, (bool, np.bool_)):
        raise CheckFailed(f"{what} returned a bool ({value}); return a class index, an int")
    arr = np.asarray(value) if hasattr(value, "shape") else None
    try:
        if arr is not None:
            if arr.shape != () or not np.issubdtype(arr.dtype, np.integer):
                raise TypeError
            idx = int(arr)
        else:
            idx = operator.index(value)
    except TypeError:
        shape = f" of shape {tuple(value.shape)} and dtype {value.dtype}" if arr is not None else ""
        raise CheckFailed(f"{what} must return ONE integer index (an int); it returned "
                          f"{'None (did you forget the `return` statement?)' if value is None else type(value).__name__ + shape}"
                          + (" - e.g. rng.choice(C, p=p) returns an int, rng.choice(C, size=1, "
                             "p=p) an array" if arr is not None and arr.size == 1 else ""))
    if not 0 <= idx < C:
        raise CheckFailed(f"{what} returned {idx}, which is not a class index in [0, {C})")
    return idx


# The logits the distribution is tested on (shuffled at every call): their
# probabilities at the three temperatures are far apart, and far from the mistakes'.
_LOGITS = np.array([2.0, 1.0, 0.3, -0.5, -1.5])
_TEMPERATURES = (0.5, 1.0, 2.0)
N_DRAWS = 4000
Z_TOL = 5.0


def _sampling_variants(z, T):
    C = z.size
    return [
        (_softmax(z * T), "the temperature multiplies the logits; it must DIVIDE them: "
                          "p = softmax(logits / T) (a high T flattens the distribution)"),
        (_softmax(z), "the temperature is ignored: p = softmax(logits / T)"),
        (np.eye(C)[int(np.argmax(z))], "it always returns the argmax; for T > 0 it must draw "
                                       "at random from p = softmax(logits / T)"),
        (np.full(C, 1.0 / C), "the draws are uniform: sample with the probabilities p, e.g. "
                              "rng.choice(len(p), p=p)"),
    ]


def check_sample_char(sample_char, seed=None, n_draws=N_DRAWS, timeout=20.0):
    """Check ``sample_char(logits, temperature, rng) -> int`` (temperature sampling).

    The index must be drawn from ``softmax(logits / temperature)`` with the generator
    ``rng``; ``temperature=0`` (the limit T -> 0) returns ``argmax(logits)``.

    **The statistical test.** For each temperature, ``n_draws`` (4000) indices are
    drawn with a generator seeded ``seed``; every class frequency must lie within
    ``Z_TOL = 5`` standard errors ``sqrt(p(1-p)/n)`` of its probability p. For a
    correct sampler each comparison fails with probability 5.7e-7 (normal
    approximation; p >= 0.02 here, so n p >= 80), so the 15 comparisons together
    wrongly fail fewer than 1 in 100 000 implementations, whatever order they draw
    random numbers in; the mistakes checked here miss by 10 or more standard errors.
    With a given ``seed`` (the graded tests) the logits, their order and the
    generators are fixed, so a given implementation always gets the same verdict;
    ``seed=None`` draws one.
    """
    name = "sample_char"
    if seed is None:
        seed = int(rng_for(None).integers(2**31))
    fresh = rng_for([seed, 1])
    z = fresh.permutation(_LOGITS)
    C = z.size
    # 1. the type of the result (and the logits are left as they were)
    idx = _as_index(call_args(name, sample_char, (z, 0.5, np.random.default_rng(seed)), timeout,
                              names=("logits", "temperature", "rng")), C, name)
    # 2. reproducibility: the randomness must come from rng
    def draws(s, n=25):
        g = np.random.default_rng(s)
        return [sample_char(z.copy(), 1.0, g) for _ in range(n)]
    a = call(name, lambda: draws(seed), timeout)
    b = call(name, lambda: draws(seed), timeout)
    if [_as_index(v, C, name) for v in a] != [_as_index(v, C, name) for v in b]:
        raise CheckFailed("two generators with the same seed gave different samples: draw your "
                          "random numbers from the rng argument (rng.choice, rng.random), not "
                          "from np.random or the random module")
    # 3. the distribution
    for T in _TEMPERATURES:
        p = _softmax(z / T)
        g = np.random.default_rng(seed)
        out = call(name, lambda: [sample_char(z.copy(), T, g) for _ in range(n_draws)], timeout,
                   what=f"{n_draws} calls of {name}(logits, {T:g}, rng)")
        counts = np.bincount([_as_index(v, C, name) for v in out], minlength=C)
        freq = counts / n_draws
        tol = Z_TOL * np.sqrt(p * (1 - p) / n_draws)
        if np.all(np.abs(freq - p) <= tol):
            continue
        why = "the frequencies do not follow softmax(logits / T)"
        for q, msg in _sampling_variants(z, T):
            if np.all(np.abs(freq - q) <= Z_TOL * np.sqrt(np.maximum(q * (1 - q), 1e-4)
                                                          / n_draws)):
                why = msg
                break
        np.set_printoptions(precision=3, suppress=True)
        raise CheckFailed(f"with temperature={T:g}, {why}.\n  logits:                 {z}\n"
                          f"  observed frequencies:   {np.round(freq, 3)} ({n_draws} draws)\n"
                          f"  softmax(logits / T):    {np.round(p, 3)}")
    # 4. the limit T -> 0 is the argmax (T = 0 exactly; a tiny T must not overflow)
    for T in (0.0, 1e-3):
        zz = fresh.normal(size=7)
        zz[fresh.integers(7)] = zz.max() + 0.5         # one clear winner
        try:
            got = _as_index(call(name, lambda: sample_char(zz.copy(), T,
                                                           np.random.default_rng(seed)),
                                 timeout), 7, name)
        except CheckFailed as e:
            raise CheckFailed(f"with temperature={T:g}: {e}\nThe limit T -> 0 of "
                              "softmax(logits / T) puts all mass on the largest logit: return "
                              "argmax(logits) when T == 0, and subtract the maximum before "
                              "exponentiating so that logits / T cannot overflow") from None
        if got != int(np.argmax(zz)):
            raise CheckFailed(f"with temperature={T:g} it returned {got}; the limit T -> 0 is the "
                              f"argmax of the logits, {int(np.argmax(zz))}")
    passed(f"{name} is correct: T = 0 gives the argmax, the draws are reproducible from rng and "
           f"follow softmax(logits / T) for T in {_TEMPERATURES} ({n_draws} draws each).")
