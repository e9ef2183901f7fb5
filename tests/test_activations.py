"""labrnn.layers.activations: values, derivatives (by gradient check) and numerical stability."""

import warnings

import numpy as np
import pytest

import labrnn
from labrnn.layers.activations import log_softmax_backward, softmax_backward


def _np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


REFERENCE = {
    "tanh": np.tanh,
    "sigmoid": _np_sigmoid,
    "relu": lambda a: np.maximum(a, 0.0),
    "identity": lambda a: a,
}


def _points(shape, seed=0):
    """Random points kept at least 0.1 away from 0 (the kink of ReLU)."""
    a = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(a) < 0.1, a + np.sign(a + 1e-3) * 0.2, a)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values(backend, name):
    a = _points((3, 4))
    f, _ = labrnn.activation(name)
    y = f(backend.asarray(a))
    assert backend.on_this_device(y)
    np.testing.assert_allclose(backend.to_numpy(y), REFERENCE[name](a), rtol=1e-14, atol=1e-15)
    assert labrnn.ACTIVATIONS[name][0] is f


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_derivative_from_output(backend, name):
    """``f_grad(f(a))`` is f'(a): checked against central differences."""
    a = backend.asarray(_points((3, 4), seed=1))
    G = backend.asarray(np.random.default_rng(2).standard_normal((3, 4)))
    f, f_grad = labrnn.activation(name)
    xp = labrnn.namespace(a)

    def loss(inp):
        return xp.sum(f(inp["a"]) * G)

    analytic = {"a": G * f_grad(f(a))}
    labrnn.gradcheck(loss, {"a": a}, analytic).assert_ok(1e-6)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_backward(backend, axis):
    z = backend.asarray(np.random.default_rng(3).standard_normal((3, 4)))
    G = backend.asarray(np.random.default_rng(4).standard_normal((3, 4)))
    xp = labrnn.namespace(z)

    def loss(inp):
        return xp.sum(labrnn.softmax(inp["z"], axis=axis) * G)

    analytic = {"z": softmax_backward(G, labrnn.softmax(z, axis=axis), axis=axis)}
    labrnn.gradcheck(loss, {"z": z}, analytic).assert_ok(1e-6)


@pytest.mark.parametrize("axis", [-1, 0])
def test_log_softmax_backward(backend, axis):
    z = backend.asarray(np.random.default_rng(5).standard_normal((3, 4)))
    G = backend.asarray(np.random.default_rng(6).standard_normal((3, 4)))
    xp = labrnn.namespace(z)

    def loss(inp):
        return xp.sum(labrnn.log_softmax(inp["z"], axis=axis) * G)

    analytic = {"z": log_softmax_backward(G, labrnn.log_softmax(z, axis=axis), axis=axis)}
    labrnn.gradcheck(loss, {"z": z}, analytic).assert_ok(1e-6)


def test_softmax_values(backend):
    z = np.random.default_rng(7).standard_normal((2, 5))
    ref = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    s = backend.to_numpy(labrnn.softmax(backend.asarray(z)))
    np.testing.assert_allclose(s, ref, rtol=1e-13)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(labrnn.log_softmax(backend.asarray(z))),
                               np.log(ref), rtol=1e-13)


def test_sigmoid_is_stable_at_large_inputs(backend):
    a = backend.asarray(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # an overflow inside exp() is a failure too
        y = backend.to_numpy(labrnn.sigmoid(a))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5,
                                   1.0 / (1 + np.exp(-40.0)), 1.0], rtol=1e-14, atol=0)
    assert y[0] == 0.0 and y[-1] == 1.0


def test_softmax_is_stable_at_large_logits(backend):
    z = backend.asarray(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = backend.to_numpy(labrnn.softmax(z))
        ls = backend.to_numpy(labrnn.log_softmax(z))
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ls))
    np.testing.assert_allclose(s, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(ls, [[0.0, -1000.0, -2000.0], [-np.log(3)] * 3], rtol=1e-14, atol=0)


def test_unknown_activation():
    with pytest.raises(ValueError, match=r"unknown activation 'softplus'; choose one of "
                                         r"\['identity', 'relu', 'sigmoid', 'tanh'\]"):
        labrnn.activation("softplus")
    with pytest.raises(ValueError, match="unknown activation None"):
        labrnn.activation(None)
