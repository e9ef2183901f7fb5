"""Long short-term memory, LSTM (book chapter 6).

Book equations, for one example as column vectors (sigma: logistic sigmoid,
``*``: element-wise product)::

    i_t = sigma(W_xi x_t + W_hi h_{t-1} + b_i  [+ w_ci * c_{t-1}])     input gate      (lstm-gates)
    f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f  [+ w_cf * c_{t-1}])     forget gate
    g_t = tanh (W_xg x_t + W_hg h_{t-1} + b_g)                         candidate cell
    o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o  [+ w_co * c_t])         output gate
    c_t = f_t * c_{t-1} + i_t * g_t                                    cell state      (lstm-cell)
    h_t = o_t * tanh(c_t)                                              hidden state    (lstm-hidden)

The bracketed terms are the optional peephole connections (Gers & Schmidhuber
2000): diagonal weights ``w_ci, w_cf`` let the input and forget gates look at
the previous cell ``c_{t-1}``, ``w_co`` lets the output gate look at the new
cell ``c_t``. Without peepholes they are absent (not zero-filled).

**Fused weights.** The four gates read the same ``x_t`` and ``h_{t-1}``, so
their matrices are stacked and computed by ONE matrix product each::

    a_t = x_t W_x^T + h_{t-1} W_h^T + b          (B, 4H), then split into a_i, a_f, a_g, a_o

    W_x = [W_xi; W_xf; W_xg; W_xo]   (4H, D)
    W_h = [W_hi; W_hf; W_hg; W_ho]   (4H, H)
    b   = [b_i;  b_f;  b_g;  b_o ]   (4H,)

**Gate order: i, f, g, o** (input, forget, candidate, output), the order of
PyTorch's ``nn.LSTM`` and, under the names i, f, c, o, of Keras' ``LSTM``, so
conversion (:mod:`labrnn.convert`) only transposes and never permutes.
:func:`lstm_gate_views` returns the per-gate matrices of the book as slices of
the fused ones. Peephole weights ``w_ci, w_cf, w_co`` have shape ``(H,)``.

Backward (the additive cell path, "constant error carousel")::

    do   = dh_t * tanh(c_t)
    dc   = dc_t + dh_t * o_t * (1 - tanh(c_t)^2)  [+ da_o * w_co]   all gradient reaching c_t
    da_o = do * o(1-o);  da_i = dc * g * i(1-i);  da_f = dc * c_{t-1} * f(1-f);  da_g = dc * i * (1-g^2)
    dc_{t-1} = dc * f_t  [+ da_i * w_ci + da_f * w_cf]                 the carousel: a product by f only
    dh_{t-1} = da W_h,  dx_t = da W_x,  dW_x = sum da^T x,  dW_h = sum da^T h_{t-1},  db = sum da

Shapes: time-major ``x: (T, B, D)``; states ``h, c: (B, H)``; the state of an
LSTM is the TUPLE ``(h, c)`` everywhere (arguments and results). All arrays
share one namespace, device and float dtype. The variant is read from the
parameters: with ``w_ci, w_cf, w_co`` the cell is a peephole LSTM.

The cell is :data:`LSTM` (registered as ``"lstm"``, see :mod:`labrnn.cells`); the
functions below are its passes under the book's names.
"""

from __future__ import annotations

import numpy as np

from ..layers.activations import sigmoid
from ..backend import from_numpy, host_rng
from ..layers.init import glorot_uniform, orthogonal
from ..layers.affine import gate_views
from .base import Cell

__all__ = ["LSTM", "LSTMCell", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
           "lstm_backward", "init_lstm", "lstm_gate_views", "lstm_param_count", "GATES",
           "LSTM_PARAMS", "PEEPHOLE_PARAMS", "check_lstm_params", "lstm_gates", "lstm_gates_backward"]

GATES = ("i", "f", "g", "o")
LSTM_PARAMS = ("W_x", "W_h", "b")
PEEPHOLE_PARAMS = ("w_ci", "w_cf", "w_co")


# ---------------------------------------------------------------- the gate maths
def lstm_gates(xp, a, c_prev, params, peephole):
    """Gates, cell and hidden state from the pre-activations ``a`` (B, 4H), unchecked.

    Equations ``lstm-gates``, ``lstm-cell``, ``lstm-hidden``; returns ``(h, c, gates)``.
    """
    H = c_prev.shape[-1]
    a_i, a_f, a_g, a_o = (a[..., k * H:(k + 1) * H] for k in range(4))
    if peephole:
        a_i = a_i + params["w_ci"] * c_prev
        a_f = a_f + params["w_cf"] * c_prev
    i, f, g = sigmoid(a_i, xp), sigmoid(a_f, xp), xp.tanh(a_g)     # eq. lstm-gates
    c = f * c_prev + i * g                                        # eq. lstm-cell
    if peephole:
        a_o = a_o + params["w_co"] * c
    o = sigmoid(a_o, xp)
    tc = xp.tanh(c)
    h = o * tc                                                    # eq. lstm-hidden
    return h, c, (i, f, g, o, tc)


def lstm_gates_backward(xp, dh, dc, c_prev, gates, params, peephole):
    """``(da, dc_prev)``: gradient of the fused pre-activations (B, 4H) and of c_{t-1}."""
    i, f, g, o, tc = gates
    da_o = dh * tc * o * (1.0 - o)
    dc = dc + dh * o * (1.0 - tc * tc)
    if peephole:
        dc = dc + da_o * params["w_co"]
    da_i = dc * g * i * (1.0 - i)
    da_f = dc * c_prev * f * (1.0 - f)
    da_g = dc * i * (1.0 - g * g)
    dc_prev = dc * f                                              # the constant error carousel
    if peephole:
        dc_prev = dc_prev + da_i * params["w_ci"] + da_f * params["w_cf"]
    return xp.concat([da_i, da_f, da_g, da_o], axis=-1), dc_prev


class LSTMCell(Cell):
    """The LSTM, with or without peepholes; its state is ``(h, c)``."""

    name = "lstm"
    state_names = ("h", "c")
    gates = 4

    def bounded(self, v):
        """States stay finite: gates and candidates are squashed (a cell grows at most by 1 a step)."""
        return True

    def variant_of(self, params):
        return {"peephole": isinstance(params, dict) and "w_ci" in params}

    def param_names(self, peephole=False):
        return LSTM_PARAMS + (PEEPHOLE_PARAMS if peephole else ())

    def shapes(self, D, H, peephole=False, **_):
        shapes = {"W_x": (4 * H, D), "W_h": (4 * H, H), "b": (4 * H,)}
        shapes.update({k: (H,) for k in (PEEPHOLE_PARAMS if peephole else ())})
        return shapes

    def init(self, D, H, seed=0, xp=None, device=None, dtype="float64", **kw):
        return init_lstm(D, H, seed=seed, xp=xp, device=device, dtype=dtype, **kw)

    def step(self, xp, ax_t, state, params, v):
        h_prev, c_prev = state
        a = ax_t + xp.matmul(h_prev, xp.matrix_transpose(params["W_h"]))
        h, c, gates = lstm_gates(xp, a, c_prev, params, v["peephole"])
        return (h, c), gates

    def step_back(self, xp, dstate, state_prev, gates, params, v):
        da, dc_prev = lstm_gates_backward(xp, dstate[0], dstate[1], state_prev[1], gates,
                                          params, v["peephole"])
        return da, (xp.matmul(da, params["W_h"]), dc_prev), None

    def grads(self, xp, da, recs, s_prev, s_new, caches, params, v):
        H = s_prev[0].shape[-1]
        grads = {"W_h": xp.matmul(xp.matrix_transpose(da), s_prev[0])}
        if v["peephole"]:
            grads["w_ci"] = xp.sum(da[:, 0:H] * s_prev[1], axis=0)
            grads["w_cf"] = xp.sum(da[:, H:2 * H] * s_prev[1], axis=0)
            grads["w_co"] = xp.sum(da[:, 3 * H:] * s_new[1], axis=0)
        return grads


LSTM = LSTMCell()


def check_lstm_params(params, peephole=None):
    """Check LSTM parameters (and an explicit ``peephole=`` against their keys, which
    decide): ``(dtype, D, H, variant)``."""
    has = isinstance(params, dict) and "w_ci" in params
    if peephole is not None and bool(peephole) != has:
        if has:
            raise ValueError("params holds peephole weights ['w_ci', 'w_cf', 'w_co'] but "
                             "peephole=False; drop them, or leave peephole unset (the "
                             "parameters decide)")
        raise KeyError("peephole=True but params has no peephole weights 'w_ci', 'w_cf', "
                       "'w_co'; create them with init_lstm(..., peephole=True)")
    return LSTM.check(params)


def lstm_step_forward(x_t, state, params, peephole=None):
    """One LSTM step, equations ``lstm-gates``, ``lstm-cell``, ``lstm-hidden``.

    Parameters
    ----------
    x_t : array (B, D)
    state : tuple ``(h_prev, c_prev)`` of arrays (B, H)
    params : dict ``W_x (4H, D)``, ``W_h (4H, H)``, ``b (4H,)`` in gate order i, f, g, o,
        plus ``w_ci, w_cf, w_co (H,)`` for a peephole LSTM.
    peephole : bool, optional; the parameters decide, this only checks them

    Returns
    -------
    (h_t, c_t) : tuple of arrays (B, H)
    cache : used by :func:`lstm_step_backward`
    """
    if peephole is not None:
        check_lstm_params(params, peephole)
    return LSTM.step_forward(x_t, state, params)


def lstm_step_backward(dstate, cache):
    """Backward of one LSTM step.

    ``dstate = (dh_t, dc_t)``: the total gradients reaching ``h_t`` and ``c_t``
    (``dc_t`` may be ``None`` for zero). Returns ``(dx_t, (dh_prev, dc_prev), grads)``
    with ``grads`` keyed like ``params`` (``W_x, W_h, b`` [, ``w_ci, w_cf, w_co``]).
    """
    return LSTM.step_backward(dstate, cache)


def lstm_forward(x, params, state0=None, lengths=None, peephole=None):
    """Run the LSTM over a sequence (equations ``lstm-gates`` to ``lstm-hidden``, t = 1..T).

    The input projection ``x_t W_x^T + b`` of all time steps and all four gates
    is one matrix product; only ``h_{t-1} W_h^T`` loops over time.

    Parameters
    ----------
    x : array (T, B, D), time-major
    params : dict, see :func:`lstm_step_forward`
    state0 : tuple ``(h0, c0)`` of arrays (B, H), optional; zeros by default
    lengths : integer array (B,), optional: a padded batch (equation ``masked-state``)
    peephole : bool, optional; the parameters decide, this only checks them

    Returns
    -------
    h : array (T, B, H), the hidden states h_1..h_T
    (h_T, c_T) : the final state, to carry into the next chunk
    cache : used by :func:`lstm_backward`
    """
    if peephole is not None:
        check_lstm_params(params, peephole)
    return LSTM.forward(x, params, state0, lengths)


def lstm_backward(dh, cache, dstate_T=None):
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dh : array (T, B, H)
        Gradient of the loss with respect to each hidden state from the layer above.
    cache : from :func:`lstm_forward`
    dstate_T : tuple ``(dh_T, dc_T)``, optional
        Extra gradient arriving at the final state (either entry may be ``None``).

    Returns
    -------
    dx : array (T, B, D)
    (dh0, dc0) : gradients of the initial state
    grads : dict keyed like ``params``, each summed over all time steps
    """
    return LSTM.backward(dh, cache, dstate_T)


# ---------------------------------------------------------------- parameters
def lstm_gate_views(params):
    """The book's per-gate parameters as slices of the fused ones (views on NumPy).

    Returns a dict ``W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xg, W_hg, b_g, W_xo, W_ho, b_o``
    (shapes ``(H, D)``, ``(H, H)``, ``(H,)``) plus the peephole weights if present.
    Gate order in the fused arrays: i, f, g, o.
    """
    views = gate_views(params, GATES)
    views.update({k: params[k] for k in PEEPHOLE_PARAMS if k in params})
    return views


def lstm_param_count(D, H, peephole=False):
    """Number of LSTM parameters: ``4 (H*D + H*H + H)`` (+ ``3H`` peepholes).

    Four Elman-sized blocks, one per gate; like the Elman count it does not depend on T.
    """
    return 4 * (H * D + H * H + H) + (3 * H if peephole else 0)


def init_lstm(D, H, seed=0, forget_bias=1.0, peephole=False, W_h="orthogonal",
              xp=None, device=None, dtype="float64"):
    """Create LSTM parameters ``W_x (4H, D), W_h (4H, H), b (4H,)`` [+ ``w_ci, w_cf, w_co``].

    Each gate's block is initialised on its own: ``W_x`` blocks Glorot-uniform,
    ``W_h`` blocks orthogonal (or ``"glorot"``), biases zero except the forget
    gate's, ``b_f = forget_bias`` (default 1, Gers et al. 2000; Jozefowicz et
    al. 2015): ``f_t = sigma(1) ~ 0.73`` at the start, so the cell remembers by
    default and gradients flow along the cell path from the first update.
    Peephole weights start at zero (the network starts as a plain LSTM).
    Random numbers are drawn on the host from ``seed`` and moved to
    ``xp``/``device``, so every backend gets identical weights.
    """
    rng = host_rng(seed)
    inits = {"orthogonal": lambda: orthogonal((H, H), rng),
             "glorot": lambda: glorot_uniform((H, H), rng)}
    if W_h not in inits:
        raise ValueError(f"unknown W_h initialiser {W_h!r}; choose one of {sorted(inits)}")
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    p = {"W_x": np.concatenate([glorot_uniform((H, D), rng) for _ in GATES], axis=0),
         "W_h": np.concatenate([inits[W_h]() for _ in GATES], axis=0),
         "b": b}
    if peephole:
        p.update({k: np.zeros(H) for k in PEEPHOLE_PARAMS})
    return {k: from_numpy(v, xp=xp, device=device, dtype=dtype) for k, v in p.items()}
