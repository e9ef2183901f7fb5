"""The Elman cell's fast path (book chapters 4 and 21): equation ``rnn-state`` and BPTT.

``h_t = f(x_t W_xh^T + b_h + h_{t-1} W_hh^T)`` with ``f`` tanh, ReLU or the identity,
computed into one buffer ``Hs`` (T, B, H) of ``h_1..h_T`` (the output itself; ``h_0`` is the
caller's array, referenced): one ``(B, H)`` array a step, as the generic loop keeps. Backward, equations
``bptt-da`` and ``bptt-dh``: ``da_t = dh_t f'(h_t)``, ``dh_{t-1} = da_t W_hh``, and after
the loop ``dW_hh = da^T h_{t-1}``. The NumPy kernel performs the generic loop's
operations in the same order, so for tanh it gives the same numbers bit for bit.
"""

from __future__ import annotations

import numpy as np

from .compiled import add_product, jit, join_final, tanh
from .lstm import backward_start, project

__all__ = ["supports", "Loop", "ACTIVATIONS"]

#: the activations with a fast path, and their codes in the compiled kernels
ACTIVATIONS = {"tanh": 0, "relu": 1, "identity": 2}


def supports(v):
    """tanh, ReLU and identity Elman cells (not the sigmoid one)."""
    return v.get("activation") in ACTIVATIONS


class Loop:
    """The Elman time loop on NumPy; ``compiled=True`` runs the numba kernels."""

    def __init__(self, v, compiled=False):
        self.compiled = compiled
        self.code = ACTIVATIONS[v["activation"]]

    def project(self, x, params):
        """The input projection of every step, one GEMM: ``x W_xh^T + b_h``."""
        return project(x, params["W_xh"], params["b_h"])

    def forward(self, ax, s0, params):
        """``ax`` (T, B, H); ``s0 = (h0,)``: ``((Hs,), (Hs, h0))``."""
        T, B, H = ax.shape
        h0 = s0[0]
        Hs = np.empty((T, B, H), ax.dtype)
        W_hhT = np.ascontiguousarray(params["W_hh"].T)
        if self.compiled:
            _forward_kernel(ax, W_hhT, np.ascontiguousarray(h0), Hs, self.code)
            return (Hs,), (Hs, h0)
        for t in range(T):
            h = Hs[t]
            np.matmul(h0 if t == 0 else Hs[t - 1], W_hhT, out=h)
            np.add(ax[t], h, out=h)
            if self.code == 0:
                np.tanh(h, out=h)                          # eq. rnn-state
            elif self.code == 1:
                np.maximum(h, 0.0, out=h)
        return (Hs,), (Hs, h0)

    def backward(self, dout, dstate_T, ends, store, params):
        """BPTT: ``(da (T, B, H), (dh0,), {"W_hh"})``; arguments as in
        :meth:`labrnn.fast.lstm.Loop.backward`."""
        Hs, h0 = store
        T, B, H = Hs.shape
        dt = Hs.dtype
        W_hh = params["W_hh"]
        DA = np.empty((T, B, H), dt)
        dout, (gh,), (dh,), E = backward_start(dout, dstate_T, ends, T, B, H, dt)
        if self.compiled:
            _backward_kernel(dout, E, ends is not None, gh, Hs,
                             np.ascontiguousarray(W_hh), DA, dh, self.code)
        else:
            fprime = np.empty((B, H), dt)
            for t in range(T - 1, -1, -1):
                if ends is not None:
                    dh += gh * ends[t]
                da, h = DA[t], Hs[t]
                np.add(dh, dout[t], out=da)
                if self.code == 0:
                    np.multiply(h, h, out=fprime)
                    np.subtract(1.0, fprime, out=fprime)
                    da *= fprime                           # eq. bptt-da
                elif self.code == 1:
                    np.greater(h, 0.0, out=fprime, casting="unsafe")
                    da *= fprime
                np.matmul(da, W_hh, out=dh)                # eq. bptt-dh
        prev = np.concatenate([h0[None, ...], Hs[:-1]]).reshape(T * B, H)   # h_0..h_{T-1}
        grads = {"W_hh": np.matmul(DA.reshape(T * B, H).T, prev)}          # one GEMM
        return DA, (dh,), grads


@jit
def _forward_kernel(ax, W_hhT, h0, Hs, code):            # pragma: no cover (compiled)
    T, B, H = ax.shape
    a = np.empty(H, ax.dtype)
    for t in range(T):
        for b in range(B):
            for j in range(H):
                a[j] = ax[t, b, j]
            add_product(a, h0[b] if t == 0 else Hs[t - 1, b], W_hhT)      # a += h_{t-1} W_hh^T
            for j in range(H):
                if code == 0:
                    Hs[t, b, j] = tanh(a[j])
                elif code == 1:
                    Hs[t, b, j] = a[j] if a[j] > 0 else 0.0
                else:
                    Hs[t, b, j] = a[j]


@jit
def _backward_kernel(dout, E, has_ends, gh, Hs, W_hh, DA, dh, code):  # pragma: no cover
    T, B, H = dout.shape
    for t in range(T - 1, -1, -1):
        for b in range(B):
            if has_ends:
                join_final(dh, gh, E, t, b)
            for j in range(H):
                h = Hs[t, b, j]
                d = dh[b, j] + dout[t, b, j]
                if code == 0:
                    d = d * (1.0 - h * h)
                elif code == 1:
                    d = d if h > 0 else 0.0
                DA[t, b, j] = d
            dh[b, :] = 0.0
            add_product(dh[b], DA[t, b], W_hh)        # eq. bptt-dh
