"""labrnn.training.optim: SGD, momentum, RMSProp, Adam, gradient clipping and non-finite gradients."""

import math

import numpy as np
import pytest

import labrnn
from labrnn import NonFiniteError

# A quadratic bowl L = 1/2 sum_i c_i (w_i - m_i)^2 with its minimum at m.
CURV = {"w": np.array([[1.0, 4.0], [0.5, 2.0]]), "b": np.array([3.0])}
MIN = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([-1.0])}


def _bowl(backend):
    c = {k: backend.asarray(v) for k, v in CURV.items()}
    m = {k: backend.asarray(v) for k, v in MIN.items()}

    def grads(params):
        return {k: c[k] * (params[k] - m[k]) for k in params}

    def loss(params):
        return sum(float(backend.xp.sum(c[k] * (params[k] - m[k]) ** 2)) / 2 for k in params)

    params = {"w": backend.asarray(np.zeros((2, 2))), "b": backend.asarray(np.zeros(1))}
    return params, loss, grads


@pytest.mark.parametrize("make", [lambda: labrnn.SGD(lr=0.4), lambda: labrnn.SGD(lr=0.1, momentum=0.5),
                                  lambda: labrnn.RMSProp(lr=0.01), lambda: labrnn.Adam(lr=0.1)],
                         ids=["sgd", "momentum", "rmsprop", "adam"])
def test_optimisers_minimise_a_quadratic(backend, make):
    params, loss, grads = _bowl(backend)
    opt = make()
    start = loss(params)
    for _ in range(150 if not isinstance(opt, labrnn.RMSProp) else 600):
        out = opt.step(params, grads(params))
        assert out is params
    assert loss(params) < 1e-6 * start
    for k in params:
        assert backend.on_this_device(params[k])
        np.testing.assert_allclose(backend.to_numpy(params[k]), MIN[k], atol=5e-3)


def test_sgd_update_rule(backend):
    p = {"w": backend.asarray(np.array([1.0, -2.0]))}
    g1, g2 = np.array([0.5, -1.0]), np.array([2.0, 1.0])
    labrnn.SGD(lr=0.1).step(p, {"w": backend.asarray(g1)})
    np.testing.assert_allclose(backend.to_numpy(p["w"]), [1.0 - 0.05, -2.0 + 0.1], rtol=1e-15)

    p = {"w": backend.asarray(np.array([1.0, -2.0]))}
    opt = labrnn.SGD(lr=0.1, momentum=0.5)
    opt.step(p, {"w": backend.asarray(g1)})
    opt.step(p, {"w": backend.asarray(g2)})
    v1 = -0.1 * g1
    v2 = 0.5 * v1 - 0.1 * g2
    np.testing.assert_allclose(backend.to_numpy(p["w"]), np.array([1.0, -2.0]) + v1 + v2, rtol=1e-14)


def test_adam_first_step_moves_each_parameter_by_lr(backend):
    """Bias correction: m_hat = g and v_hat = g^2 at step 1, so the step is lr * sign(g)."""
    g = np.array([1e-3, -1.0, 1e3, -5e-2])
    p = {"w": backend.asarray(np.zeros(4))}
    labrnn.Adam(lr=0.01).step(p, {"w": backend.asarray(g)})
    np.testing.assert_allclose(backend.to_numpy(p["w"]), -0.01 * np.sign(g), rtol=1e-4)


def test_rmsprop_update_rule(backend):
    """Two steps by hand: v = rho v + (1 - rho) g^2, theta -= lr g / (sqrt(v) + eps)."""
    g1, g2 = np.array([0.5, -2.0, 1e-3]), np.array([1.0, 1.0, -1e-3])
    p = {"w": backend.asarray(np.array([1.0, -2.0, 0.0]))}
    opt = labrnn.RMSProp(lr=0.01, rho=0.8, eps=1e-8)
    opt.step(p, {"w": backend.asarray(g1)})
    opt.step(p, {"w": backend.asarray(g2)})
    v1 = 0.2 * g1 ** 2
    w1 = np.array([1.0, -2.0, 0.0]) - 0.01 * g1 / (np.sqrt(v1) + 1e-8)
    v2 = 0.8 * v1 + 0.2 * g2 ** 2
    w2 = w1 - 0.01 * g2 / (np.sqrt(v2) + 1e-8)
    np.testing.assert_allclose(backend.to_numpy(p["w"]), w2, rtol=1e-14)
    # the first step is lr * g / |g| / sqrt(1 - rho): independent of the gradient's scale
    q = {"w": backend.asarray(np.zeros(3))}
    labrnn.RMSProp(lr=0.01, rho=0.8).step(q, {"w": backend.asarray(g1)})
    np.testing.assert_allclose(backend.to_numpy(q["w"]), -0.01 * np.sign(g1) / np.sqrt(0.2),
                               rtol=1e-4)


def test_clip_by_value(backend):
    g = {"a": backend.asarray(np.array([-3.0, 0.5, 2.0])), "b": backend.asarray(np.array([[0.1, -0.2]]))}
    out = labrnn.clip_by_value(g, 1.0)
    np.testing.assert_array_equal(backend.to_numpy(out["a"]), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(backend.to_numpy(out["b"]), [[0.1, -0.2]])
    with pytest.raises(ValueError, match="limit must be a positive number, received 0"):
        labrnn.clip_by_value(g, 0)


def test_clip_by_global_norm(backend):
    host = {"a": np.array([3.0, -4.0]), "b": np.array([[12.0]])}     # global norm 13
    g = {k: backend.asarray(v) for k, v in host.items()}
    assert float(labrnn.global_norm(g)) == pytest.approx(13.0, rel=1e-15)

    clipped, norm = labrnn.clip_by_global_norm(g, 1.3)
    assert float(norm) == pytest.approx(13.0, rel=1e-15)                     # the norm before clipping
    assert float(labrnn.global_norm(clipped)) == pytest.approx(1.3, rel=1e-10)
    for k in host:                                                    # same direction
        np.testing.assert_allclose(backend.to_numpy(clipped[k]), host[k] / 10, rtol=1e-10)

    unchanged, norm = labrnn.clip_by_global_norm(g, 20.0)
    assert float(norm) == pytest.approx(13.0, rel=1e-15)
    for k in host:
        np.testing.assert_array_equal(backend.to_numpy(unchanged[k]), host[k])
    with pytest.raises(ValueError, match="max_norm must be a positive number, received -1"):
        labrnn.clip_by_global_norm(g, -1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_gradients_raise(backend, bad):
    p = {"w": backend.asarray(np.zeros(2))}
    g = {"w": backend.asarray(np.array([1.0, bad]))}
    for opt in (labrnn.SGD(0.1), labrnn.SGD(0.1, momentum=0.9), labrnn.RMSProp(), labrnn.Adam()):
        with pytest.raises(NonFiniteError, match=r"a gradient holds inf or NaN.*Clip the gradients "
                                                 r"\(clip_by_global_norm\) or lower the learning rate"):
            opt.step(p, g)
        np.testing.assert_array_equal(backend.to_numpy(p["w"]), [0.0, 0.0])   # untouched
    with pytest.raises(NonFiniteError, match=r"the gradient norm is (nan|inf).*clip earlier"):
        labrnn.clip_by_global_norm(g, 1.0)


def test_optimiser_argument_errors(backend):
    p = {"w": backend.asarray(np.zeros(2)), "b": backend.asarray(np.zeros(1))}
    with pytest.raises(KeyError, match=r"no gradient for parameters \['b'\]"):
        labrnn.SGD(0.1).step(p, {"w": backend.asarray(np.zeros(2))})
    with pytest.raises(ValueError, match=r"grads\['w'\] has shape \(3,\), but the parameter params\['w'\] has shape \(2,\)"):
        labrnn.Adam().step(p, {"w": backend.asarray(np.zeros(3)), "b": backend.asarray(np.zeros(1))})
    with pytest.raises(ValueError, match="lr must be a positive number, received 0"):
        labrnn.SGD(lr=0)
    with pytest.raises(ValueError, match="lr must be a positive number, received -0.1"):
        labrnn.Adam(lr=-0.1)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\), received 1"):
        labrnn.SGD(lr=0.1, momentum=1)
    with pytest.raises(KeyError, match=r"no gradient for parameters \['b'\]"):
        labrnn.RMSProp().step(p, {"w": backend.asarray(np.zeros(2))})
    with pytest.raises(ValueError, match=r"grads\['w'\] has shape \(3,\), but the parameter params\['w'\] has shape \(2,\)"):
        labrnn.RMSProp().step(p, {"w": backend.asarray(np.zeros(3)), "b": backend.asarray(np.zeros(1))})
    with pytest.raises(ValueError, match="lr must be a positive number, received 0"):
        labrnn.RMSProp(lr=0)
    with pytest.raises(ValueError, match=r"rho must be a number in \[0, 1\), received 1.5"):
        labrnn.RMSProp(rho=1.5)
    with pytest.raises(ValueError, match="eps must be a positive number, received 0"):
        labrnn.RMSProp(eps=0)


def test_global_norm_matches_numpy(backend):
    rng = np.random.default_rng(0)
    host = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(4)}
    expected = math.sqrt(sum((v ** 2).sum() for v in host.values()))
    assert float(labrnn.global_norm({k: backend.asarray(v) for k, v in host.items()})) == pytest.approx(expected, rel=1e-14)
