"""Activation functions and their derivatives (book chapter 2, "The Elman RNN").

Each derivative is written **in terms of the activation's output** ``y = f(a)``,
because that is what a forward pass keeps in its cache:

=============  =====================================  ==========================
name           f(a)                                   f'(a) as a function of y
=============  =====================================  ==========================
``tanh``       tanh(a)                                1 - y**2
``sigmoid``    1 / (1 + exp(-a)) (computed stably)    y (1 - y)
``relu``       max(a, 0)                              1 if y > 0 else 0
``identity``   a                                      1
=============  =====================================  ==========================
"""

from __future__ import annotations

from ..backend import namespace


def tanh(a, xp=None):
    """Hyperbolic tangent. ``xp``: the namespace, when the caller already knows it."""
    return (xp or namespace(a, names=["a"])).tanh(a)


def tanh_grad(y, xp=None):
    """Derivative of tanh from its output: ``1 - y**2``."""
    return 1.0 - y * y


def sigmoid(a, xp=None):
    """Logistic sigmoid, stable for large ``|a|``: no ``exp`` of a positive number."""
    xp = xp or namespace(a, names=["a"])
    e = xp.exp(-xp.abs(a))                 # in (0, 1], never overflows
    return xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(y, xp=None):
    """Derivative of the sigmoid from its output: ``y (1 - y)``."""
    return y * (1.0 - y)


def relu(a, xp=None):
    """Rectified linear unit ``max(a, 0)``."""
    xp = xp or namespace(a, names=["a"])
    return xp.where(a > 0, a, xp.zeros_like(a))


def relu_grad(y, xp=None):
    """Derivative of ReLU from its output: 1 where ``y > 0``, else 0."""
    xp = xp or namespace(y, names=["y"])
    return xp.astype(y > 0, y.dtype)


def identity(a, xp=None):
    """The identity, ``f(a) = a`` (a linear output layer)."""
    return a


def identity_grad(y, xp=None):
    """Derivative of the identity: ones."""
    return (xp or namespace(y, names=["y"])).ones_like(y)


ACTIVATIONS = {
    "tanh": (tanh, tanh_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "relu": (relu, relu_grad),
    "identity": (identity, identity_grad),
}


def activation(name):
    """Return ``(f, f_grad_from_output)`` for an activation name."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


def log_softmax(z, axis=-1):
    """``log softmax(z)`` along ``axis``, stable: shifts by the maximum first.

    ``log_softmax(z)_k = z_k - max(z) - log(sum_j exp(z_j - max(z)))``.
    """
    xp = namespace(z, names=["z"])
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """Softmax along ``axis``, computed as ``exp(log_softmax(z))`` (no overflow)."""
    return namespace(z, names=["z"]).exp(log_softmax(z, axis=axis))


def softmax_backward(dy, y, axis=-1):
    """Vector-Jacobian product of softmax: ``dz = y * (dy - sum(dy * y))``."""
    xp = namespace(dy, y, names=["dy", "y"])
    return y * (dy - xp.sum(dy * y, axis=axis, keepdims=True))


def log_softmax_backward(dy, y_log, axis=-1):
    """Vector-Jacobian product of log-softmax: ``dz = dy - softmax(z) sum(dy)``."""
    xp = namespace(dy, y_log, names=["dy", "y_log"])
    return dy - xp.exp(y_log) * xp.sum(dy, axis=axis, keepdims=True)
