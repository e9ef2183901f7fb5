"""The Elman RNN (book chapters 2 and 4).

Forward, book equation ``rnn-state`` for a batch of row vectors::

    a_t = x_t W_xh^T + h_{t-1} W_hh^T + b_h          (B, H)
    h_t = f(a_t)                                     (B, H)

Backward (chapter 4, equations ``bptt-da`` and ``bptt-dh``)::

    da_t     = (dh_t + dh_{t+1 -> t}) * f'(a_t)       gradient reaching h_t from above and from the future
    dh_{t-1} = da_t W_hh                             what flows one step back in time
    dW_xh    = sum_t da_t^T x_t,  dW_hh = sum_t da_t^T h_{t-1},  db_h = sum_t sum_b da_t

Shapes: ``x: (T, B, D)``, the state ``(h,)`` with ``h: (B, H)``, ``W_xh: (H, D)``,
``W_hh: (H, H)``, ``b_h: (H,)``; hidden states ``h: (T, B, H)``. Parameters live in
a dict with exactly those names. All arrays share one namespace, device and float
dtype. The nonlinearity ``f`` (``activation``) is the cell's option: ``"tanh"``
(default) or ``"relu"`` (with ``init_elman(..., W_hh="identity")``, the IRNN), or
``"sigmoid"``/``"identity"``.

The cell is :data:`ELMAN` (registered as ``"elman"``, see :mod:`labrnn.cells`); the
functions below are its passes under the book's names.
"""

from __future__ import annotations

import numpy as np

from ..layers.activations import activation as _activation
from ..backend import from_numpy, host_rng
from ..layers.init import glorot_uniform, orthogonal, identity_init, uniform
from .base import Cell, check_one_array

__all__ = ["ELMAN", "ElmanCell", "rnn_step_forward", "rnn_step_backward", "rnn_forward",
           "rnn_backward", "init_elman", "elman_param_count", "RNN_PARAMS"]

RNN_PARAMS = ("W_xh", "W_hh", "b_h")


class ElmanCell(Cell):
    """The Elman cell, equation ``rnn-state``; its state is ``(h,)``."""

    name = "elman"
    state_names = ("h",)
    gates = 1
    input_weights = ("W_xh", "b_h")
    recurrent_weight = "W_hh"
    options = {"activation": "tanh"}

    def bounded(self, v):
        """tanh and sigmoid states stay in [-1, 1]; ReLU and identity states can grow."""
        return v["activation"] in ("tanh", "sigmoid")

    def variant(self, params, **options):
        v = super().variant(params, **options)
        _activation(v["activation"])                     # a clear error for an unknown name
        return v

    def param_names(self, **variant):
        return RNN_PARAMS

    def shapes(self, D, H, **variant):
        return {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,)}

    def init(self, D, H, seed=0, xp=None, device=None, dtype="float64", **kw):
        return init_elman(D, H, seed=seed, xp=xp, device=device, dtype=dtype, **kw)

    def step(self, xp, ax_t, state, params, v):
        """``h_t = f(x_t W_xh^T + b_h + h_{t-1} W_hh^T)`` from ``ax_t = x_t W_xh^T + b_h``."""
        f, _ = _activation(v["activation"])
        h = f(ax_t + xp.matmul(state[0], xp.matrix_transpose(params["W_hh"])), xp=xp)
        return (h,), h

    def step_back(self, xp, dstate, state_prev, h, params, v):
        _, f_grad = _activation(v["activation"])
        da = dstate[0] * f_grad(h, xp=xp)                         # eq. bptt-da
        return da, (xp.matmul(da, params["W_hh"]),), None          # eq. bptt-dh

    def grads(self, xp, dax, recs, s_prev, s_new, caches, params, v):
        return {"W_hh": xp.matmul(xp.matrix_transpose(dax), s_prev[0])}


ELMAN = ElmanCell()


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
    cache : used by :func:`rnn_step_backward`
    """
    check_one_array("an Elman cell", "h_prev", h_prev)
    (h,), cache = ELMAN.step_forward(x_t, (h_prev,), params, activation=activation,
                                     labels=("h_prev",))
    return h, cache


def rnn_step_backward(dh_t, cache):
    """Backward of one Elman step.

    ``dh_t`` (B, H) is the total gradient reaching ``h_t``. Returns
    ``(dx_t, dh_prev, grads)`` with ``grads`` the dict of parameter gradients
    keyed by the parameter names (``grads["W_hh"]`` is dL/dW_hh).
    """
    dx, (dh,), grads = ELMAN.step_backward((dh_t,), cache, labels=("dh_t",))
    return dx, dh, grads


def rnn_forward(x, params, state0=None, lengths=None, activation="tanh"):
    """Run the Elman RNN over a whole sequence (equation ``rnn-state`` for t = 1..T).

    The input projection ``x_t W_xh^T`` of every time step is one matrix
    product (chapter 21); only the recurrent part loops over time.

    Parameters
    ----------
    x : array (T, B, D), time-major
    params : dict with ``W_xh, W_hh, b_h``
    state0 : tuple ``(h0,)``, ``h0`` (B, H); zeros by default
    lengths : integer array (B,), optional: a padded batch (equation ``masked-state``)
    activation : {"tanh", "relu", "sigmoid", "identity"}

    Returns
    -------
    h : array (T, B, H), every hidden state h_1..h_T (``h[-1]`` is h_T)
    (h_T,) : the final state
    cache : used by :func:`rnn_backward`
    """
    return ELMAN.forward(x, params, state0, lengths, activation=activation)


def rnn_backward(dh, cache, dstate_T=None):
    """Backpropagation through time for :func:`rnn_forward` (equations ``bptt-da``, ``bptt-dh``).

    Parameters
    ----------
    dh : array (T, B, H)
        Gradient of the loss with respect to each hidden state *from the layer
        above* (e.g. the output layer); zeros where a step has no loss.
    cache : from :func:`rnn_forward`
    dstate_T : tuple ``(dh_T,)``, optional
        Extra gradient arriving at the final state (e.g. from a decoder).

    Returns
    -------
    dx : array (T, B, D)
    (dh0,) : the gradient of the initial state
    grads : dict ``W_xh, W_hh, b_h``, each summed over all time steps
    """
    return ELMAN.backward(dh, cache, dstate_T)


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
