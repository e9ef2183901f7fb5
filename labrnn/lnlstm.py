"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, section "Layer normalized recurrent networks").

The LSTM of :mod:`labrnn.lstm` with layer normalisation (:mod:`labrnn.layernorm`,
equation ``deep-layernorm``, ``LN(z; gamma, beta)`` over the last axis) applied
separately to the input projection and to the recurrent projection, and to
the cell before the output ``tanh``::

    a_t = LN(W_x x_t; g_x, b_x) + LN(W_h h_{t-1}; g_h, b_h) + b    (B, 4H)     (lnlstm-preact)
    i_t, f_t, o_t = sigma(a_i), sigma(a_f), sigma(a_o);  g_t = tanh(a_g)      (lnlstm-gates)
    c_t = f_t * c_{t-1} + i_t * g_t                                           (lnlstm-cell)
    h_t = o_t * tanh(LN(c_t; g_c, b_c))                                       (lnlstm-hidden)

**What is normalised as one vector.** ``W_x x_t`` and ``W_h h_{t-1}`` are each
normalised as ONE vector of length ``4H`` (all four gates' pre-activations
together), as Ba et al. do: their statistics mix the gates, and the fused
gains/shifts ``g_x, b_x, g_h, b_h (4H,)`` are split like ``W_x`` in gate
order i, f, g, o. (Normalising each gate's ``H`` block on its own is the
other common choice; it is not what this module does.) The cell ``c_t`` is
normalised over its ``H`` units with ``g_c, b_c (H,)``. The carried state is
the un-normalised ``c_t``, so the additive cell path of the LSTM is kept.

**Re-scaling invariance.** ``LN(alpha z) = LN(z)`` for ``alpha > 0`` (up to
``eps``), so multiplying ``W_x`` (or ``W_h``) by a positive constant does not
change any output: the scale of the weights no longer decides how saturated
the gates are. The bias ``b`` is added after normalisation (the shifts ``b_x,
b_h`` alone could carry it; ``b`` is kept so that ``forget_bias`` has the
meaning it has for the LSTM).

Backward (chapter 8 chains it through ``ln-backward``; ``LN'`` is that backward)::

    do    = dh_t * tanh(n_t),  n_t = LN(c_t; g_c, b_c)
    dc    = dc_t + LN'(dh_t * o_t * (1 - tanh(n_t)^2))       all gradient reaching c_t
    da    as for the LSTM from do and dc;  dc_{t-1} = dc * f_t  (the carousel)
    dz_x  = LN'(da) for W_x x_t,  dz_h = LN'(da) for W_h h_{t-1}
    dx_t  = dz_x W_x,  dh_{t-1} = dz_h W_h,  dW_x = sum dz_x^T x,  dW_h = sum dz_h^T h_{t-1}

Parameters (keyed by the book's notation): ``W_x (4H, D)``, ``W_h (4H, H)``,
``b (4H,)`` as for the LSTM, gains and shifts ``g_x, b_x, g_h, b_h (4H,)``,
``g_c, b_c (H,)``. Shapes: time-major ``x: (T, B, D)``; the state is the
TUPLE ``(h, c)`` of ``(B, H)`` arrays, as for the LSTM. All arrays share one
namespace, device and float dtype. ``eps`` is the layer norm's (default 1e-5).
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, tanh
from .backend import from_numpy, namespace
from .layernorm import _ln_backward, _ln_forward
from .lstm import (_check_pair, _check_state, _final_state_grads, _initial_state, init_lstm,
                   lstm_param_count)
from .validate import (check_float, check_params, check_shape, check_sequence)

__all__ = ["lnlstm_step_forward", "lnlstm_step_backward", "lnlstm_forward", "lnlstm_backward",
           "init_lnlstm", "lnlstm_param_count", "LNLSTM_PARAMS", "LN_PARAMS"]

LN_PARAMS = ("g_x", "b_x", "g_h", "b_h", "g_c", "b_c")
LNLSTM_PARAMS = ("W_x", "W_h", "b") + LN_PARAMS


# ---------------------------------------------------------------- checks
def _check_lnlstm_params(params):
    """``(dtype, D, H)`` of layer-norm LSTM parameters, with a hint when the gains are missing."""
    if isinstance(params, dict):
        missing = [k for k in LN_PARAMS if k not in params]
        if missing and all(k in params for k in ("W_x", "W_h", "b")):
            raise KeyError(f"params is missing the layer-norm gains/shifts {missing}: a "
                           "layer-normalised LSTM needs g_x, b_x, g_h, b_h (4H,) and g_c, b_c "
                           "(H,) besides W_x, W_h, b (init_lnlstm creates them with gains 1 and "
                           f"shifts 0); it has {sorted(params)}")
    dtype = check_params(params, LNLSTM_PARAMS)
    check_shape("params['W_h']", params["W_h"], (("4H", None), ("H", None)))
    H = params["W_h"].shape[1]
    check_shape("params['W_h']", params["W_h"], (("4H", 4 * H), ("H", H)))
    check_shape("params['W_x']", params["W_x"], (("4H", 4 * H), ("D", None)))
    for k in ("b", "g_x", "b_x", "g_h", "b_h"):
        check_shape(f"params[{k!r}]", params[k], (("4H", 4 * H),))
    for k in ("g_c", "b_c"):
        check_shape(f"params[{k!r}]", params[k], (("H", H),))
    return dtype, params["W_x"].shape[1], H


def _check_eps(eps):
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be a positive number, received {eps!r}: with eps = 0 the "
                         "normalisation of W_h h_0 = 0 divides by zero")
    return float(eps)


# ---------------------------------------------------------------- the cell
def _cell_forward(ax, h_prev, c_prev, params, eps):
    """From ``ax = LN(W_x x_t) + b`` (B, 4H) and the previous state: ``h, c, inner cache``."""
    xp = namespace(ax)
    H = c_prev.shape[-1]
    zh = xp.matmul(h_prev, xp.matrix_transpose(params["W_h"]))
    nh, ln_h = _ln_forward(zh, params["g_h"], params["b_h"], eps)
    a = ax + nh                                                    # eq. lnlstm-preact
    a_i, a_f, a_g, a_o = (a[..., k * H:(k + 1) * H] for k in range(4))
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)   # eq. lnlstm-gates
    c = f * c_prev + i * g                                         # eq. lnlstm-cell
    n, ln_c = _ln_forward(c, params["g_c"], params["b_c"], eps)
    tn = tanh(n)
    h = o * tn                                                     # eq. lnlstm-hidden
    return h, c, (ln_h, i, f, g, o, ln_c, tn)


def _cell_backward(dh, dc, c_prev, inner):
    """``(da, dz_h, dc_prev, (dg_h, db_h, dg_c, db_c))`` for one step, all (B, .)."""
    xp = namespace(dh)
    ln_h, i, f, g, o, ln_c, tn = inner
    da_o = dh * tn * o * (1.0 - o)
    dc_ln, dg_c, db_c = _ln_backward(dh * o * (1.0 - tn * tn), ln_c)
    dc = dc + dc_ln
    da_i = dc * g * i * (1.0 - i)
    da_f = dc * c_prev * f * (1.0 - f)
    da_g = dc * i * (1.0 - g * g)
    dc_prev = dc * f                                               # the constant error carousel
    da = xp.concat([da_i, da_f, da_g, da_o], axis=-1)
    dzh, dg_h, db_h = _ln_backward(da, ln_h)
    return da, dzh, dc_prev, (dg_h, db_h, dg_c, db_c)


# ---------------------------------------------------------------- one step
def lnlstm_step_forward(x_t, state, params, eps=1e-5):
    """One layer-normalised LSTM step, equations ``lnlstm-preact`` to ``lnlstm-hidden``.

    Parameters
    ----------
    x_t : array (B, D)
    state : tuple ``(h_prev, c_prev)`` of arrays (B, H)
    params : dict ``W_x (4H, D)``, ``W_h (4H, H)``, ``b (4H,)`` (gate order i, f, g, o),
        ``g_x, b_x, g_h, b_h (4H,)``, ``g_c, b_c (H,)``
    eps : float > 0, the layer norm's

    Returns
    -------
    (h_t, c_t) : tuple of arrays (B, H)
    cache : used by :func:`lnlstm_step_backward`
    """
    dtype, D, H = _check_lnlstm_params(params)
    eps = _check_eps(eps)
    _check_pair("state", state, "(h_prev, c_prev)")
    xp = namespace(x_t, state[0], state[1], params["W_x"],
                   names=["x_t", "state[0] (h)", "state[1] (c)", "params['W_x']"])
    check_float("x_t", x_t, dtype)
    B = check_shape("x_t", x_t, (("B", None), ("D", D)))[0]
    h_prev, c_prev = _check_state("state", state, B, H, dtype)
    zx = xp.matmul(x_t, xp.matrix_transpose(params["W_x"]))
    nx, ln_x = _ln_forward(zx, params["g_x"], params["b_x"], eps)
    h, c, inner = _cell_forward(nx + params["b"], h_prev, c_prev, params, eps)
    return (h, c), (x_t, h_prev, c_prev, c, ln_x, inner, params)


def lnlstm_step_backward(dstate, cache):
    """Backward of one layer-normalised LSTM step (chained through ``ln-backward``, chapter 8).

    ``dstate = (dh_t, dc_t)``: the total gradients reaching ``h_t`` and ``c_t``
    (``dc_t`` may be ``None`` for zero). Returns ``(dx_t, (dh_prev, dc_prev), grads)``
    with ``grads`` keyed like ``params`` (``W_x, W_h, b, g_x, b_x, g_h, b_h, g_c, b_c``).
    """
    x_t, h_prev, c_prev, c, ln_x, inner, params = cache
    dh, dc = _check_pair("dstate", dstate, "(dh_t, dc_t)")
    xp = namespace(dh, dc, c, names=["dstate[0] (dh_t)", "dstate[1] (dc_t)", "the cached c_t"])
    B, H = c.shape
    check_shape("dstate[0] (dh_t)", dh, (("B", B), ("H", H)))
    if dc is None:
        dc = xp.zeros_like(c)
    check_shape("dstate[1] (dc_t)", dc, (("B", B), ("H", H)))
    da, dzh, dc_prev, (dg_h, db_h, dg_c, db_c) = _cell_backward(dh, dc, c_prev, inner)
    dzx, dg_x, db_x = _ln_backward(da, ln_x)
    grads = {"W_x": xp.matmul(xp.matrix_transpose(dzx), x_t),
             "W_h": xp.matmul(xp.matrix_transpose(dzh), h_prev),
             "b": xp.sum(da, axis=0),
             "g_x": dg_x, "b_x": db_x, "g_h": dg_h, "b_h": db_h, "g_c": dg_c, "b_c": db_c}
    dx = xp.matmul(dzx, params["W_x"])
    dh_prev = xp.matmul(dzh, params["W_h"])
    return dx, (dh_prev, dc_prev), grads


# ---------------------------------------------------------------- a sequence
def lnlstm_forward(x, params, state0=None, eps=1e-5):
    """Run the layer-normalised LSTM over a sequence (``lnlstm-preact`` .. ``lnlstm-hidden``).

    ``W_x x_t`` of all time steps is one matrix product and its layer norm one
    call (over the last axis of ``(T, B, 4H)``); only the recurrent part loops.

    Parameters
    ----------
    x : array (T, B, D), time-major
    params : dict, see :func:`lnlstm_step_forward`
    state0 : tuple ``(h0, c0)`` of arrays (B, H), optional; zeros by default
    eps : float > 0, the layer norm's

    Returns
    -------
    h : array (T, B, H), the hidden states h_1..h_T
    (h_T, c_T) : the final state
    cache : used by :func:`lnlstm_backward`
    """
    dtype, D, H = _check_lnlstm_params(params)
    eps = _check_eps(eps)
    xp = namespace(x, params["W_x"], names=["x", "params['W_x']"])
    T, B = check_sequence("x", x, D, dtype)
    h0, c0 = _initial_state(x, state0, B, H, dtype)
    zx = xp.matmul(x, xp.matrix_transpose(params["W_x"]))          # (T, B, 4H), one GEMM
    nx, ln_x = _ln_forward(zx, params["g_x"], params["b_x"], eps)
    ax = nx + params["b"]
    hs, cs, inners = [], [], []
    h, c = h0, c0
    for t in range(T):
        h, c, inner = _cell_forward(ax[t, ...], h, c, params, eps)
        hs.append(h)
        cs.append(c)
        inners.append(inner)
    hseq, cseq = xp.stack(hs, axis=0), xp.stack(cs, axis=0)
    return hseq, (h, c), (x, h0, c0, hseq, cseq, ln_x, inners, params)


def lnlstm_backward(dh, cache, dstate_T=None):
    """Backpropagation through time for :func:`lnlstm_forward`.

    Parameters
    ----------
    dh : array (T, B, H), the gradient of the loss with respect to each hidden state
    cache : from :func:`lnlstm_forward`
    dstate_T : tuple ``(dh_T, dc_T)``, optional (either entry may be ``None``)

    Returns
    -------
    dx : array (T, B, D)
    (dh0, dc0) : gradients of the initial state
    grads : dict keyed like ``params``, each summed over all time steps
    """
    x, h0, c0, hseq, cseq, ln_x, inners, params = cache
    xp = namespace(dh, hseq, names=["dh", "hidden states"])
    T, B, H = hseq.shape
    check_shape("dh", dh, (("T", T), ("B", B), ("H", H)))
    dh_next, dc_next = _final_state_grads(dh, dstate_T, h0, c0)
    c_prev = xp.concat([c0[None, ...], cseq[:-1, ...]], axis=0)     # c_0..c_{T-1}
    W_h = params["W_h"]
    das, dzhs = [None] * T, [None] * T
    ln_grads = None
    for t in range(T - 1, -1, -1):
        das[t], dzhs[t], dc_next, g = _cell_backward(dh[t, ...] + dh_next, dc_next,
                                                     c_prev[t, ...], inners[t])
        ln_grads = g if ln_grads is None else tuple(s + u for s, u in zip(ln_grads, g))
        dh_next = xp.matmul(dzhs[t], W_h)
    da, dzh = xp.stack(das, axis=0), xp.stack(dzhs, axis=0)        # (T, B, 4H)
    dzx, dg_x, db_x = _ln_backward(da, ln_x)
    h_prev = xp.concat([h0[None, ...], hseq[:-1, ...]], axis=0)     # h_0..h_{T-1}
    D = x.shape[-1]
    flat = lambda a, n: xp.reshape(a, (T * B, n))                  # noqa: E731
    dg_h, db_h, dg_c, db_c = ln_grads
    grads = {"W_x": xp.matmul(xp.matrix_transpose(flat(dzx, 4 * H)), flat(x, D)),
             "W_h": xp.matmul(xp.matrix_transpose(flat(dzh, 4 * H)), flat(h_prev, H)),
             "b": xp.sum(flat(da, 4 * H), axis=0),
             "g_x": dg_x, "b_x": db_x, "g_h": dg_h, "b_h": db_h, "g_c": dg_c, "b_c": db_c}
    dx = xp.matmul(dzx, params["W_x"])
    return dx, (dh_next, dc_next), grads


# ---------------------------------------------------------------- parameters
def lnlstm_param_count(D, H):
    """Number of layer-norm LSTM parameters: the LSTM's ``4 (H*D + H*H + H)`` plus ``18 H``.

    ``16 H`` for the gains and shifts of the two ``4H``-wide normalisations,
    ``2 H`` for those of the cell's.
    """
    return lstm_param_count(D, H) + 4 * 4 * H + 2 * H


def init_lnlstm(D, H, seed=0, forget_bias=1.0, W_h="orthogonal", xp=None, device=None,
                dtype="float64"):
    """Layer-norm LSTM parameters: ``W_x, W_h, b`` of :func:`labrnn.init_lstm`, gains and shifts.

    ``W_x (4H, D)``, ``W_h (4H, H)``, ``b (4H,)`` are exactly those of
    :func:`labrnn.init_lstm` with the same ``seed``, ``forget_bias`` and ``W_h``
    (so an LSTM and its layer-normalised twin start from the same weights);
    gains ``g_x, g_h (4H,)``, ``g_c (H,)`` are 1 and shifts ``b_x, b_h (4H,)``,
    ``b_c (H,)`` are 0. Created on the host and moved to ``xp``/``device``.
    """
    params = init_lstm(D, H, seed=seed, forget_bias=forget_bias, W_h=W_h, xp=xp,
                       device=device, dtype=dtype)
    ln = {"g_x": np.ones(4 * H), "b_x": np.zeros(4 * H), "g_h": np.ones(4 * H),
          "b_h": np.zeros(4 * H), "g_c": np.ones(H), "b_c": np.zeros(H)}
    params.update({k: from_numpy(v, xp=xp, device=device, dtype=dtype) for k, v in ln.items()})
    return params
