"""Measuring what gradients do over time (book chapter 5).

The gradient reaching ``h_t`` from ``h_T`` is multiplied by one Jacobian per step::

    dh_T/dh_t = prod_{s=t+1..T} diag(f'(a_s)) W_hh

so its norm behaves like ``rho(W_hh)^(T-t)`` times the product of activation
slopes (eq. ``jacobian-product``): it vanishes when that is below one and
explodes when it is above.
"""

from __future__ import annotations

import numpy as np

from .backend import from_numpy, namespace, to_numpy
from .activations import activation as _activation
from .elman import rnn_forward
from .validate import check_shape


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
    hseq, _ = rnn_forward(x, params, h0, activation)          # hseq[t] is h_{t+1}
    _, f_grad = _activation(activation)
    fprime = f_grad(hseq[:, 0, :])                           # (T, H)
    J = from_numpy(np.eye(H), like=hseq)                     # dh_T/dh_T
    norms = np.zeros(T + 1)
    norms[T] = np.sqrt(H)
    for t in range(T - 1, -1, -1):
        J = xp.matmul(J * fprime[t, ...], params["W_hh"])    # now dh_T/dh_t
        norms[t] = float(np.linalg.norm(to_numpy(J)))
    return norms
