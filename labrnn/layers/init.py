"""Weight initialisers (book chapter 5). All return host NumPy float64 arrays.

They take a seeded ``numpy.random.Generator``; move the result to a backend
with :func:`labrnn.from_numpy` (``init_elman`` does both).
"""

from __future__ import annotations

import numpy as np

from ..backend import host_rng
from ..validate import check_int, check_number, check_positive_int


def _check_shape_arg(shape, ndim=None):
    """``shape`` must be a tuple of sizes >= 0 (of ``ndim`` entries if given); returns it."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) and ndim in (None, 1):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or (ndim is not None and len(shape) != ndim):
        want = "a tuple of sizes" if ndim is None else f"a tuple of {ndim} sizes, e.g. (fan_out, fan_in)"
        raise ValueError(f"shape must be {want}, received {shape!r}")
    return tuple(check_int(f"shape[{i}]", s, low=0)
                 for i, s in enumerate(shape))


def uniform(shape, rng, scale):
    """Uniform on ``[-scale, scale]``."""
    shape = _check_shape_arg(shape)
    scale = check_number("scale", scale, low=0)
    return host_rng(rng, "rng").uniform(-scale, scale, size=shape)


def glorot_uniform(shape, rng, gain=1.0):
    """Glorot/Xavier uniform: ``U[-a, a]``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    For a matrix of shape ``(fan_out, fan_in)`` this keeps the variance of
    activations roughly constant from layer to layer (Glorot & Bengio 2010).
    """
    fan_out, fan_in = _check_shape_arg(shape, 2)
    gain = check_number("gain", gain, low=0)
    return uniform(shape, rng, gain * np.sqrt(6.0 / (fan_in + fan_out)))


def orthogonal(shape, rng, gain=1.0):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014).

    Drawn as the Q factor of a Gaussian matrix, with the signs of R's diagonal
    folded in so the distribution is uniform over orthogonal matrices. All
    singular values equal ``gain``, so repeated multiplication neither shrinks
    nor grows a vector when ``gain = 1``.
    """
    rows, cols = _check_shape_arg(shape, 2)
    gain = check_number("gain", gain)
    a = host_rng(rng, "rng").standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q[:rows, :cols]


def identity_init(n, gain=1.0):
    """``gain * I``: the IRNN initialisation of ``W_hh`` for ReLU RNNs (Le et al. 2015)."""
    n = check_positive_int("n", n)
    gain = check_number("gain", gain)
    return gain * np.eye(n)
