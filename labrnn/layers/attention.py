"""Attention over encoder outputs: additive and multiplicative scores (book chapter 11).

A decoder state ``q`` (the *query*, (B, Hq)) scores every encoder output
``k_t`` (the *keys*, also the values, (T, B, Hk)); a softmax over the real
(unmasked) steps turns the scores into weights, and the context is the
weighted mean of the encoder outputs, equations ``attn-score`` to ``attn-context``::

    additive (Bahdanau et al. 2015):    e_t = v^T tanh(W_q q + W_k k_t)        W_q (A, Hq), W_k (A, Hk), v (A,)
    general  (Luong et al. 2015):       e_t = q^T W_a k_t                       W_a (Hq, Hk)
    dot      (Luong et al. 2015):       e_t = q^T k_t                           no parameters, Hq = Hk
    alpha_t = exp(e_t) / sum_{s real} exp(e_s)     (alpha_t = 0 at padded steps)  (T, B)
    c       = sum_t alpha_t k_t                                                  (B, Hk)

``mask`` follows the package's mask convention (:mod:`labrnn.layers.masking`): ``(T, B)``,
boolean or 0/1 numbers, ``True``/1 = a real step. Padded positions get weight exactly 0 (their score
is replaced by ``-inf`` before the softmax), hence zero gradient too.
The weights ``alpha`` (T, B) are returned for alignment heatmaps.

Backward, with ``dc`` (B, Hk) and optionally ``dalpha`` (T, B)::

    dalpha_t += dc . k_t,   de_t = alpha_t (dalpha_t - sum_s alpha_s dalpha_s)    softmax backward
    dk_t      = alpha_t dc + (score backward)
"""

from __future__ import annotations

from ..backend import from_numpy, host_rng, namespace
from ..errors import ShapeError
from .init import glorot_uniform
from .masking import check_mask
from ..validate import check_array, check_float, check_nonempty, check_positive_int, check_seed, check_shape

__all__ = ["SCORES", "init_attention", "attention_forward", "attention_backward"]

SCORES = ("additive", "general", "dot")
_PARAMS = {"additive": ("W_q", "W_k", "v"), "general": ("W_a",), "dot": ()}


def _check_score(score):
    if score not in SCORES:
        raise ValueError(f"unknown attention score {score!r}; choose one of {list(SCORES)}")
    return score


def init_attention(score, Hq, Hk, A=None, seed=0, xp=None, device=None, dtype="float64"):
    """Parameters of an attention score: ``W_q (A, Hq), W_k (A, Hk), v (A,)`` (additive,
    ``A`` defaults to ``Hk``), ``W_a (Hq, Hk)`` (general) or none (dot). Drawn on the host."""
    _check_score(score)
    Hq, Hk = check_positive_int("Hq", Hq), check_positive_int("Hk", Hk)
    A = Hk if A is None else check_positive_int("A", A)
    check_seed("seed", seed)
    rng = host_rng(seed)
    if score == "additive":
        p = {"W_q": glorot_uniform((A, Hq), rng), "W_k": glorot_uniform((A, Hk), rng),
             "v": rng.uniform(-1.0, 1.0, size=A) / A ** 0.5}
    elif score == "general":
        p = {"W_a": glorot_uniform((Hq, Hk), rng)}
    else:
        if Hq != Hk:
            raise ValueError(f"dot attention needs Hq == Hk, received Hq={Hq}, Hk={Hk}; "
                             "use score='general'")
        p = {}
    return {k: from_numpy(v, xp=xp, device=device, dtype=dtype) for k, v in p.items()}


def attention_forward(q, keys, params, score="additive", mask=None):
    """Context and weights of query ``q`` (B, Hq) over ``keys`` (T, B, Hk) (equations ``attn-*``).

    ``params`` holds the score's parameters (extra keys are ignored); ``mask``
    is a (T, B) boolean or 0/1 array (True/1 = a real step, see
    :func:`labrnn.layers.masking.sequence_mask`), ``None`` for all steps.

    Returns ``(context (B, Hk), alpha (T, B), cache)``.
    """
    _check_score(score)
    names = _PARAMS[score]
    check_array("q", q, "a (B, Hq) float array")
    check_array("keys", keys, "a (T, B, Hk) float array")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    missing = [k for k in names if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing} for score={score!r}; it has {sorted(params)}")
    for k in names:
        check_array(f"params[{k!r}]", params[k])
    xp = namespace(q, keys, *[params[k] for k in names],
                   names=["q", "keys"] + [f"params[{k!r}]" for k in names])
    check_float("keys", keys)
    check_float("q", q, keys.dtype)
    T, B, Hk = check_shape("keys", keys, (("T", None), ("B", None), ("Hk", None)))
    Hq = check_shape("q", q, (("B", B), ("Hq", None)))[1]
    if B == 0 or Hk == 0:
        raise ShapeError(f"keys must have B >= 1 and Hk >= 1, received shape {(T, B, Hk)}")
    check_nonempty("keys", keys)
    if mask is not None:
        mask = check_mask(mask, T, B, keys)
    aux = None
    if score == "additive":
        A = check_shape("params['v']", params["v"], (("A", None),))[0]
        check_shape("params['W_q']", params["W_q"], (("A", A), ("Hq", Hq)))
        check_shape("params['W_k']", params["W_k"], (("A", A), ("Hk", Hk)))
        for k in names:
            check_float(f"params[{k!r}]", params[k], keys.dtype)
        pre = xp.tanh(xp.matmul(keys, xp.matrix_transpose(params["W_k"]))
                      + xp.matmul(q, xp.matrix_transpose(params["W_q"]))[None, ...])   # (T, B, A)
        e = xp.sum(pre * params["v"], axis=-1)                                           # (T, B)
        aux = pre
    else:
        if score == "general":
            check_shape("params['W_a']", params["W_a"], (("Hq", Hq), ("Hk", Hk)))
            check_float("params['W_a']", params["W_a"], keys.dtype)
            qW = xp.matmul(q, params["W_a"])                                             # (B, Hk)
        else:
            check_shape("q", q, (("B", B), ("Hq = Hk", Hk)))
            qW = q
        e = xp.sum(keys * qW[None, ...], axis=-1)
        aux = qW
    if mask is not None:
        e = xp.where(mask, e, xp.asarray(-xp.inf, dtype=e.dtype, device=e.device))
    e = e - xp.max(e, axis=0, keepdims=True)
    w = xp.exp(e)
    alpha = w / xp.sum(w, axis=0, keepdims=True)                                         # (T, B)
    context = xp.sum(alpha[..., None] * keys, axis=0)                                    # (B, Hk)
    return context, alpha, (q, keys, params, score, alpha, aux)


def attention_backward(dcontext, cache, dalpha=None):
    """Backward of :func:`attention_forward`.

    ``dcontext`` (B, Hk); ``dalpha`` (T, B) optional (a loss on the weights).
    Returns ``(dq (B, Hq), dkeys (T, B, Hk), grads)``, ``grads`` keyed like
    the score's parameters (empty for ``"dot"``). Masked steps get zero ``dkeys``.
    """
    if not (isinstance(cache, tuple) and len(cache) == 6):
        raise TypeError("cache must be the third value returned by attention_forward, received "
                        f"{type(cache).__name__}")
    q, keys, params, score, alpha, aux = cache
    check_array("dcontext", dcontext, "a (B, Hk) float array")
    xp = namespace(dcontext, keys, names=["dcontext", "keys"])
    T, B, Hk = keys.shape
    check_shape("dcontext", dcontext, (("B", B), ("Hk", Hk)))
    da = xp.sum(keys * dcontext[None, ...], axis=-1)                                     # (T, B)
    if dalpha is not None:
        namespace(dalpha, keys, names=["dalpha", "keys"])
        check_shape("dalpha", dalpha, (("T", T), ("B", B)))
        da = da + dalpha
    de = alpha * (da - xp.sum(alpha * da, axis=0, keepdims=True))                        # (T, B)
    dkeys = alpha[..., None] * dcontext[None, ...]
    grads = {}
    if score == "additive":
        pre = aux
        A = pre.shape[-1]
        grads["v"] = xp.sum(xp.reshape(de[..., None] * pre, (T * B, A)), axis=0)
        dz = de[..., None] * params["v"] * (1.0 - pre * pre)                            # (T, B, A)
        dkeys = dkeys + xp.matmul(dz, params["W_k"])
        grads["W_k"] = xp.matmul(xp.matrix_transpose(xp.reshape(dz, (T * B, A))),
                                 xp.reshape(keys, (T * B, Hk)))
        dzq = xp.sum(dz, axis=0)                                                          # (B, A)
        grads["W_q"] = xp.matmul(xp.matrix_transpose(dzq), q)
        dq = xp.matmul(dzq, params["W_q"])
    else:
        qW = aux
        dkeys = dkeys + de[..., None] * qW[None, ...]
        dqW = xp.sum(de[..., None] * keys, axis=0)                                        # (B, Hk)
        if score == "general":
            grads["W_a"] = xp.matmul(xp.matrix_transpose(q), dqW)
            dq = xp.matmul(dqW, xp.matrix_transpose(params["W_a"]))
        else:
            dq = dqW
    return dq, dkeys, grads
