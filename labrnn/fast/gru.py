"""The GRU's fast path (book chapters 7 and 21), ``reset="after"``: ``gru-gates`` to ``gru-update``.

Gate order r, z, n as in :mod:`labrnn.cells.gru`. The reset and update gates are one
``exp`` call, ``sigma(a) = 1 / (1 + exp(-a))``, the sign folded into the input projection
and the recurrent weights once per sequence (exact). The
update ``h_t = (1 - z_t) n_t + z_t h_{t-1}`` keeps ``h_{t-1}`` exactly where ``z_t = 1``.

Buffers, allocated once per sequence::

    Hs     (T + 1, B, H)   h_0..h_T                   (out = Hs[1:])
    gates  (T, B, 3H)      r, z, n                    (the input projection's buffer, reused)
    AUX    (T, B, H)       W_hn h_{t-1} + b_hn

five ``(B, H)`` arrays a step, as the generic loop keeps. Backward::

    da_z = dh (h_{t-1} - n) z (1 - z),   da_n = dh (1 - z) (1 - n^2),
    da_r = da_n aux r (1 - r),           dah = [da_r, da_z, da_n r],
    dh_{t-1} = dh z + dah W_h;   after the loop dW_h = dah^T h_{t-1},  db_hn = sum dah_n.
"""

from __future__ import annotations

import numpy as np

from .compiled import add_product, jit, join_final, tanh
from .lstm import backward_start, project


def _scale(H, dtype):
    """(3H,): -1 for the r and z blocks (``exp(-a)``), 1 for the candidate's."""
    k = np.ones(3 * H, dtype=dtype)
    k[:2 * H] = -1.0
    return k

__all__ = ["supports", "Loop"]


def supports(v):
    """The ``reset="after"`` GRU (PyTorch's and cuDNN's)."""
    return v.get("reset") == "after"


class Loop:
    """The GRU time loop on NumPy; ``compiled=True`` runs the numba kernels."""

    def __init__(self, v, compiled=False):
        self.compiled = compiled

    def project(self, x, params):
        """The input projection of every step and gate, one GEMM, the r and z blocks negated."""
        return project(x, params["W_x"], params["b"], _scale(params["b"].shape[0] // 3, x.dtype))

    def forward(self, ax, s0, params):
        """``ax`` (T, B, 3H), consumed; ``s0 = (h0,)``: ``((Hs[1:],), store)``."""
        T, B, G = ax.shape
        H = G // 3
        dt = ax.dtype
        Hs, AUX = np.empty((T + 1, B, H), dt), np.empty((T, B, H), dt)
        Hs[0] = s0[0]
        W_hT = np.ascontiguousarray((params["W_h"] * _scale(H, dt)[:, None]).T)   # (H, 3H)
        b_hn = params["b_hn"]
        if self.compiled:
            _forward_kernel(ax, W_hT, b_hn, Hs, AUX)
        else:
            rec = np.empty((B, G), dt)
            tmp = np.empty((B, H), dt)
            for t in range(T):
                np.matmul(Hs[t], W_hT, out=rec)             # all three products, one GEMM
                rz = ax[t, :, :2 * H]
                rz += rec[:, :2 * H]
                with np.errstate(over="ignore"):           # exp(+large) = inf: 1/inf = 0
                    np.exp(rz, out=rz)                      # eq. gru-gates, r and z
                rz += 1.0
                np.divide(1.0, rz, out=rz)
                r, z, n = ax[t, :, :H], ax[t, :, H:2 * H], ax[t, :, 2 * H:]
                np.add(rec[:, 2 * H:], b_hn, out=AUX[t])
                np.multiply(r, AUX[t], out=tmp)
                n += tmp
                np.tanh(n, out=n)                           # eq. gru-candidate
                h = Hs[t + 1]
                np.subtract(1.0, z, out=tmp)
                tmp *= n
                np.multiply(z, Hs[t], out=h)
                h += tmp                                    # eq. gru-update
        return (Hs[1:],), (Hs, ax, AUX)

    def backward(self, dout, dstate_T, ends, store, params):
        """BPTT: ``(dax (T, B, 3H), (dh0,), {"W_h", "b_hn"})``; arguments as in
        :meth:`labrnn.fast.lstm.Loop.backward`."""
        Hs, gates, AUX = store
        T, B, G = gates.shape
        H = G // 3
        dt = gates.dtype
        W_h = params["W_h"]
        DAH, DAN = np.empty((T, B, G), dt), np.empty((T, B, H), dt)
        dout, (gh,), (dh,), E = backward_start(dout, dstate_T, ends, T, B, H, dt)
        if self.compiled:
            _backward_kernel(dout, E, ends is not None, gh, gates, AUX,
                             Hs, np.ascontiguousarray(W_h), DAH, DAN, dh)
        else:
            dht, tmp, tmp2 = (np.empty((B, H), dt) for _ in range(3))
            for t in range(T - 1, -1, -1):
                if ends is not None:
                    dh += gh * ends[t]
                np.add(dout[t], dh, out=dht)
                r, z, n = gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:]
                dah, dan = DAH[t], DAN[t]
                np.subtract(Hs[t], n, out=tmp)
                tmp *= dht
                np.subtract(1.0, z, out=tmp2)
                tmp2 *= z
                np.multiply(tmp, tmp2, out=dah[:, H:2 * H])       # da_z
                np.subtract(1.0, z, out=tmp)
                tmp *= dht
                np.multiply(n, n, out=tmp2)
                np.subtract(1.0, tmp2, out=tmp2)
                np.multiply(tmp, tmp2, out=dan)                   # da_n
                np.subtract(1.0, r, out=tmp)
                tmp *= r
                tmp *= AUX[t]
                np.multiply(dan, tmp, out=dah[:, :H])             # da_r
                np.multiply(dan, r, out=dah[:, 2 * H:])           # gradient of W_hn h + b_hn
                np.matmul(dah, W_h, out=dh)
                np.multiply(dht, z, out=tmp)
                dh += tmp                                         # the copy path of z
        flat = DAH.reshape(T * B, G)
        grads = {"W_h": np.matmul(flat.T, Hs[:-1].reshape(T * B, H)),
                 "b_hn": np.sum(flat[:, 2 * H:], axis=0)}
        DAH[..., 2 * H:] = DAN                                    # now the input projection's
        return DAH, (dh,), grads


@jit
def _forward_kernel(ax, W_hT, b_hn, Hs, AUX):            # pragma: no cover (compiled)
    T, B, G = ax.shape
    H = G // 3
    a = np.empty(G, ax.dtype)
    for t in range(T):
        for b in range(B):
            a[:] = 0.0
            add_product(a, Hs[t, b], W_hT)            # all three products
            for j in range(H):
                r = 1.0 / (1.0 + np.exp(ax[t, b, j] + a[j]))     # negated: exp only
                z = 1.0 / (1.0 + np.exp(ax[t, b, H + j] + a[H + j]))
                aux = a[2 * H + j] + b_hn[j]
                n = tanh(ax[t, b, 2 * H + j] + r * aux)
                ax[t, b, j] = r
                ax[t, b, H + j] = z
                ax[t, b, 2 * H + j] = n
                AUX[t, b, j] = aux
                Hs[t + 1, b, j] = (1.0 - z) * n + z * Hs[t, b, j]


@jit
def _backward_kernel(dout, E, has_ends, gh, gates, AUX, Hs, W_h, DAH, DAN, dh):  # pragma: no cover
    T, B, H = dout.shape
    G = 3 * H
    tmp = np.empty(H, dout.dtype)
    for t in range(T - 1, -1, -1):
        for b in range(B):
            if has_ends:
                join_final(dh, gh, E, t, b)
            for j in range(H):
                r = gates[t, b, j]
                z = gates[t, b, H + j]
                n = gates[t, b, 2 * H + j]
                d = dout[t, b, j] + dh[b, j]
                DAH[t, b, H + j] = d * (Hs[t, b, j] - n) * z * (1.0 - z)
                dan = d * (1.0 - z) * (1.0 - n * n)
                DAN[t, b, j] = dan
                DAH[t, b, j] = dan * AUX[t, b, j] * r * (1.0 - r)
                DAH[t, b, 2 * H + j] = dan * r
                tmp[j] = d * z
            dh[b, :] = tmp
            add_product(dh[b], DAH[t, b], W_h)        # dh_{t-1} = dh z + dah W_h
