"""Simulating continuous-time dynamical systems to learn from (book chapter 20).

A system ``dx/dt = f(x)`` is integrated with the classical fourth-order
Runge-Kutta method, equation ``rk4``::

    k1 = f(x_n)
    k2 = f(x_n + dt/2 k1)
    k3 = f(x_n + dt/2 k2)
    k4 = f(x_n + dt k3)
    x_{n+1} = x_n + dt/6 (k1 + 2 k2 + 2 k3 + k4)          local error O(dt^5), global O(dt^4)

Two vector fields ship here: the **Lorenz system** (Lorenz 1963), chaotic for
the classical parameters ``sigma = 10, rho = 28, beta = 8/3``, and the
**damped pendulum**. States are arrays whose last axis holds the
coordinates (shape ``(..., 3)`` or ``(..., 2)``), so a whole batch of
trajectories integrates at once; every function works on any array-API
library and keeps the device. Initial conditions are drawn on the host
from a seeded generator.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..backend import host_rng, namespace, to_numpy
from ..errors import ShapeError
from ..validate import check_float

__all__ = ["rk4_step", "integrate", "lorenz", "damped_pendulum", "lorenz_trajectories",
           "divergence_time", "LORENZ_LYAPUNOV"]

#: The largest Lyapunov exponent of the classical Lorenz system, about 0.9056 per
#: time unit (Viswanath 1998): nearby trajectories separate like exp(0.9056 t).
LORENZ_LYAPUNOV = 0.9056


def _check_dt(dt):
    if not (isinstance(dt, numbers.Real) and dt > 0 and np.isfinite(dt)):
        raise ValueError(f"dt must be a positive time step, received {dt!r}")
    return float(dt)


def rk4_step(f, x, dt):
    """One Runge-Kutta-4 step of ``dx/dt = f(x)`` (equation ``rk4``): ``x`` (..., D) -> (..., D)."""
    dt = _check_dt(dt)
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(f, x0, dt, steps, every=1):
    """Integrate ``dx/dt = f(x)`` from ``x0`` (..., D) with :func:`rk4_step`.

    ``steps`` RK4 steps of size ``dt``; every ``every``-th state is kept, so
    the result has shape ``(steps // every + 1, ..., D)`` (time first), its
    first entry ``x0``, spaced ``every * dt`` apart.
    """
    xp = namespace(x0)
    check_float("x0", x0)
    for name, v, low in (("steps", steps, 1), ("every", every, 1)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, received {v!r}")
    x, out = x0, [x0]
    for n in range(1, int(steps) + 1):
        x = rk4_step(f, x, dt)
        if n % every == 0:
            out.append(x)
    return xp.stack(out, axis=0)


def _coords(x, D, name):
    if x.shape[-1] != D:
        raise ShapeError(f"{name} takes states of shape (..., {D}), received {tuple(x.shape)}")
    return [x[..., i] for i in range(D)]


def lorenz(x, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    """The Lorenz vector field (Lorenz 1963), equation ``lorenz``: ``x`` (..., 3) -> (..., 3).

    ``dx/dt = sigma (y - x)``, ``dy/dt = x (rho - z) - y``, ``dz/dt = x y - beta z``.
    """
    xp = namespace(x)
    a, b, c = _coords(x, 3, "lorenz")
    return xp.stack([sigma * (b - a), a * (rho - c) - b, a * b - beta * c], axis=-1)


def damped_pendulum(x, omega0=1.0, gamma=0.1):
    """The damped pendulum, ``x = (theta, omega)`` (..., 2) -> ``(omega, -omega0^2 sin theta - gamma omega)``."""
    xp = namespace(x)
    th, om = _coords(x, 2, "damped_pendulum")
    return xp.stack([om, -omega0 ** 2 * xp.sin(th) - gamma * om], axis=-1)


def lorenz_trajectories(n, steps, dt=0.01, every=2, seed=0, transient=1000):
    """``n`` Lorenz trajectories on the attractor: host float64 ``(steps // every + 1, n, 3)``.

    Initial conditions are drawn uniformly from ``[-20, 20] x [-20, 20] x [0, 50]``
    with ``seed`` and integrated for ``transient`` RK4 steps first (discarded),
    so every trajectory starts on the attractor; then ``steps`` steps of size
    ``dt``, every ``every``-th kept (spacing ``every * dt``).
    """
    rng = host_rng(seed)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (the number of trajectories), received {n!r}")
    x0 = rng.uniform([-20.0, -20.0, 0.0], [20.0, 20.0, 50.0], size=(int(n), 3))
    if transient:
        x0 = integrate(lorenz, x0, dt, transient, every=transient)[-1]
    return integrate(lorenz, x0, dt, steps, every)


def divergence_time(pred, true, threshold):
    """First time index where ``||pred_t - true_t|| > threshold``, per trajectory.

    ``pred``, ``true``: (T, ..., D); returns a host int array of shape ``(...)``
    holding the index, or ``T`` where the error never exceeds the threshold.
    """
    p, t = np.asarray(to_numpy(pred), dtype=float), np.asarray(to_numpy(true), dtype=float)
    if p.shape != t.shape or p.ndim < 2:
        raise ShapeError(f"pred and true must have one shape (T, ..., D), received {p.shape} "
                         f"and {t.shape}")
    if not (isinstance(threshold, numbers.Real) and threshold > 0):
        raise ValueError(f"threshold must be a positive distance, received {threshold!r}")
    over = np.linalg.norm(p - t, axis=-1) > threshold
    return np.where(over.any(axis=0), over.argmax(axis=0), p.shape[0])
