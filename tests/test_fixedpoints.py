"""labrnn.lab.fixedpoints: the speed q(h), its gradient, the search, stability, clustering, PCA."""

import numpy as np
import pytest

import labrnn
from labrnn.cells import init_cell
from labrnn.errors import ShapeError
from labrnn.lab.fixedpoints import (classify_fixed_point, find_fixed_points, fixed_point_loss,
                                newton_refine, pca_project, step_jacobian, step_map,
                                unique_points)


def _params(backend, cell, D=2, H=4, seed=0, scale=0.8):
    p = init_cell(cell, D, H, seed=seed)
    rng = np.random.default_rng(seed + 10)
    return {k: backend.asarray(rng.normal(0.0, scale, v.shape)) for k, v in p.items()}


@pytest.mark.parametrize("cell", ["elman", "gru"])
def test_gradient_of_q_float64(backend, cell):
    p = _params(backend, cell)
    rng = np.random.default_rng(1)
    h = backend.asarray(rng.normal(0, 0.5, (3, 4)))
    x = backend.asarray(rng.normal(0, 1.0, (2,)))
    q, dq = fixed_point_loss(h, p, cell, x)
    assert tuple(q.shape) == (3,) and backend.on_this_device(dq)
    f = lambda d: float(labrnn.to_numpy(fixed_point_loss(backend.asarray(d["h"]), p, cell,
                                                         x)[0]).sum())
    labrnn.gradcheck(f, {"h": backend.to_numpy(h)}, {"h": dq}).assert_ok(1e-7)


@pytest.mark.parametrize("cell", ["elman", "gru"])
def test_jacobian_matches_finite_differences(cell):
    from conftest import make_backend
    b = make_backend("numpy")
    p = _params(b, cell)
    h = np.random.default_rng(2).normal(0, 0.5, 4)
    J = np.asarray(step_jacobian(h, p, cell))
    num = np.stack([(step_map((h + e)[None], p, cell)[0] - step_map((h - e)[None], p, cell)[0])
                    / 2e-6 for e in 1e-6 * np.eye(4)], axis=1)
    np.testing.assert_allclose(J, num, rtol=1e-6, atol=1e-9)
    if cell == "elman":       # J = diag(1 - F(h)^2) W_hh for the tanh cell
        F = np.tanh(p["W_hh"] @ h + p["b_h"])
        np.testing.assert_allclose(J, (1 - F ** 2)[:, None] * p["W_hh"], rtol=1e-12)


def _linear(backend, eigs=(0.5, -0.3, 0.8)):
    """A linear map h -> W h + U x + b with a known fixed point (I - W)^{-1} (U x + b)."""
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    W = Q @ np.diag(eigs) @ Q.T
    U, b, x = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    star = np.linalg.solve(np.eye(3) - W, U @ x + b)
    p = {"W_xh": backend.asarray(U), "W_hh": backend.asarray(W), "b_h": backend.asarray(b)}
    return p, backend.asarray(x), star, W


def test_search_finds_the_fixed_point_of_a_linear_system(backend):
    p, x, star, _ = _linear(backend)
    h0 = backend.asarray(np.random.default_rng(4).normal(0, 2.0, (5, 3)))
    # Adam alone: how far it gets in a fixed number of steps depends on the arithmetic's
    # last bits, so only a large decrease is asserted; Newton then lands on the point.
    adam = find_fixed_points(p, h0, "elman", x, activation="identity", steps=3000, lr=0.05,
                             decay=0.9999)
    assert adam.q_history[-1] < 1e-3 * adam.q_history[0] and adam.q_history[0] > 1e-2
    fp = find_fixed_points(p, h0, "elman", x, activation="identity", steps=3000, lr=0.05,
                           decay=0.9999, tol=1e-12, newton_steps=5)
    assert fp.converged.all(), fp.q
    np.testing.assert_allclose(fp.h, np.broadcast_to(star, (5, 3)), atol=1e-8)


def test_newton_is_exact_in_one_step_on_a_linear_system(backend):
    p, x, star, W = _linear(backend, eigs=(0.5, 1.7, -2.0))      # a saddle: GD would crawl
    h0 = backend.asarray(np.random.default_rng(5).normal(0, 2.0, (2, 3)))
    h = newton_refine(p, h0, "elman", x, activation="identity", steps=1)
    assert backend.on_this_device(h)
    np.testing.assert_allclose(backend.to_numpy(h), np.broadcast_to(star, (2, 3)), atol=1e-10)
    kind, lam = classify_fixed_point(step_jacobian(h[0, ...], p, "elman", x, "identity"))
    assert kind == "saddle"
    np.testing.assert_allclose(np.abs(lam), [2.0, 1.7, 0.5], rtol=1e-10)


def test_newton_keeps_a_point_when_the_step_does_not_help():
    from conftest import make_backend
    b = make_backend("numpy")
    p = _params(b, "elman", scale=3.0)
    h0 = np.random.default_rng(6).normal(0, 1, (4, 4))
    h = np.asarray(newton_refine(p, h0, steps=5))
    q0, _ = fixed_point_loss(h0, p)
    q1, _ = fixed_point_loss(h, p)
    assert np.all(q1 <= q0)
    assert np.array_equal(newton_refine(p, h0, steps=0), h0)


def test_classify():
    assert classify_fixed_point(np.diag([0.9, -0.5]))[0] == "stable"
    assert classify_fixed_point(np.diag([1.1, -2.0]))[0] == "unstable"
    kind, lam = classify_fixed_point(np.diag([0.2, 1.5, -0.9]))
    assert kind == "saddle" and np.allclose(lam, [1.5, -0.9, 0.2])
    rot = 0.5 * np.array([[0.0, -1.0], [1.0, 0.0]])          # complex pair of modulus 0.5
    kind, lam = classify_fixed_point(rot)
    assert kind == "stable" and np.allclose(np.abs(lam), 0.5)
    with pytest.raises(ShapeError, match=r"square matrix \(H, H\), received shape \(2, 3\)"):
        classify_fixed_point(np.zeros((2, 3)))


def test_unique_points():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [1e-4, 0.0], [1.0, 2e-4], [5.0, 5.0]])
    reps, labels = unique_points(pts, 1e-2)
    assert labels.tolist() == [0, 1, 0, 1, 2]
    np.testing.assert_array_equal(reps, pts[[0, 1, 4]])
    assert unique_points(np.zeros((0, 3)), 0.1)[0].shape == (0, 3)
    with pytest.raises(ValueError, match="tol must be a positive distance, received 0"):
        unique_points(pts, 0)
    with pytest.raises(ShapeError, match=r"points must have shape \(N, H\), received \(5,\)"):
        unique_points(np.zeros(5), 0.1)


def test_pca_project():
    rng = np.random.default_rng(7)
    basis = np.linalg.qr(rng.normal(size=(5, 5)))[0][:, :2].T        # 2 orthonormal directions
    coeff = rng.normal(size=(200, 2)) * [3.0, 1.0]
    X = coeff @ basis + 4.0
    Z, comps, mean = pca_project(X, 2)
    np.testing.assert_allclose(comps @ comps.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(Z @ comps + mean, X, atol=1e-10)     # the data lie in the plane
    assert np.var(Z[:, 0]) > np.var(Z[:, 1])
    Z2, _, _ = pca_project(X[:3], 2, fit=X)
    np.testing.assert_allclose(Z2, Z[:3], atol=1e-12)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 5\], received 6"):
        pca_project(X, 6)


def test_errors(backend):
    p = _params(backend, "elman")
    h = backend.asarray(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"fixed points here need a cell whose state is one "
                                         r"array h, like 'elman' or 'gru'; the state of 'lstm' "
                                         r"is \('h', 'c'\)"):
        fixed_point_loss(h, p, "lstm")
    with pytest.raises(ValueError, match=r"unknown cell 'rnn'; choose one of \['elman'"):
        fixed_point_loss(h, p, "rnn")
    with pytest.raises(ShapeError, match=r"h must have shape \(B, H=4\), received \(2, 3\)"):
        fixed_point_loss(backend.asarray(np.zeros((2, 3))), p)
    with pytest.raises(ShapeError, match=r"x must have shape \(D=2,\), received \(3,\)"):
        step_map(h, p, x=backend.asarray(np.zeros(3)))
    with pytest.raises(ValueError, match="steps must be an integer >= 1, received 0"):
        find_fixed_points(p, h, steps=0)
    with pytest.raises(ValueError, match="decay must be a number in"):
        find_fixed_points(p, h, decay=1.5)
    with pytest.raises(ShapeError, match=r"h must be one state of shape \(H,\)"):
        step_jacobian(h, p)
