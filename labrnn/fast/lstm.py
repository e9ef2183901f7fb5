"""The LSTM's fast path (book chapters 6 and 21): equations ``lstm-gates`` to ``lstm-hidden``.

Gate order i, f, g, o as in :mod:`labrnn.cells.lstm`. With ``e = exp(k a)`` and the
per-block scale ``k = (-1, -1, -2, -1)``, the sigmoid gates are ``1 / (1 + e)`` and the
candidate ``2 / (1 + e) - 1`` (``tanh(a) = 2 sigma(2a) - 1``): one ``exp`` call gives all
four gates (an ``exp`` costs about half a ``tanh``). The scale is folded into the input
projection and the recurrent weights once per sequence (powers of two: exact).

Buffers, allocated once per sequence (``T`` steps, batch ``B``, ``H`` units)::

    Hs, Cs  (T + 1, B, H)   h_0..h_T and c_0..c_T   (out = Hs[1:], h_{t-1} = Hs[t])
    gates   (T, B, 4H)      i, f, g, o               (the input projection's buffer, reused)
    TC      (T, B, H)       tanh(c_t)

seven ``(B, H)`` arrays a step, as the generic loop keeps. Backward (``D``: the gates'
derivatives ``i(1-i)``, ``f(1-f)``, ``1-g^2``, ``o(1-o)``)::

    da_o = dh tanh(c) D_o,   dc += dh o (1 - tanh(c)^2),
    da_i = dc g D_i,  da_f = dc c_{t-1} D_f,  da_g = dc i D_g,   dc_{t-1} = dc f,
    dh_{t-1} = da W_h                                  and after the loop dW_h = da^T h_{t-1}.
"""

from __future__ import annotations

import numpy as np

from .compiled import add_product, jit, join_final, tanh

__all__ = ["supports", "Loop"]


def supports(v):
    """The plain LSTM (no peepholes)."""
    return not v.get("peephole", False)


def _scale(H, dtype):
    """``k`` (4H,): -1 for the sigmoid gates, -2 for the candidate (``tanh = 2 sigma(2a) - 1``)."""
    k = np.full(4 * H, -1.0, dtype=dtype)
    k[2 * H:3 * H] = -2.0
    return k


def project(x, W, b, k=None):
    """``(x W^T + b) * k`` for all ``T B`` rows at once: (T, B, G); ``k`` folded into W and b."""
    T, B, D = x.shape
    if k is not None:
        W, b = W * k[:, None], b * k
    ax = np.matmul(x.reshape(T * B, D), W.T)
    ax += b
    return ax.reshape(T, B, W.shape[0])


def backward_start(dout, dstate_T, ends, T, B, H, dtype):
    """What every fast backward starts from: ``(dout, g, carry, E)``.

    ``dout`` (zeros for ``None``, contiguous), ``g`` the final-state gradients (copies;
    zeros for ``None`` entries), ``carry`` the gradients carried into step ``T`` (``g``
    itself, or zeros when ``ends`` makes ``g`` join at each sequence's last step), ``E``
    the compiled kernels' (T, B) form of ``ends`` ((0, 0) without it).
    """
    dout = np.zeros((T, B, H), dtype) if dout is None else np.ascontiguousarray(dout)
    g = tuple(np.zeros((B, H), dtype) if d is None else np.array(d, dtype=dtype, copy=True)
              for d in dstate_T)
    carry = g if ends is None else tuple(np.zeros((B, H), dtype) for _ in g)
    E = np.zeros((0, 0), dtype) if ends is None else np.ascontiguousarray(ends[..., 0])
    return dout, g, carry, E


class Loop:
    """The LSTM time loop on NumPy; ``compiled=True`` runs the numba kernels."""

    def __init__(self, v, compiled=False):
        self.compiled = compiled

    def project(self, x, params):
        """The input projection of every step and gate, one GEMM, times the exponent
        scales ``k`` (-1 for the sigmoid gates, -2 for the candidate; exact)."""
        return project(x, params["W_x"], params["b"], _scale(params["b"].shape[0] // 4, x.dtype))

    def forward(self, ax, s0, params):
        """``ax`` (T, B, 4H), consumed; ``s0 = (h0, c0)``: ``((Hs[1:], Cs[1:]), store)``."""
        T, B, G = ax.shape
        H = G // 4
        dt = ax.dtype
        Hs, Cs = np.empty((T + 1, B, H), dt), np.empty((T + 1, B, H), dt)
        TC = np.empty((T, B, H), dt)
        Hs[0], Cs[0] = s0
        k = _scale(H, dt)                                 # exp(k a): one call, four gates
        W_hT = np.ascontiguousarray((params["W_h"] * k[:, None]).T)       # (H, 4H)
        if self.compiled:
            _forward_kernel(ax, W_hT, Hs, Cs, TC)
        else:
            num = -k                                      # sigma = 1/(1+e), tanh = 2/(1+e) - 1
            rec = np.empty((B, G), dt)
            ig = np.empty((B, H), dt)
            with np.errstate(over="ignore"):              # exp(+large) = inf gives 1/inf = 0
                for t in range(T):
                    a = ax[t]
                    np.matmul(Hs[t], W_hT, out=rec)
                    a += rec
                    np.exp(a, out=a)                      # eq. lstm-gates, all four
                    a += 1.0
                    np.divide(num, a, out=a)
                    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                    g -= 1.0
                    c = Cs[t + 1]
                    np.multiply(f, Cs[t], out=c)              # eq. lstm-cell
                    np.multiply(i, g, out=ig)
                    c += ig
                    np.tanh(c, out=TC[t])
                    np.multiply(o, TC[t], out=Hs[t + 1])      # eq. lstm-hidden
        return (Hs[1:], Cs[1:]), (Hs, Cs, ax, TC)

    def backward(self, dout, dstate_T, ends, store, params):
        """BPTT: ``(dax (T, B, 4H), (dh0, dc0), {"W_h": dW_h})``.

        ``dout`` (T, B, H) or ``None``; ``dstate_T = (dh_T, dc_T)`` (``None`` entries: zero);
        ``ends`` ``None``, or (T, B, 1) with a 1 at each sequence's last step, where
        ``dstate_T`` joins instead of at step T (a padded batch run on).
        """
        Hs, Cs, gates, TC = store
        T, B, G = gates.shape
        H = G // 4
        dt = gates.dtype
        W_h = params["W_h"]
        dA = np.empty((T, B, G), dt)
        dout, (gh, gc), (dh, dc), E = backward_start(dout, dstate_T, ends, T, B, H, dt)
        if self.compiled:
            _backward_kernel(dout, E, ends is not None, gh, gc, gates,
                             TC, Cs, np.ascontiguousarray(W_h), dA, dh, dc)
        else:
            D = np.empty((B, G), dt)
            dht, tmp = np.empty((B, H), dt), np.empty((B, H), dt)
            for t in range(T - 1, -1, -1):
                if ends is not None:
                    dh += gh * ends[t]
                    dc += gc * ends[t]
                np.add(dout[t], dh, out=dht)
                g4, tc, da = gates[t], TC[t], dA[t]
                i, f, g, o = g4[:, :H], g4[:, H:2 * H], g4[:, 2 * H:3 * H], g4[:, 3 * H:]
                np.subtract(1.0, g4, out=D)
                D *= g4                                   # sigma' = sigma (1 - sigma)
                Dg = D[:, 2 * H:3 * H]
                np.multiply(g, g, out=Dg)
                np.subtract(1.0, Dg, out=Dg)              # tanh' = 1 - g^2
                dao = da[:, 3 * H:]
                np.multiply(dht, tc, out=dao)
                dao *= D[:, 3 * H:]
                np.multiply(tc, tc, out=tmp)
                np.subtract(1.0, tmp, out=tmp)
                tmp *= o
                tmp *= dht
                dc += tmp                                 # all gradient reaching c_t
                np.multiply(dc, g, out=da[:, :H])
                da[:, :H] *= D[:, :H]
                np.multiply(dc, Cs[t], out=da[:, H:2 * H])
                da[:, H:2 * H] *= D[:, H:2 * H]
                np.multiply(dc, i, out=da[:, 2 * H:3 * H])
                da[:, 2 * H:3 * H] *= Dg
                dc *= f                                   # the constant error carousel
                np.matmul(da, W_h, out=dh)
        flat = dA.reshape(T * B, G)
        grads = {"W_h": np.matmul(flat.T, Hs[:-1].reshape(T * B, H))}
        return dA, (dh, dc), grads


@jit
def _forward_kernel(ax, W_hT, Hs, Cs, TC):            # pragma: no cover (compiled)
    T, B, G = ax.shape
    H = G // 4
    a = np.empty(G, ax.dtype)
    for t in range(T):
        for b in range(B):
            for j in range(G):
                a[j] = ax[t, b, j]
            add_product(a, Hs[t, b], W_hT)            # a += h_{t-1} W_h^T
            for j in range(H):
                i = 1.0 / (1.0 + np.exp(a[j]))      # a holds -a_i (and -2 a_g): exp only
                f = 1.0 / (1.0 + np.exp(a[H + j]))
                g = 2.0 / (1.0 + np.exp(a[2 * H + j])) - 1.0
                o = 1.0 / (1.0 + np.exp(a[3 * H + j]))
                c = f * Cs[t, b, j] + i * g
                tc = tanh(c)
                ax[t, b, j] = i
                ax[t, b, H + j] = f
                ax[t, b, 2 * H + j] = g
                ax[t, b, 3 * H + j] = o
                Cs[t + 1, b, j] = c
                TC[t, b, j] = tc
                Hs[t + 1, b, j] = o * tc


@jit
def _backward_kernel(dout, E, has_ends, gh, gc, gates, TC, Cs, W_h, dA, dh, dc):  # pragma: no cover
    T, B, H = dout.shape
    G = 4 * H
    for t in range(T - 1, -1, -1):
        for b in range(B):
            if has_ends:
                join_final(dh, gh, E, t, b)
                join_final(dc, gc, E, t, b)
            for j in range(H):
                i = gates[t, b, j]
                f = gates[t, b, H + j]
                g = gates[t, b, 2 * H + j]
                o = gates[t, b, 3 * H + j]
                tc = TC[t, b, j]
                d = dout[t, b, j] + dh[b, j]
                dA[t, b, 3 * H + j] = d * tc * o * (1.0 - o)
                dcc = dc[b, j] + d * o * (1.0 - tc * tc)
                dA[t, b, j] = dcc * g * i * (1.0 - i)
                dA[t, b, H + j] = dcc * Cs[t, b, j] * f * (1.0 - f)
                dA[t, b, 2 * H + j] = dcc * i * (1.0 - g * g)
                dc[b, j] = dcc * f
            dh[b, :] = 0.0
            add_product(dh[b], dA[t, b], W_h)         # dh_{t-1} = da W_h
