"""The LSTM written directly for NumPy: the reference of the array-API overhead case.

The same algorithm as :func:`labrnn.lstm_forward` / :func:`labrnn.lstm_backward`
(equations ``lstm-gates``, ``lstm-cell``, ``lstm-hidden``; one GEMM for the
input projection of all steps, one recurrent product per step, the parameter
gradients as two GEMMs over all ``T B`` rows), written with ``numpy`` calls
only: no array-namespace lookup, no argument checks. labrnn's time over this
one's is the cost of writing labrnn against the array API (issue target: at
most 1.05). Shapes time-major: ``x (T, B, D)``, ``W_x (4H, D)``, ``W_h (4H, H)``,
``b (4H,)``, gate order i, f, g, o.
"""

from __future__ import annotations

import numpy as np

from .workload import Workload

__all__ = ["NAME", "supports", "build", "lstm_forward", "lstm_backward"]

NAME = "numpy"


def supports(case):
    """Only the array-API overhead case (an LSTM)."""
    return case.kind == "overhead" and case.cell == "lstm"


def _sigmoid(a):
    # labrnn's stable logistic: exp of a non-positive number only
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_forward(x, W_x, W_h, b):
    """Hidden states ``h (T, B, H)`` and a cache for :func:`lstm_backward`, from a zero state."""
    T, B, _ = x.shape
    H = W_h.shape[1]
    ax = x @ W_x.T + b
    W_hT = W_h.T
    h = np.zeros((B, H), dtype=x.dtype)
    c = np.zeros((B, H), dtype=x.dtype)
    hs, cs, gates = [], [], []
    for t in range(T):
        a = ax[t] + h @ W_hT
        i, f = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        hs.append(h)
        cs.append(c)
        gates.append((i, f, g, o, tc))
    return np.stack(hs), (x, np.stack(hs), np.stack(cs), gates, W_x, W_h)


def lstm_backward(dh, cache):
    """``(dx, {"W_x", "W_h", "b"})`` of :func:`lstm_forward` from ``dh (T, B, H)``."""
    x, hseq, cseq, gates, W_x, W_h = cache
    T, B, H = hseq.shape
    zeros = np.zeros((1, B, H), dtype=x.dtype)
    c_prev = np.concatenate([zeros, cseq[:-1]])
    h_prev = np.concatenate([zeros, hseq[:-1]])
    dh_next = np.zeros((B, H), dtype=x.dtype)
    dc_next = np.zeros((B, H), dtype=x.dtype)
    das = [None] * T
    for t in range(T - 1, -1, -1):
        i, f, g, o, tc = gates[t]
        dht = dh[t] + dh_next
        da_o = dht * tc * o * (1.0 - o)
        dc = dc_next + dht * o * (1.0 - tc * tc)
        da_i = dc * g * i * (1.0 - i)
        da_f = dc * c_prev[t] * f * (1.0 - f)
        da_g = dc * i * (1.0 - g * g)
        dc_next = dc * f
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)
        das[t] = da
        dh_next = da @ W_h
    da = np.stack(das)
    da2 = da.reshape(T * B, 4 * H)
    grads = {"W_x": da2.T @ x.reshape(T * B, -1), "W_h": da2.T @ h_prev.reshape(T * B, H),
             "b": da2.sum(axis=0)}
    return da @ W_x, grads


def build(case, inputs):
    """The overhead case's workload, from the same inputs as labrnn's."""
    p, x, dout = inputs["params"], inputs["x"], inputs["dout"]
    W_x, W_h, b = p["W_x"], p["W_h"], p["b"]

    def forward():
        return lstm_forward(x, W_x, W_h, b)

    def forward_backward():
        out, cache = lstm_forward(x, W_x, W_h, b)
        dx, grads = lstm_backward(dout, cache)
        return {"out": out, "dx": dx, **{f"grad.{k}": g for k, g in grads.items()}}

    return Workload(forward if case.mode == "fwd" else forward_backward, forward_backward)
