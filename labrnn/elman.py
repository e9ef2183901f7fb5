"""The Elman RNN (book chapters 2 and 4).

Forward, book equation ``rnn-state`` for a batch of row vectors::

    a_t = x_t W_xh^T + h_{t-1} W_hh^T + b_h          (B, H)
    h_t = f(a_t)                                     (B, H)

Backward (chapter 4, equations ``bptt-da`` and ``bptt-dh``)::

    da_t     = (dh_t + dh_{t+1 -> t}) * f'(a_t)       gradient reaching h_t from above and from the future
    dh_{t-1} = da_t W_hh                             what flows one step back in time
    dW_xh    = sum_t da_t^T x_t,  dW_hh = sum_t da_t^T h_{t-1},  db_h = sum_t sum_b da_t

Shapes: ``x: (T, B, D)``, ``h0: (B, H)``, ``W_xh: (H, D)``, ``W_hh: (H, H)``,
``b_h: (H,)``; hidden states ``h: (T, B, H)``. Parameters live in a dict with
exactly those names. All arrays share one namespace, device and float dtype.
"""

from __future__ import annotations

import numpy as np

from .activations import activation as _activation
from .backend import namespace, device_of, from_numpy, host_rng
from .init import glorot_uniform, orthogonal, identity_init, uniform
from .validate import (check_float, check_params, check_shape, check_sequence)

RNN_PARAMS = ("W_xh", "W_hh", "b_h")


def _check_rnn_params(params):
    dtype = check_params(params, RNN_PARAMS)
    check_shape("params['W_xh']", params["W_xh"], (("H", None), ("D", None)))
    H, D = params["W_xh"].shape
    check_shape("params['W_hh']", params["W_hh"], (("H", H), ("H", H)))
    check_shape("params['b_h']", params["b_h"], (("H", H),))
    return dtype, D, H


def rnn_step_forward(x_t, h_prev, params, activation="tanh"):
    """One Elman step, equation ``rnn-state``: ``h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)``.

    Parameters
    ----------
    x_t : array (B, D)
        Inputs at time t.
    h_prev : array (B, H)
        Previous hidden state h_{t-1}.
    params : dict
        ``W_xh (H, D)``, ``W_hh (H, H)``, ``b_h (H,)``.
    activation : {"tanh", "relu", "sigmoid", "identity"}

    Returns
    -------
    h_t : array (B, H)
    cache : tuple used by :func:`rnn_step_backward`
    """
    f, _ = _activation(activation)
    dtype, D, H = _check_rnn_params(params)
    xp = namespace(x_t, h_prev, params["W_xh"], names=["x_t", "h_prev", "params['W_xh']"])
    check_float("x_t", x_t, dtype)
    check_float("h_prev", h_prev, dtype)
    B = check_shape("x_t", x_t, (("B", None), ("D", D)))[0]
    check_shape("h_prev", h_prev, (("B", B), ("H", H)))
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    a_t = xp.matmul(x_t, xp.matrix_transpose(W_xh)) + xp.matmul(h_prev, xp.matrix_transpose(W_hh)) + b_h
    h_t = f(a_t)
    return h_t, (x_t, h_prev, h_t, params, activation)


def rnn_step_backward(dh_t, cache):
    """Backward of one Elman step.

    ``dh_t`` (B, H) is the total gradient reaching ``h_t``. Returns
    ``(dx_t, dh_prev, grads)`` with ``grads`` the dict of parameter gradients
    keyed by the parameter names (``grads["W_hh"]`` is dL/dW_hh).
    """
    x_t, h_prev, h_t, params, act = cache
    xp = namespace(dh_t, h_t)
    check_shape("dh_t", dh_t, (("B", h_t.shape[0]), ("H", h_t.shape[1])))
    _, f_grad = _activation(act)
    da = dh_t * f_grad(h_t)                                     # (B, H)
    dx_t = xp.matmul(da, params["W_xh"])                        # (B, D)
    dh_prev = xp.matmul(da, params["W_hh"])                     # (B, H)
    grads = {
        "W_xh": xp.matmul(xp.matrix_transpose(da), x_t),
        "W_hh": xp.matmul(xp.matrix_transpose(da), h_prev),
        "b_h": xp.sum(da, axis=0),
    }
    return dx_t, dh_prev, grads


def rnn_forward(x, params, h0=None, activation="tanh"):
    """Run the Elman RNN over a whole sequence (equation ``rnn-state`` for t = 1..T).

    The input projection ``x_t W_xh^T`` of every time step is one matrix
    product (chapter 21); only the recurrent part loops over time.

    Parameters
    ----------
    x : array (T, B, D), time-major
    params : dict with ``W_xh, W_hh, b_h``
    h0 : array (B, H), optional; zeros by default
    activation : {"tanh", "relu", "sigmoid", "identity"}

    Returns
    -------
    h : array (T, B, H), every hidden state h_1..h_T (``h[-1]`` is h_T)
    cache : used by :func:`rnn_backward`
    """
    f, _ = _activation(activation)
    dtype, D, H = _check_rnn_params(params)
    xp = namespace(x, params["W_xh"], h0, names=["x", "params['W_xh']", "h0"])
    T, B = check_sequence("x", x, D, dtype)
    if h0 is None:
        h0 = xp.zeros((B, H), dtype=dtype, device=device_of(x))
    else:
        check_float("h0", h0, dtype)
        check_shape("h0", h0, (("B", B), ("H", H)))
    W_hh_T = xp.matrix_transpose(params["W_hh"])
    ax = xp.matmul(x, xp.matrix_transpose(params["W_xh"])) + params["b_h"]   # (T, B, H), one GEMM
    hs = []
    h = h0
    for t in range(T):
        h = f(ax[t, ...] + xp.matmul(h, W_hh_T))
        hs.append(h)
    hseq = xp.stack(hs, axis=0)
    return hseq, (x, h0, hseq, params, activation)


def rnn_backward(dh, cache, dh_T=None):
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dh : array (T, B, H)
        Gradient of the loss with respect to each hidden state *from the layer
        above* (e.g. the output layer); zeros where a step has no loss.
    cache : from :func:`rnn_forward`
    dh_T : array (B, H), optional
        Extra gradient arriving at the final state (e.g. from a decoder).

    Returns
    -------
    dx : array (T, B, D)
    dh0 : array (B, H)
    grads : dict ``W_xh, W_hh, b_h``, each summed over all time steps
    """
    x, h0, hseq, params, act = cache
    xp = namespace(dh, hseq, dh_T, names=["dh", "hidden states", "dh_T"])
    T, B, H = hseq.shape
    check_shape("dh", dh, (("T", T), ("B", B), ("H", H)))
    if dh_T is not None:
        check_shape("dh_T", dh_T, (("B", B), ("H", H)))
    _, f_grad = _activation(act)
    W_hh = params["W_hh"]
    fprime = f_grad(hseq)                                        # (T, B, H)
    das = [None] * T
    carry = xp.zeros_like(h0) if dh_T is None else dh_T         # dL/dh_t arriving from step t+1
    for t in range(T - 1, -1, -1):
        da = (dh[t, ...] + carry) * fprime[t, ...]             # eq. bptt-da
        das[t] = da
        carry = xp.matmul(da, W_hh)                             # eq. bptt-dh
    da = xp.stack(das, axis=0)                                  # (T, B, H)
    h_prev = xp.concat([h0[None, ...], hseq[:-1, ...]], axis=0)  # h_0..h_{T-1}
    D = x.shape[-1]
    da2 = xp.reshape(da, (T * B, H))
    grads = {
        "W_xh": xp.matmul(xp.matrix_transpose(da2), xp.reshape(x, (T * B, D))),
        "W_hh": xp.matmul(xp.matrix_transpose(da2), xp.reshape(h_prev, (T * B, H))),
        "b_h": xp.sum(da2, axis=0),
    }
    dx = xp.matmul(da, params["W_xh"])
    return dx, carry, grads


def elman_param_count(D, H, O=None):
    """Number of parameters of an Elman RNN: ``H*D + H*H + H`` (+ ``O*H + O`` with an output layer).

    It does not depend on the sequence length T: one cell is reused at every step.
    """
    return H * D + H * H + H + (O * H + O if O else 0)


def init_elman(D, H, O=None, seed=0, W_hh="orthogonal", gain=1.0, W_hh_scale=None,
               xp=None, device=None, dtype="float64"):
    """Create Elman RNN parameters ``W_xh, W_hh, b_h`` (and ``W_hy, b_y`` if ``O``).

    ``W_hh`` selects the recurrent initialiser (chapter 5):
    ``"orthogonal"`` (default), ``"glorot"``, ``"identity"`` (IRNN, use with
    ReLU) or ``"uniform"``. ``W_hh_scale`` rescales ``W_hh`` to that spectral
    radius. Random numbers are drawn on the host from ``seed`` and moved to
    ``xp``/``device``, so every backend gets identical weights.
    """
    rng = host_rng(seed)
    inits = {"orthogonal": lambda: orthogonal((H, H), rng, gain),
             "glorot": lambda: glorot_uniform((H, H), rng, gain),
             "identity": lambda: identity_init(H, gain),
             "uniform": lambda: uniform((H, H), rng, gain / np.sqrt(H))}
    if W_hh not in inits:
        raise ValueError(f"unknown W_hh initialiser {W_hh!r}; choose one of {sorted(inits)}")
    p = {"W_xh": glorot_uniform((H, D), rng), "W_hh": inits[W_hh](), "b_h": np.zeros(H)}
    if W_hh_scale is not None:
        rho = np.max(np.abs(np.linalg.eigvals(p["W_hh"])))
        p["W_hh"] = p["W_hh"] * (W_hh_scale / rho)
    if O:
        p["W_hy"] = glorot_uniform((O, H), rng)
        p["b_y"] = np.zeros(O)
    return {k: from_numpy(v, xp=xp, device=device, dtype=dtype) for k, v in p.items()}
