"""Layer normalisation (Ba, Kiros & Hinton 2016; book chapter 8, "Deep (stacked) RNNs").

Layer normalisation standardises every row of an array over its LAST axis, the
``N`` features of one example at one time step, then rescales and shifts it
with learned per-feature gains ``gamma`` and shifts ``beta``, equation
``deep-layernorm``::

    mu       = (1/N) sum_j a_j                       mean of the row
    sigma^2  = (1/N) sum_j (a_j - mu)^2              (biased) variance of the row
    a_hat    = (a - mu) / sqrt(sigma^2 + eps)        normalise: mean 0, variance ~1
    y        = gamma * a_hat + beta                  scale and shift

Unlike batch normalisation nothing is averaged over the batch or over time, so
it behaves the same at training and test time and for any ``B`` and ``T``.
``eps`` (default 1e-5, PyTorch's) keeps a constant row (``sigma^2 = 0``, e.g.
``W_h h_0`` with ``h_0 = 0``) finite: it maps to ``beta``.

Backward (``ln-backward``), with ``g = dy * gamma`` and means over the row::

    da     = (g - mean(g) - a_hat * mean(g * a_hat)) / sqrt(sigma^2 + eps)
    dgamma = sum over all leading axes of dy * a_hat
    dbeta  = sum over all leading axes of dy

Shapes: ``a, y: (..., N)`` (any number of leading axes, e.g. ``(B, N)`` or
``(T, B, N)``); ``gamma, beta: (N,)``. All arrays share one namespace, device
and float dtype; results stay on that device.
"""

from __future__ import annotations

from ..backend import namespace
from ..errors import ShapeError
from ..validate import check_float, check_shape

__all__ = ["layer_norm_forward", "layer_norm_backward", "ln_kernel", "ln_kernel_backward"]


def ln_kernel(xp, a, gamma, beta, eps):
    """Unchecked ``deep-layernorm`` in namespace ``xp`` (inside loops whose inputs are checked).

    Returns ``(y, cache)`` like :func:`layer_norm_forward`.
    """
    mu = xp.mean(a, axis=-1, keepdims=True)
    centred = a - mu
    var = xp.mean(centred * centred, axis=-1, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    a_hat = centred * inv_std
    return gamma * a_hat + beta, (a_hat, inv_std, gamma)


def _sum_leading(xp, z):
    """Sum ``z (..., N)`` over every axis but the last: ``(N,)``."""
    return xp.sum(xp.reshape(z, (-1, z.shape[-1])), axis=0)


def ln_kernel_backward(xp, dy, cache):
    """Unchecked ``ln-backward`` in namespace ``xp``: ``(da, dgamma, dbeta)``."""
    a_hat, inv_std, gamma = cache
    g = dy * gamma
    da = inv_std * (g - xp.mean(g, axis=-1, keepdims=True)
                    - a_hat * xp.mean(g * a_hat, axis=-1, keepdims=True))
    return da, _sum_leading(xp, dy * a_hat), _sum_leading(xp, dy)


def layer_norm_forward(a, gamma, beta, eps=1e-5):
    """Layer normalisation over the last axis, equation ``deep-layernorm``.

    Parameters
    ----------
    a : array (..., N)
        At least one axis; every row ``a[..., :]`` is normalised on its own.
    gamma, beta : arrays (N,)
        Gain and shift (``gamma = 1, beta = 0`` is plain standardisation).
    eps : float > 0
        Added to the variance before the square root.

    Returns
    -------
    y : array (..., N), same namespace, device and dtype as ``a``
    cache : used by :func:`layer_norm_backward`
    """
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is None:
            raise TypeError(f"{name} is None; pass an array of shape (N,) (gains of ones and "
                            "shifts of zeros for plain standardisation)")
    xp = namespace(a, gamma, beta, names=["a", "gamma", "beta"])
    check_float("a", a)
    if a.ndim < 1:
        raise ShapeError(f"a must have at least one axis (the N features), received shape "
                         f"{tuple(a.shape)}")
    N = a.shape[-1]
    for name, p in (("gamma", gamma), ("beta", beta)):
        check_float(name, p, a.dtype)
        check_shape(name, p, (("N", N),))
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be a positive number, received {eps!r}: with eps = 0 a "
                         "constant row divides by zero")
    return ln_kernel(xp, a, gamma, beta, float(eps))


def layer_norm_backward(dy, cache):
    """Backward of :func:`layer_norm_forward`, equation ``ln-backward``.

    Parameters
    ----------
    dy : array (..., N), the gradient of the loss with respect to ``y``
    cache : from :func:`layer_norm_forward`

    Returns
    -------
    da : array (..., N)
    dgamma, dbeta : arrays (N,), summed over every leading axis
    """
    if not (isinstance(cache, tuple) and len(cache) == 3):
        raise TypeError("cache must be the second value returned by layer_norm_forward")
    a_hat = cache[0]
    xp = namespace(dy, a_hat, names=["dy", "the cached a_hat"])
    check_float("dy", dy, a_hat.dtype)
    if tuple(dy.shape) != tuple(a_hat.shape):
        raise ShapeError(f"dy must have the shape of the forward input {tuple(a_hat.shape)}, "
                         f"received {tuple(dy.shape)}")
    return ln_kernel_backward(xp, dy, cache)
