"""Optimisers and gradient clipping (book chapters 5 and 12).

Parameters and gradients are dicts of arrays with the same keys. Optimisers
rebind ``params[name]`` to a new array (no in-place writes, so they work with
every array library).

Checked at every ``step``: each gradient has its parameter's shape, dtype, library and
device (a float64 gradient for float32 parameters raises rather than silently promoting
them), and is finite. An optimiser's state (momentum, running averages) belongs to the
parameters it was first used with: a parameter whose shape or dtype has changed since
raises, naming it; call ``reset()`` to start afresh (or make a new optimiser).
The learning rate ``lr`` is checked when set (a schedule's ``opt.lr = ...`` too).

:func:`global_norm` and the norm returned by :func:`clip_by_global_norm` are 0-d float64
arrays of the gradients' namespace (a ``numpy.float64`` on NumPy), like the losses of
:mod:`labrnn.training.losses`; ``float(norm)`` gives a Python float.
"""

from __future__ import annotations

import math

from ..backend import namespace, to_numpy
from ..errors import DTypeError, NonFiniteError, ShapeError
from ..validate import check_number, check_positive

__all__ = ["SGD", "RMSProp", "Adam", "global_norm", "clip_by_value", "clip_by_global_norm"]


def _check_grad_dict(name, grads):
    if not isinstance(grads, dict):
        raise TypeError(f"{name} must be a dict of named arrays, received {type(grads).__name__}")
    if not grads:
        raise ValueError(f"{name} is empty; expected a dict with at least one array")
    keys = list(grads)
    for k in keys:
        if grads[k] is None:
            raise TypeError(f"{name}[{k!r}] is None; expected an array")
    return namespace(*[grads[k] for k in keys], names=[f"{name}[{k!r}]" for k in keys])


def _first_nonfinite(grads):
    """``(key, index, value)`` of the first non-finite gradient entry (host copy)."""
    import numpy as np
    for k, g in grads.items():
        h = to_numpy(g)
        bad = np.argwhere(~np.isfinite(h))
        if bad.size:
            idx = tuple(int(i) for i in bad[0])
            return k, idx, h[idx]
    return None


def global_norm(grads):
    """``sqrt(sum over every gradient array of the sum of its squares)`` (equation ``clip-norm``).

    Returns a 0-d float64 array of the gradients' namespace (a ``numpy.float64`` on NumPy);
    ``float(...)`` converts it.
    """
    xp = _check_grad_dict("grads", grads)
    total = None
    for g in grads.values():
        part = xp.astype(xp.sum(g * g), xp.float64)
        total = part if total is None else total + part
    return xp.sqrt(total)


def clip_by_value(grads, limit):
    """Clip every gradient entry to ``[-limit, limit]``: changes the direction.

    A NaN entry cannot be clipped to anything meaningful and raises
    :class:`~labrnn.errors.NonFiniteError` naming the gradient and the index.
    """
    limit = check_positive("limit", limit)
    xp = _check_grad_dict("grads", grads)
    for k, g in grads.items():
        if bool(xp.any(xp.isnan(g))):
            _, idx, _ = _first_nonfinite({k: xp.where(xp.isnan(g), g, xp.zeros_like(g))})
            raise NonFiniteError(f"grads[{k!r}] holds NaN (first at index {idx}): clipping "
                                 "cannot turn NaN into a gradient; the computation that "
                                 "produced it has already diverged (lower the learning rate)")
    return {k: xp.clip(g, -limit, limit) for k, g in grads.items()}


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together so their global norm is at most ``max_norm``.

    ``g <- g * max_norm / norm`` when ``norm > max_norm`` (Pascanu et al. 2013), equation
    ``clip-norm``; keeps the direction. Returns ``(clipped_grads, norm_before_clipping)``,
    the norm a 0-d float64 array as from :func:`global_norm`.
    A non-finite norm cannot be clipped back to sense and raises.
    """
    max_norm = check_positive("max_norm", max_norm)
    norm = global_norm(grads)
    value = float(norm)
    if not math.isfinite(value):
        raise NonFiniteError(f"the gradient norm is {value}: the gradients already hold inf/NaN, "
                             "so clipping cannot rescue them; clip earlier or lower the learning rate")
    scale = min(1.0, max_norm / (value + 1e-12))
    return {k: g * scale for k, g in grads.items()}, norm


def _check_grads(params, grads):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of named arrays, received {type(grads).__name__}")
    missing = sorted(set(params) - set(grads))
    if missing:
        raise KeyError(f"no gradient for parameters {missing}")
    for k in params:
        p, g = params[k], grads[k]
        if p is None or g is None:
            which = "params" if p is None else "grads"
            raise TypeError(f"{which}[{k!r}] is None; expected an array")
        xp = namespace(p, g, names=[f"params[{k!r}]", f"grads[{k!r}]"])
        if tuple(g.shape) != tuple(p.shape):
            raise ShapeError(f"grads[{k!r}] has shape {tuple(g.shape)}, but the parameter "
                             f"params[{k!r}] has shape {tuple(p.shape)}")
        if not xp.isdtype(p.dtype, "real floating"):
            raise DTypeError(f"params[{k!r}] must be a floating-point array, received dtype {p.dtype}")
        if g.dtype != p.dtype:
            raise DTypeError(f"grads[{k!r}] has dtype {g.dtype}, but the parameter params[{k!r}] "
                             f"has dtype {p.dtype}; the update would silently change the "
                             f"parameter's dtype. Cast the gradient (xp.astype(g, {p.dtype})) or "
                             "compute it in the parameters' dtype")
    norm = float(global_norm({k: grads[k] for k in params}))
    if not math.isfinite(norm):
        raise NonFiniteError("a gradient holds inf or NaN; the update would destroy the "
                             "parameters. Clip the gradients (clip_by_global_norm) or lower the "
                             "learning rate")


class _Optimizer:
    """Shared by the optimisers: the checked learning rate, state checks and ``reset()``."""

    _state_names = ()

    @property
    def lr(self):
        """The learning rate: positive when the optimiser is made; a schedule may later set
        any finite number ``>= 0`` (checked when set, e.g. ``opt.lr = "0.1"`` raises)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_number("lr", value, low=0)

    def reset(self):
        """Forget the state (momentum, running averages, step count): start afresh,
        e.g. before using the optimiser for parameters of other shapes."""
        for name in self._state_names:
            setattr(self, name, {})
        if hasattr(self, "t"):
            self.t = 0

    def _check_state(self, params):
        for name in self._state_names:
            state = getattr(self, name)
            for k, p in params.items():
                old = state.get(k)
                if old is None:
                    continue
                if tuple(old.shape) != tuple(p.shape) or old.dtype != p.dtype:
                    raise ShapeError(
                        f"{type(self).__name__} holds state for params[{k!r}] of shape "
                        f"{tuple(old.shape)} and dtype {old.dtype}, but params[{k!r}] now has "
                        f"shape {tuple(p.shape)} and dtype {p.dtype}: the optimiser was used "
                        "with other parameters. Call .reset() (or create a new optimiser) "
                        "before training new parameters")


class SGD(_Optimizer):
    """Stochastic gradient descent with (optional) momentum.

    ``v <- momentum * v - lr * g``; ``theta <- theta + v``.
    """

    _state_names = ("v",)

    def __init__(self, lr=0.1, momentum=0.0):
        self.lr = check_positive("lr", lr)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.v = {}

    def step(self, params, grads):
        """One update of every entry of ``params`` (rebound, not written in place); returns ``params``."""
        _check_grads(params, grads)
        self._check_state(params)
        for k in params:
            if self.momentum:
                v = self.v.get(k)
                v = -self.lr * grads[k] if v is None else self.momentum * v - self.lr * grads[k]
                self.v[k] = v
                params[k] = params[k] + v
            else:
                params[k] = params[k] - self.lr * grads[k]
        return params


class RMSProp(_Optimizer):
    """RMSProp (Tieleman & Hinton 2012): each parameter's step is divided by a running
    root-mean-square of its gradients (equation ``opt-rmsprop``).

    ``v <- rho v + (1 - rho) g^2``; ``theta <- theta - lr * g / (sqrt(v) + eps)``,
    with ``v`` starting at 0 (no bias correction, unlike :class:`Adam`).
    """

    _state_names = ("v",)

    def __init__(self, lr=1e-3, rho=0.9, eps=1e-8):
        self.lr = check_positive("lr", lr)
        self.rho = check_number("rho", rho, low=0, high=1, high_open=True)
        self.eps = check_positive("eps", eps)
        self.v = {}

    def step(self, params, grads):
        """One update of every entry of ``params`` (rebound, not written in place); returns ``params``."""
        _check_grads(params, grads)
        self._check_state(params)
        rho = self.rho
        for k in params:
            g = grads[k]
            xp = namespace(g)
            self.v[k] = rho * self.v[k] + (1 - rho) * g * g if k in self.v else (1 - rho) * g * g
            params[k] = params[k] - self.lr * g / (xp.sqrt(self.v[k]) + self.eps)
        return params


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction.

    ``m <- b1 m + (1-b1) g``; ``v <- b2 v + (1-b2) g^2``;
    ``theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)``.
    """

    _state_names = ("m", "v")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = check_positive("lr", lr)
        self.beta1 = check_number("beta1", beta1, low=0, high=1, high_open=True)
        self.beta2 = check_number("beta2", beta2, low=0, high=1, high_open=True)
        self.eps = check_positive("eps", eps)
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        """One update of every entry of ``params`` (rebound, not written in place); returns ``params``."""
        _check_grads(params, grads)
        self._check_state(params)
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
