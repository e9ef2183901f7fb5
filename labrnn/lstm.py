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
share one namespace, device and float dtype.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, tanh
from .backend import device_of, from_numpy, host_rng, namespace
from .init import glorot_uniform, orthogonal
from .layers import gate_views
from .validate import (check_float, check_params, check_shape, check_sequence)

GATES = ("i", "f", "g", "o")
LSTM_PARAMS = ("W_x", "W_h", "b")
PEEPHOLE_PARAMS = ("w_ci", "w_cf", "w_co")


# ---------------------------------------------------------------- checks
def _check_lstm_params(params, peephole):
    dtype = check_params(params, LSTM_PARAMS + (PEEPHOLE_PARAMS if peephole else ()))
    present = [k for k in PEEPHOLE_PARAMS if k in params]
    if not peephole and present:
        raise ValueError(f"params holds peephole weights {present} but peephole=False, so they "
                         "would be silently ignored; pass peephole=True (or drop them)")
    check_shape("params['W_h']", params["W_h"], (("4H", None), ("H", None)))
    H = params["W_h"].shape[1]
    check_shape("params['W_h']", params["W_h"], (("4H", 4 * H), ("H", H)))
    check_shape("params['W_x']", params["W_x"], (("4H", 4 * H), ("D", None)))
    check_shape("params['b']", params["b"], (("4H", 4 * H),))
    for k in PEEPHOLE_PARAMS if peephole else ():
        check_shape(f"params[{k!r}]", params[k], (("H", H),))
    return dtype, params["W_x"].shape[1], H


def _describe(obj):
    if hasattr(obj, "shape"):
        return f"a single array of shape {tuple(obj.shape)}"
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of length {len(obj)}"
    return f"a {type(obj).__name__}"


def _check_pair(name, pair, what, hint=""):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} must be a tuple {what} of two (B, H) arrays: an LSTM carries "
                        f"a hidden state h AND a cell state c; received {_describe(pair)}"
                        + (f". {hint}" if hint else ""))
    return pair


def _check_state(name, state, B, H, dtype):
    h, c = _check_pair(name, state, "(h, c)")
    for k, (sym, a) in enumerate((("h", h), ("c", c))):
        if a is None:
            raise TypeError(f"{name}[{k}] ({sym}) is None; pass an array of shape (B, H) "
                            "(zeros to start afresh)")
        check_float(f"{name}[{k}] ({sym})", a, dtype)
        check_shape(f"{name}[{k}] ({sym})", a, (("B", B), ("H", H)))
    return h, c


# ---------------------------------------------------------------- the cell
def _cell_forward(a, c_prev, params, peephole):
    """Gates, cell and hidden state from the pre-activations ``a = x W_x^T + h W_h^T + b``."""
    H = c_prev.shape[-1]
    a_i, a_f, a_g, a_o = (a[..., k * H:(k + 1) * H] for k in range(4))
    if peephole:
        a_i = a_i + params["w_ci"] * c_prev
        a_f = a_f + params["w_cf"] * c_prev
    i, f, g = sigmoid(a_i), sigmoid(a_f), tanh(a_g)               # eq. lstm-gates
    c = f * c_prev + i * g                                        # eq. lstm-cell
    if peephole:
        a_o = a_o + params["w_co"] * c
    o = sigmoid(a_o)
    tc = tanh(c)
    h = o * tc                                                    # eq. lstm-hidden
    return h, c, (i, f, g, o, tc)


def _cell_backward(dh, dc, c_prev, gates, params, peephole):
    """``(da, dc_prev)``: gradient of the fused pre-activations (B, 4H) and of c_{t-1}."""
    xp = namespace(dh)
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


def _param_grads(da, x, h_prev, c_prev, c, peephole):
    """Parameter gradients from 2-D ``(N, .)`` arrays, N = B for a step, T*B for a sequence."""
    xp = namespace(da)
    H = c.shape[-1]
    daT = xp.matrix_transpose(da)
    grads = {"W_x": xp.matmul(daT, x), "W_h": xp.matmul(daT, h_prev), "b": xp.sum(da, axis=0)}
    if peephole:
        grads["w_ci"] = xp.sum(da[:, 0:H] * c_prev, axis=0)
        grads["w_cf"] = xp.sum(da[:, H:2 * H] * c_prev, axis=0)
        grads["w_co"] = xp.sum(da[:, 3 * H:] * c, axis=0)
    return grads


# ---------------------------------------------------------------- one step
def lstm_step_forward(x_t, state, params, peephole=False):
    """One LSTM step, equations ``lstm-gates``, ``lstm-cell``, ``lstm-hidden``.

    Parameters
    ----------
    x_t : array (B, D)
    state : tuple ``(h_prev, c_prev)`` of arrays (B, H)
    params : dict ``W_x (4H, D)``, ``W_h (4H, H)``, ``b (4H,)`` in gate order i, f, g, o,
        plus ``w_ci, w_cf, w_co (H,)`` when ``peephole=True``.
    peephole : bool

    Returns
    -------
    (h_t, c_t) : tuple of arrays (B, H)
    cache : used by :func:`lstm_step_backward`
    """
    dtype, D, H = _check_lstm_params(params, peephole)
    _check_pair("state", state, "(h_prev, c_prev)")
    xp = namespace(x_t, state[0], state[1], params["W_x"],
                   names=["x_t", "state[0] (h)", "state[1] (c)", "params['W_x']"])
    check_float("x_t", x_t, dtype)
    B = check_shape("x_t", x_t, (("B", None), ("D", D)))[0]
    h_prev, c_prev = _check_state("state", state, B, H, dtype)
    a = (xp.matmul(x_t, xp.matrix_transpose(params["W_x"]))
         + xp.matmul(h_prev, xp.matrix_transpose(params["W_h"])) + params["b"])
    h, c, gates = _cell_forward(a, c_prev, params, peephole)
    return (h, c), (x_t, h_prev, c_prev, c, gates, params, peephole)


def lstm_step_backward(dstate, cache):
    """Backward of one LSTM step.

    ``dstate = (dh_t, dc_t)``: the total gradients reaching ``h_t`` and ``c_t``
    (``dc_t`` may be ``None`` for zero). Returns ``(dx_t, (dh_prev, dc_prev), grads)``
    with ``grads`` keyed like ``params`` (``W_x, W_h, b`` [, ``w_ci, w_cf, w_co``]).
    """
    x_t, h_prev, c_prev, c, gates, params, peephole = cache
    dh, dc = _check_pair("dstate", dstate, "(dh_t, dc_t)")
    xp = namespace(dh, dc, c, names=["dstate[0] (dh_t)", "dstate[1] (dc_t)", "the cached c_t"])
    B, H = c.shape
    check_shape("dstate[0] (dh_t)", dh, (("B", B), ("H", H)))
    if dc is None:
        dc = xp.zeros_like(c)
    check_shape("dstate[1] (dc_t)", dc, (("B", B), ("H", H)))
    da, dc_prev = _cell_backward(dh, dc, c_prev, gates, params, peephole)
    dx = xp.matmul(da, params["W_x"])
    dh_prev = xp.matmul(da, params["W_h"])
    return dx, (dh_prev, dc_prev), _param_grads(da, x_t, h_prev, c_prev, c, peephole)


# ---------------------------------------------------------------- a sequence
def _initial_state(x, state0, B, H, dtype):
    """The checked ``(h0, c0)`` of a sequence pass; zeros when ``state0`` is ``None``."""
    xp = namespace(x)
    if state0 is None:
        zeros = xp.zeros((B, H), dtype=dtype, device=device_of(x))
        return zeros, zeros
    _check_pair("state0", state0, "(h0, c0)",
                "To start from zeros pass state0=None; to start from h0 alone pass (h0, c0) "
                "with c0 zeros of the same shape")
    namespace(x, state0[0], state0[1], names=["x", "state0[0] (h)", "state0[1] (c)"])
    return _check_state("state0", state0, B, H, dtype)


def lstm_forward(x, params, state0=None, peephole=False):
    """Run the LSTM over a sequence (equations ``lstm-gates`` to ``lstm-hidden``, t = 1..T).

    The input projection ``x_t W_x^T + b`` of all time steps and all four gates
    is one matrix product; only ``h_{t-1} W_h^T`` loops over time.

    Parameters
    ----------
    x : array (T, B, D), time-major
    params : dict, see :func:`lstm_step_forward`
    state0 : tuple ``(h0, c0)`` of arrays (B, H), optional; zeros by default
    peephole : bool

    Returns
    -------
    h : array (T, B, H), the hidden states h_1..h_T
    (h_T, c_T) : the final state, to carry into the next chunk
    cache : used by :func:`lstm_backward`
    """
    dtype, D, H = _check_lstm_params(params, peephole)
    xp = namespace(x, params["W_x"], names=["x", "params['W_x']"])
    T, B = check_sequence("x", x, D, dtype)
    h0, c0 = _initial_state(x, state0, B, H, dtype)
    W_h_T = xp.matrix_transpose(params["W_h"])
    ax = xp.matmul(x, xp.matrix_transpose(params["W_x"])) + params["b"]     # (T, B, 4H), one GEMM
    hs, cs, gates = [], [], []
    h, c = h0, c0
    for t in range(T):
        h, c, gates_t = _cell_forward(ax[t, ...] + xp.matmul(h, W_h_T), c, params, peephole)
        hs.append(h)
        cs.append(c)
        gates.append(gates_t)
    hseq, cseq = xp.stack(hs, axis=0), xp.stack(cs, axis=0)
    return hseq, (h, c), (x, h0, c0, hseq, cseq, gates, params, peephole)


def _final_state_grads(dh, dstate_T, h0, c0):
    """The checked ``(dh_T, dc_T)`` arriving at the final state; zeros where ``None``."""
    xp = namespace(dh)
    B, H = h0.shape
    dh_T, dc_T = (None, None) if dstate_T is None else _check_pair(
        "dstate_T", dstate_T, "(dh_T, dc_T)")
    namespace(dh, dh_T, dc_T, names=["dh", "dstate_T[0] (dh_T)", "dstate_T[1] (dc_T)"])
    dh_T = xp.zeros_like(h0) if dh_T is None else dh_T
    dc_T = xp.zeros_like(c0) if dc_T is None else dc_T
    check_shape("dstate_T[0] (dh_T)", dh_T, (("B", B), ("H", H)))
    check_shape("dstate_T[1] (dc_T)", dc_T, (("B", B), ("H", H)))
    return dh_T, dc_T


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
    x, h0, c0, hseq, cseq, gates, params, peephole = cache
    xp = namespace(dh, hseq, names=["dh", "hidden states"])
    T, B, H = hseq.shape
    check_shape("dh", dh, (("T", T), ("B", B), ("H", H)))
    dh_next, dc_next = _final_state_grads(dh, dstate_T, h0, c0)   # dL/dh_T, dL/dc_T from above
    c_prev = xp.concat([c0[None, ...], cseq[:-1, ...]], axis=0)     # c_0..c_{T-1}
    W_h = params["W_h"]
    das = [None] * T
    for t in range(T - 1, -1, -1):
        da, dc_next = _cell_backward(dh[t, ...] + dh_next, dc_next, c_prev[t, ...], gates[t],
                                     params, peephole)
        das[t] = da
        dh_next = xp.matmul(da, W_h)
    da = xp.stack(das, axis=0)                                      # (T, B, 4H)
    h_prev = xp.concat([h0[None, ...], hseq[:-1, ...]], axis=0)     # h_0..h_{T-1}
    D = x.shape[-1]
    flat = lambda a, n: xp.reshape(a, (T * B, n))                  # noqa: E731
    grads = _param_grads(flat(da, 4 * H), flat(x, D), flat(h_prev, H), flat(c_prev, H),
                         flat(cseq, H), peephole)
    dx = xp.matmul(da, params["W_x"])
    return dx, (dh_next, dc_next), grads


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
