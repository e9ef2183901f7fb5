"""Optimisers and gradient clipping (book chapters 5 and 12).

Parameters and gradients are dicts of arrays with the same keys. Optimisers
rebind ``params[name]`` to a new array (no in-place writes, so they work with
every array library).
"""

from __future__ import annotations

import math

from ..backend import namespace
from ..errors import NonFiniteError


def global_norm(grads):
    """``sqrt(sum over every gradient array of the sum of its squares)``."""
    total = 0.0
    for g in grads.values():
        xp = namespace(g)
        total += float(xp.sum(g * g))
    return math.sqrt(total)


def clip_by_value(grads, limit):
    """Clip every gradient entry to ``[-limit, limit]``: changes the direction."""
    if not limit > 0:
        raise ValueError(f"limit must be positive, received {limit}")
    return {k: namespace(g).clip(g, -limit, limit) for k, g in grads.items()}


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together so their global norm is at most ``max_norm``.

    ``g <- g * max_norm / norm`` when ``norm > max_norm`` (Pascanu et al. 2013);
    keeps the direction. Returns ``(clipped_grads, norm_before_clipping)``.
    A non-finite norm cannot be clipped back to sense and raises.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, received {max_norm}")
    norm = global_norm(grads)
    if not math.isfinite(norm):
        raise NonFiniteError(f"the gradient norm is {norm}: the gradients already hold inf/NaN, "
                             "so clipping cannot rescue them; clip earlier or lower the learning rate")
    scale = min(1.0, max_norm / (norm + 1e-12))
    return {k: g * scale for k, g in grads.items()}, norm


def _check_grads(params, grads):
    missing = sorted(set(params) - set(grads))
    if missing:
        raise KeyError(f"no gradient for parameters {missing}")
    for k in params:
        if tuple(grads[k].shape) != tuple(params[k].shape):
            raise ValueError(f"gradient for {k!r} has shape {tuple(grads[k].shape)}, "
                             f"the parameter has {tuple(params[k].shape)}")
    norm = global_norm({k: grads[k] for k in params})
    if not math.isfinite(norm):
        raise NonFiniteError("a gradient holds inf or NaN; the update would destroy the "
                             "parameters. Clip the gradients (clip_by_global_norm) or lower the "
                             "learning rate")


class SGD:
    """Stochastic gradient descent with (optional) momentum.

    ``v <- momentum * v - lr * g``; ``theta <- theta + v``.
    """

    def __init__(self, lr=0.1, momentum=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be positive, received {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), received {momentum}")
        self.lr, self.momentum, self.v = lr, momentum, {}

    def step(self, params, grads):
        _check_grads(params, grads)
        for k in params:
            if self.momentum:
                v = self.v.get(k)
                v = -self.lr * grads[k] if v is None else self.momentum * v - self.lr * grads[k]
                self.v[k] = v
                params[k] = params[k] + v
            else:
                params[k] = params[k] - self.lr * grads[k]
        return params


class RMSProp:
    """RMSProp (Tieleman & Hinton 2012): each parameter's step is divided by a running
    root-mean-square of its gradients (equation ``opt-rmsprop``).

    ``v <- rho v + (1 - rho) g^2``; ``theta <- theta - lr * g / (sqrt(v) + eps)``,
    with ``v`` starting at 0 (no bias correction, unlike :class:`Adam`).
    """

    def __init__(self, lr=1e-3, rho=0.9, eps=1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be positive, received {lr}")
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1), received {rho}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, received {eps}")
        self.lr, self.rho, self.eps, self.v = lr, rho, eps, {}

    def step(self, params, grads):
        _check_grads(params, grads)
        rho = self.rho
        for k in params:
            g = grads[k]
            xp = namespace(g)
            self.v[k] = rho * self.v[k] + (1 - rho) * g * g if k in self.v else (1 - rho) * g * g
            params[k] = params[k] - self.lr * g / (xp.sqrt(self.v[k]) + self.eps)
        return params


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction.

    ``m <- b1 m + (1-b1) g``; ``v <- b2 v + (1-b2) g^2``;
    ``theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)``.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be positive, received {lr}")
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1), received {beta}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, received {eps}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        _check_grads(params, grads)
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for k in params:
            g = grads[k]
            xp = namespace(g)
            self.m[k] = b1 * self.m[k] + (1 - b1) * g if k in self.m else (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g if k in self.v else (1 - b2) * g * g
            params[k] = params[k] - self.lr * (self.m[k] / c1) / (xp.sqrt(self.v[k] / c2) + self.eps)
        return params
