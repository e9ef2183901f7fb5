"""labrnn.layers.init and init_elman: initialisers, seeds and backends."""

import numpy as np
import pytest

import labrnn


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (1, 4)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal(shape, gain):
    Q = labrnn.orthogonal(shape, 0, gain)
    assert Q.shape == shape and Q.dtype == np.float64
    rows, cols = shape
    # the short side is orthonormal: Q^T Q = gain^2 I for tall/square, Q Q^T = gain^2 I for wide
    gram = Q.T @ Q if rows >= cols else Q @ Q.T
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(shape)), atol=1e-14)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), gain, rtol=1e-13)


def test_orthogonal_is_not_always_the_same_matrix():
    a, b = labrnn.orthogonal((4, 4), 0), labrnn.orthogonal((4, 4), 1)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, labrnn.orthogonal((4, 4), np.random.default_rng(0)))


def test_identity_init():
    np.testing.assert_array_equal(labrnn.identity_init(3), np.eye(3))
    np.testing.assert_array_equal(labrnn.identity_init(2, gain=0.5), 0.5 * np.eye(2))


def test_glorot_uniform_bounds():
    W = labrnn.glorot_uniform((30, 50), 0, gain=2.0)
    a = 2.0 * np.sqrt(6.0 / 80)
    assert W.shape == (30, 50)
    assert np.all(np.abs(W) <= a)
    assert np.abs(W).max() > 0.95 * a          # fills the interval, not a narrower one
    assert abs(W.mean()) < 0.05 * a
    np.testing.assert_allclose(W.var(), a ** 2 / 3, rtol=0.1)


def test_uniform_bounds():
    W = labrnn.uniform((200,), 3, 0.25)
    assert np.all(np.abs(W) <= 0.25) and np.abs(W).max() > 0.24


@pytest.mark.parametrize("W_hh", ["orthogonal", "glorot", "identity", "uniform"])
def test_same_seed_same_weights_on_every_backend(backend, W_hh):
    ref = labrnn.init_elman(3, 4, 2, seed=7, W_hh=W_hh)
    got = backend.params(3, 4, 2, seed=7, W_hh=W_hh)
    assert set(got) == set(ref) == {"W_xh", "W_hh", "b_h", "W_hy", "b_y"}
    for k in ref:
        assert backend.on_this_device(got[k]) and got[k].dtype == backend.xp.float64
        np.testing.assert_array_equal(backend.to_numpy(got[k]), ref[k])


def test_different_seed_different_weights():
    a, b = labrnn.init_elman(3, 4, 2, seed=0), labrnn.init_elman(3, 4, 2, seed=1)
    for k in ("W_xh", "W_hh", "W_hy"):
        assert not np.allclose(a[k], b[k])
    for k in ("b_h", "b_y"):
        np.testing.assert_array_equal(a[k], 0.0)


def test_init_elman_shapes_and_W_hh_choices():
    p = labrnn.init_elman(3, 5, seed=0, W_hh="identity", gain=0.7)
    np.testing.assert_array_equal(p["W_hh"], 0.7 * np.eye(5))
    assert p["W_xh"].shape == (5, 3) and p["b_h"].shape == (5,)
    assert "W_hy" not in p
    q = labrnn.init_elman(3, 5, seed=0, W_hh="orthogonal")
    np.testing.assert_allclose(q["W_hh"].T @ q["W_hh"], np.eye(5), atol=1e-14)
    with pytest.raises(ValueError, match=r"unknown W_hh initialiser 'xavier'; choose one of "
                                         r"\['glorot', 'identity', 'orthogonal', 'uniform'\]"):
        labrnn.init_elman(3, 5, seed=0, W_hh="xavier")
    with pytest.raises(ValueError, match="pass a seed"):
        labrnn.init_elman(3, 5, seed=None)


@pytest.mark.parametrize("W_hh", ["orthogonal", "glorot", "uniform"])
@pytest.mark.parametrize("rho", [0.5, 1.0, 1.7])
def test_W_hh_scale_sets_the_spectral_radius(backend, W_hh, rho):
    p = backend.params(2, 4, seed=3, W_hh=W_hh, W_hh_scale=rho)
    W = backend.to_numpy(p["W_hh"])
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(rho, rel=1e-12)
    from labrnn.lab.analysis import spectral_radius
    assert spectral_radius(p["W_hh"]) == pytest.approx(rho, rel=1e-12)


def test_init_elman_float32(backend):
    p = backend.params(2, 3, 1, dtype="float32")
    assert all(v.dtype == backend.xp.float32 for v in p.values())
    np.testing.assert_allclose(backend.to_numpy(p["W_hh"]),
                               labrnn.init_elman(2, 3, 1)["W_hh"].astype(np.float32), rtol=0)
