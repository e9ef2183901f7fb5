"""The compiled time loops' switch: numba when it is installed (``pip install labrnn[fast]``).

:data:`HAVE_NUMBA` says whether numba imported; :func:`jit` compiles a kernel with
``numba.njit(cache=True)`` (compiled once per dtype on first use and cached on disk
beside the module), or, without numba, returns a stand-in that raises a clear error if
called (:func:`labrnn.fast.fast_path_for` never selects it then). The kernels themselves
live with their cell (:mod:`labrnn.fast.lstm`, :mod:`~labrnn.fast.gru`,
:mod:`~labrnn.fast.elman`): plain loops over time, batch and units, the matrix products
written as ``axpy`` loops (``a += h_k W[k, :]``) that the compiler vectorises, so they
need no BLAS. A scalar ``tanh`` compiles to the C library's, several times slower than
``exp``; the kernels write the sigmoid as ``1 / (1 + exp(-a))`` and use :func:`tanh`
below, also one ``exp``.
"""

from __future__ import annotations

import functools

import numpy as np

try:
    import numba
    HAVE_NUMBA = True
except ImportError:                                    # the optional 'fast' extra
    numba = None
    HAVE_NUMBA = False

__all__ = ["HAVE_NUMBA", "jit", "tanh", "add_product", "join_final"]


def jit(fn):
    """``numba.njit(cache=True)(fn)``, or a stand-in raising ImportError without numba."""
    if HAVE_NUMBA:
        return numba.njit(cache=True, nogil=True)(fn)

    @functools.wraps(fn)
    def missing(*args, **kwargs):
        raise ImportError(f"{fn.__name__} is a compiled kernel and needs numba: "
                          "pip install 'labrnn[fast]'")
    return missing


@jit
def tanh(x):                                           # pragma: no cover (compiled)
    """``tanh(x) = 2 sigma(2x) - 1`` (absolute error of a few units of the last place)."""
    return 2.0 / (1.0 + np.exp(-(x + x))) - 1.0


@jit
def add_product(a, h, W):                              # pragma: no cover (compiled)
    """``a += h W`` for one row ``h`` (K,) and ``W`` (K, N): the matrix-vector product as
    ``K`` axpy rows ``a += h_k W[k, :]``, contiguous inner loops the compiler vectorises."""
    for k in range(h.shape[0]):
        hk = h[k]
        for j in range(a.shape[0]):
            a[j] += hk * W[k, j]


@jit
def join_final(d, g, E, t, b):                         # pragma: no cover (compiled)
    """``d[b] += g[b] E[t, b]``: the final-state gradient joins a padded sequence at its end."""
    if E[t, b] != 0:
        for j in range(d.shape[1]):
            d[b, j] += g[b, j] * E[t, b]
