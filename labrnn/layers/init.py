"""Weight initialisers (book chapter 5). All return host NumPy float64 arrays.

They take a seeded ``numpy.random.Generator``; move the result to a backend
with :func:`labrnn.from_numpy` (``init_elman`` does both).
"""

from __future__ import annotations

import numpy as np

from ..backend import host_rng


def uniform(shape, rng, scale):
    """Uniform on ``[-scale, scale]``."""
    return host_rng(rng).uniform(-scale, scale, size=shape)


def glorot_uniform(shape, rng, gain=1.0):
    """Glorot/Xavier uniform: ``U[-a, a]``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    For a matrix of shape ``(fan_out, fan_in)`` this keeps the variance of
    activations roughly constant from layer to layer (Glorot & Bengio 2010).
    """
    fan_out, fan_in = shape
    return uniform(shape, rng, gain * np.sqrt(6.0 / (fan_in + fan_out)))


def orthogonal(shape, rng, gain=1.0):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014).

    Drawn as the Q factor of a Gaussian matrix, with the signs of R's diagonal
    folded in so the distribution is uniform over orthogonal matrices. All
    singular values equal ``gain``, so repeated multiplication neither shrinks
    nor grows a vector when ``gain = 1``.
    """
    rows, cols = shape
    a = host_rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q[:rows, :cols]


def identity_init(n, gain=1.0):
    """``gain * I``: the IRNN initialisation of ``W_hh`` for ReLU RNNs (Le et al. 2015)."""
    return gain * np.eye(n)
