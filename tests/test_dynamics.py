"""labrnn.lab.dynamics: RK4 order, the vector fields, trajectories, divergence times."""

import numpy as np
import pytest

from labrnn.lab.dynamics import (LORENZ_LYAPUNOV, damped_pendulum, divergence_time, integrate,
                             lorenz, lorenz_trajectories, rk4_step)
from labrnn.errors import ShapeError


def test_rk4_is_fourth_order(backend):
    decay = lambda x: -x
    x0 = backend.asarray(np.array([[1.0]]))
    errs = []
    for n in (10, 20, 40):
        xT = integrate(decay, x0, 1.0 / n, n)[-1, ...]
        assert backend.on_this_device(xT)
        errs.append(abs(float(backend.to_numpy(xT)[0, 0]) - np.exp(-1.0)))
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 14) & (ratios < 18)), ratios      # halving dt: error / 2^4


def test_one_rk4_step_by_hand():
    f = lambda x: x * x                                       # dx/dt = x^2
    x, dt = np.array([0.5]), 0.1
    k1 = x ** 2
    k2 = (x + dt / 2 * k1) ** 2
    k3 = (x + dt / 2 * k2) ** 2
    k4 = (x + dt * k3) ** 2
    np.testing.assert_allclose(rk4_step(f, x, dt), x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4),
                               rtol=1e-15)


def test_lorenz_field(backend):
    b = 8.0 / 3.0
    c = np.sqrt(b * 27.0)
    eq = backend.asarray(np.array([[0.0, 0.0, 0.0], [c, c, 27.0], [-c, -c, 27.0]]))
    np.testing.assert_allclose(backend.to_numpy(lorenz(eq)), 0.0, atol=1e-12)   # equilibria
    v = backend.to_numpy(lorenz(backend.asarray(np.array([1.0, 2.0, 3.0]))))
    np.testing.assert_allclose(v, [10.0, 1 * 25.0 - 2.0, 2.0 - 8.0], rtol=1e-15)
    with pytest.raises(ShapeError, match=r"lorenz takes states of shape \(\.\.\., 3\)"):
        lorenz(backend.asarray(np.zeros((2, 2))))


def test_damped_pendulum_loses_energy():
    E = lambda s: 0.5 * s[..., 1] ** 2 + (1 - np.cos(s[..., 0]))
    free = integrate(lambda s: damped_pendulum(s, gamma=0.0), np.array([1.0, 0.0]), 0.01, 1000)
    assert np.ptp(E(free)) < 1e-8                             # no damping: energy conserved
    damped = integrate(damped_pendulum, np.array([1.0, 0.0]), 0.01, 1000)
    assert np.all(np.diff(E(damped)) <= 1e-12) and E(damped)[-1] < 0.5 * E(damped)[0]


def test_integrate_keeps_every_kth_state():
    out = integrate(lambda x: -x, np.ones((2, 1)), 0.1, 6, every=3)
    assert out.shape == (3, 2, 1)
    np.testing.assert_allclose(out[1], integrate(lambda x: -x, np.ones((2, 1)), 0.1, 3)[-1])
    with pytest.raises(ValueError, match="every must be an integer >= 1, received 0"):
        integrate(lambda x: -x, np.ones(1), 0.1, 6, every=0)
    with pytest.raises(ValueError, match="dt must be a positive time step, received -0.1"):
        rk4_step(lambda x: -x, np.ones(1), -0.1)


def test_lorenz_trajectories_are_seeded_and_chaotic():
    a = lorenz_trajectories(2, 400, seed=3, transient=500)
    assert a.shape == (201, 2, 3)
    assert np.array_equal(a, lorenz_trajectories(2, 400, seed=3, transient=500))
    assert abs(a[..., 2].mean() - 23.5) < 5                    # on the attractor
    # two states 1e-8 apart separate roughly like exp(lambda t)
    x0 = a[0, :1]
    b1 = integrate(lorenz, x0, 0.01, 1000)
    b2 = integrate(lorenz, x0 + 1e-8, 0.01, 1000)
    grow = np.log(np.linalg.norm(b1[-1] - b2[-1]) / np.linalg.norm([1e-8] * 3)) / 10.0
    assert 0.3 < grow < 2.0 and 0.9 < LORENZ_LYAPUNOV < 0.91


def test_divergence_time():
    true = np.zeros((5, 2, 3))
    pred = true.copy()
    pred[3:, 0, 0] = 2.0
    assert divergence_time(pred, true, 1.0).tolist() == [3, 5]
    with pytest.raises(ShapeError, match="pred and true must have one shape"):
        divergence_time(pred[:4], true, 1.0)
    with pytest.raises(ValueError, match="threshold must be a positive distance"):
        divergence_time(pred, true, 0)
