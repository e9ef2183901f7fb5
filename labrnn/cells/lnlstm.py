"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, section "Layer normalized recurrent networks").

The LSTM of :mod:`labrnn.cells.lstm` with layer normalisation (:mod:`labrnn.layers.layernorm`,
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

The cell is :data:`LNLSTM` (registered as ``"lnlstm"``, see :mod:`labrnn.cells`); the
functions below are its passes under the book's names.
"""

from __future__ import annotations

import numpy as np

from ..backend import from_numpy
from ..layers.layernorm import ln_kernel, ln_kernel_backward
from .base import Cell
from ..layers.activations import sigmoid
from .lstm import init_lstm, lstm_param_count

__all__ = ["LNLSTM", "LNLSTMCell", "lnlstm_step_forward", "lnlstm_step_backward",
           "lnlstm_forward", "lnlstm_backward", "init_lnlstm", "lnlstm_param_count",
           "LNLSTM_PARAMS", "LN_PARAMS"]

LN_PARAMS = ("g_x", "b_x", "g_h", "b_h", "g_c", "b_c")
LNLSTM_PARAMS = ("W_x", "W_h", "b") + LN_PARAMS


def _check_eps(eps):
    if isinstance(eps, bool) or not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be a positive number, received {eps!r}: with eps = 0 the "
                         "normalisation of W_h h_0 = 0 divides by zero")
    return float(eps)


class LNLSTMCell(Cell):
    """The layer-normalised LSTM; its state is ``(h, c)``, its option the layer norm's ``eps``."""

    name = "lnlstm"
    state_names = ("h", "c")
    gates = 4
    options = {"eps": 1e-5}

    def bounded(self, v):
        """States stay finite: gates and candidates are squashed (a cell grows at most by 1 a step)."""
        return True

    def variant(self, params, **options):
        v = super().variant(params, **options)
        v["eps"] = _check_eps(v["eps"])
        return v

    def check(self, params, D=None, **options):
        if isinstance(params, dict):
            missing = [k for k in LN_PARAMS if k not in params]
            if missing and all(k in params for k in ("W_x", "W_h", "b")):
                raise KeyError(f"params is missing the layer-norm gains/shifts {missing}: a "
                               "layer-normalised LSTM needs g_x, b_x, g_h, b_h (4H,) and g_c, "
                               "b_c (H,) besides W_x, W_h, b (init_lnlstm creates them with "
                               f"gains 1 and shifts 0); it has {sorted(params)}")
        return super().check(params, D, **options)

    def param_names(self, **variant):
        return LNLSTM_PARAMS

    def shapes(self, D, H, **variant):
        shapes = {"W_x": (4 * H, D), "W_h": (4 * H, H)}
        shapes.update({k: (4 * H,) for k in ("b", "g_x", "b_x", "g_h", "b_h")})
        shapes.update({"g_c": (H,), "b_c": (H,)})
        return shapes

    def init(self, D, H, seed=0, xp=None, device=None, dtype="float64", **kw):
        return init_lnlstm(D, H, seed=seed, xp=xp, device=device, dtype=dtype, **kw)

    def project(self, xp, x, params, v):
        """``LN(x W_x^T; g_x, b_x) + b`` of all steps: one GEMM and one normalisation."""
        zx = xp.matmul(x, xp.matrix_transpose(params["W_x"]))
        nx, ln_x = ln_kernel(xp, zx, params["g_x"], params["b_x"], v["eps"])
        return nx + params["b"], ln_x

    def project_back(self, xp, da, x, params, ln_x):
        T, B, D = x.shape
        dzx, dg_x, db_x = ln_kernel_backward(xp, da, ln_x)
        flat = lambda a: xp.reshape(a, (T * B, a.shape[-1]))      # noqa: E731
        return (xp.matmul(dzx, params["W_x"]),
                {"W_x": xp.matmul(xp.matrix_transpose(flat(dzx)), flat(x)),
                 "b": xp.sum(flat(da), axis=0), "g_x": dg_x, "b_x": db_x})

    def step(self, xp, ax, state, params, v):
        """From ``ax = LN(W_x x_t) + b`` (B, 4H) and the previous state: eq. ``lnlstm-preact`` on."""
        h_prev, c_prev = state
        H = c_prev.shape[-1]
        zh = xp.matmul(h_prev, xp.matrix_transpose(params["W_h"]))
        nh, ln_h = ln_kernel(xp, zh, params["g_h"], params["b_h"], v["eps"])
        a = ax + nh                                                    # eq. lnlstm-preact
        # eq. lnlstm-gates
        a_i, a_f, a_g, a_o = (a[..., k * H:(k + 1) * H] for k in range(4))
        i, f, g, o = sigmoid(a_i, xp), sigmoid(a_f, xp), xp.tanh(a_g), sigmoid(a_o, xp)
        c = f * c_prev + i * g                                         # eq. lnlstm-cell
        n, ln_c = ln_kernel(xp, c, params["g_c"], params["b_c"], v["eps"])
        tn = xp.tanh(n)
        h = o * tn                                                     # eq. lnlstm-hidden
        return (h, c), (ln_h, i, f, g, o, ln_c, tn)

    def step_back(self, xp, dstate, state_prev, inner, params, v):
        dh, dc = dstate
        c_prev = state_prev[1]
        ln_h, i, f, g, o, ln_c, tn = inner
        da_o = dh * tn * o * (1.0 - o)
        dc_ln, dg_c, db_c = ln_kernel_backward(xp, dh * o * (1.0 - tn * tn), ln_c)
        dc = dc + dc_ln
        da_i = dc * g * i * (1.0 - i)
        da_f = dc * c_prev * f * (1.0 - f)
        da_g = dc * i * (1.0 - g * g)
        dc_prev = dc * f                                               # the constant error carousel
        da = xp.concat([da_i, da_f, da_g, da_o], axis=-1)
        dzh, dg_h, db_h = ln_kernel_backward(xp, da, ln_h)
        return da, (xp.matmul(dzh, params["W_h"]), dc_prev), (dzh, dg_h, db_h, dg_c, db_c)

    def grads(self, xp, da, recs, s_prev, s_new, caches, params, v):
        N = da.shape[0]
        dzh = xp.reshape(xp.stack([r[0] for r in recs], axis=0), (N, da.shape[-1]))
        sums = list(recs[0][1:])                       # the normalisations' gains and shifts
        for r in recs[1:]:
            sums = [s + u for s, u in zip(sums, r[1:])]
        return {"W_h": xp.matmul(xp.matrix_transpose(dzh), s_prev[0]),
                **dict(zip(("g_h", "b_h", "g_c", "b_c"), sums))}


LNLSTM = LNLSTMCell()


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
    return LNLSTM.step_forward(x_t, state, params, eps=eps)


def lnlstm_step_backward(dstate, cache):
    """Backward of one layer-normalised LSTM step (chained through ``ln-backward``, chapter 8).

    ``dstate = (dh_t, dc_t)``: the total gradients reaching ``h_t`` and ``c_t``
    (``dc_t`` may be ``None`` for zero). Returns ``(dx_t, (dh_prev, dc_prev), grads)``
    with ``grads`` keyed like ``params`` (``W_x, W_h, b, g_x, b_x, g_h, b_h, g_c, b_c``).
    """
    return LNLSTM.step_backward(dstate, cache)


def lnlstm_forward(x, params, state0=None, lengths=None, eps=1e-5):
    """Run the layer-normalised LSTM over a sequence (``lnlstm-preact`` .. ``lnlstm-hidden``).

    ``W_x x_t`` of all time steps is one matrix product and its layer norm one
    call (over the last axis of ``(T, B, 4H)``); only the recurrent part loops.

    Parameters
    ----------
    x : array (T, B, D), time-major
    params : dict, see :func:`lnlstm_step_forward`
    state0 : tuple ``(h0, c0)`` of arrays (B, H), optional; zeros by default
    lengths : integer array (B,), optional: a padded batch (equation ``masked-state``)
    eps : float > 0, the layer norm's

    Returns
    -------
    h : array (T, B, H), the hidden states h_1..h_T
    (h_T, c_T) : the final state
    cache : used by :func:`lnlstm_backward`
    """
    return LNLSTM.forward(x, params, state0, lengths, eps=eps)


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
    return LNLSTM.backward(dh, cache, dstate_T)

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
