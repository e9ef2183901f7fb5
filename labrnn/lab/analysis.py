"""Measuring what gradients do over time (book chapter 5).

The gradient reaching ``h_t`` from ``h_T`` is multiplied by one Jacobian per step::

    dh_T/dh_t = prod_{s=t+1..T} diag(f'(a_s)) W_hh

so its norm behaves like ``rho(W_hh)^(T-t)`` times the product of activation
slopes (eq. ``jacobian-product``): it vanishes when that is below one and
explodes when it is above.
"""

from __future__ import annotations

import numpy as np

from ..backend import from_numpy, namespace, to_numpy
from ..layers.activations import activation as _activation
from ..cells.elman import rnn_forward
from ..validate import check_shape


def spectral_radius(W):
    """Largest absolute eigenvalue of a square matrix (computed on the host)."""
    return float(np.max(np.abs(np.linalg.eigvals(to_numpy(W)))))


def hidden_jacobian_norms(params, x, h0=None, activation="tanh"):
    """Frobenius norms ``||dh_T / dh_t||`` for ``t = 0, ..., T`` (``h_0`` included).

    ``x`` is one sequence, shape ``(T, 1, D)``. Every row of the Jacobian is
    carried back at once: start from the identity at ``h_T`` and apply
    ``J <- (J * f'(a_t)) W_hh`` (the BPTT step, eq. ``bptt-dh``) down to ``t = 0``.
    Returns a NumPy array of length ``T + 1``; entry ``t`` is the norm at time
    lag ``T - t``.
    """
    xp = namespace(x, params["W_hh"], names=["x", "params['W_hh']"])
    T = check_shape("x", x, (("T", None), ("B", 1), ("D", None)))[0]
    H = params["W_hh"].shape[0]
    hseq, _, _ = rnn_forward(x, params, None if h0 is None else (h0,), activation=activation)          # hseq[t] is h_{t+1}
    _, f_grad = _activation(activation)
    fprime = f_grad(hseq[:, 0, :])                           # (T, H)
    J = from_numpy(np.eye(H), like=hseq)                     # dh_T/dh_T
    norms = np.zeros(T + 1)
    norms[T] = np.sqrt(H)
    for t in range(T - 1, -1, -1):
        J = xp.matmul(J * fprime[t, ...], params["W_hh"])    # now dh_T/dh_t
        norms[t] = float(np.linalg.norm(to_numpy(J)))
    return norms


def input_gradient_norms(cell, params, x, activation=None):
    """How strongly the last hidden state depends on each input: ``||dh_T / dx_t||_F``, any cell.

    A cell-agnostic version of :func:`hidden_jacobian_norms` (chapters 6 and 7):
    it only needs the cell's forward and backward pass (:mod:`labrnn.cells`),
    so it works for ``cell = "elman"``, ``"lstm"`` (with or without peepholes)
    and ``"gru"`` (either variant), whatever their states look like. For a loss
    on the last step only, ``L = u . h_T``, the gradient is ``dL/dx_t = u^T
    dh_T/dx_t``; the Frobenius norm of the Jacobian is the size of that gradient
    taken over all directions ``u`` at once (its square is the sum over the H
    unit vectors ``u = e_j``).

    All ``H`` rows are computed by ONE backward pass: every sequence is
    repeated ``H`` times in the batch and copy ``j`` receives ``dL/dh_T = e_j``.

    Parameters
    ----------
    cell : {"elman", "lstm", "gru"}
    params : dict, the cell's parameters (extra keys are ignored)
    x : array (T, B, D)
        ``B`` sequences, each started from the zero state.
    activation : the Elman cell's nonlinearity (ignored by the gated cells)

    Returns
    -------
    NumPy array of length ``T``: entry ``t - 1`` is the root mean square over
    the batch of ``||dh_T / dx_t||_F``, i.e. the value at time lag ``T - t``
    (the same "index by time, plot by lag" layout as
    :func:`hidden_jacobian_norms`, so :func:`labrnn.lab.plots.plot_gradient_norms`
    draws it directly).
    """
    from ..backend import device_of
    from ..cells import cell_backward, cell_forward

    xp = namespace(x)
    T, B, D = check_shape("x", x, (("T", None), ("B", None), ("D", None)))
    H = params["W_h" if "W_h" in params else "W_hh"].shape[1]
    # (T, B, D) -> (T, B*H, D): sequence b is repeated H times, copies b*H .. b*H + H - 1
    ones = xp.ones((1, 1, H, 1), dtype=x.dtype, device=device_of(x))
    x_rep = xp.reshape(x[:, :, None, :] * ones, (T, B * H, D))
    h, _, cache = cell_forward(cell, x_rep, params, activation=activation)
    seed_rows = from_numpy(np.tile(np.eye(H), (B, 1)), like=h)         # dL/dh_T = e_j for copy j
    dh = xp.concat([xp.zeros_like(h[:-1, ...]), seed_rows[None, ...]], axis=0)
    dx, _, _ = cell_backward(dh, cache)                                 # (T, B*H, D)
    sq = to_numpy(xp.sum(xp.reshape(dx * dx, (T, B, H * D)), axis=-1))  # ||dh_T/dx_t||_F^2 per b
    return np.sqrt(np.mean(sq, axis=1))
