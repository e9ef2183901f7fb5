"""labrnn.lab.analysis: spectral radius and the norms of the hidden-state Jacobians."""

import numpy as np
import pytest

import labrnn
from labrnn import ShapeError
from labrnn.lab.analysis import hidden_jacobian_norms, spectral_radius


def test_spectral_radius_of_known_matrices(backend):
    # eigenvalues 2 and -3 (triangular), and a rotation by 90 degrees scaled by 0.5 (eigenvalues +-0.5i)
    assert spectral_radius(backend.asarray(np.array([[2.0, 5.0], [0.0, -3.0]]))) == pytest.approx(3.0, rel=1e-14)
    assert spectral_radius(backend.asarray(np.array([[0.0, -0.5], [0.5, 0.0]]))) == pytest.approx(0.5, rel=1e-14)


def test_linear_rnn_jacobian_norms_are_norms_of_matrix_powers(backend):
    """For f = identity, dh_T/dh_t = W_hh^(T-t) exactly (independent of the inputs)."""
    T, D, H = 5, 2, 3
    rng = np.random.default_rng(0)
    host = labrnn.init_elman(D, H, seed=1, W_hh="glorot")
    host["W_hh"] = rng.standard_normal((H, H))            # not orthogonal: norms change with k
    p = {k: backend.asarray(v) for k, v in host.items()}
    x = backend.asarray(rng.standard_normal((T, 1, D)))
    norms = hidden_jacobian_norms(p, x, activation="identity")
    assert isinstance(norms, np.ndarray) and norms.shape == (T + 1,)
    expected = [np.linalg.norm(np.linalg.matrix_power(host["W_hh"], T - t)) for t in range(T + 1)]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)
    assert len(set(np.round(expected, 6))) == T + 1       # the check is not trivially constant


def test_tanh_jacobian_norms_match_finite_differences(backend):
    """dh_T/dh_t column by column by central differences (rerunning from h_t), for every t."""
    T, D, H = 4, 2, 3
    rng = np.random.default_rng(2)
    host = labrnn.init_elman(D, H, seed=2, W_hh="glorot", W_hh_scale=1.2)   # not orthogonal
    p = {k: backend.asarray(v) for k, v in host.items()}
    x_host = rng.standard_normal((T, 1, D))
    x = backend.asarray(x_host)
    h0 = 0.3 * rng.standard_normal((1, H))
    hseq = backend.to_numpy(labrnn.rnn_forward(x, p, (backend.asarray(h0),))[0])
    expected = []
    for t in range(T):
        h_t = h0 if t == 0 else hseq[t - 1]
        rest = backend.asarray(x_host[t:])
        J = np.zeros((H, H))
        for j in range(H):
            e = np.zeros((1, H))
            e[0, j] = 1e-6
            hp = backend.to_numpy(labrnn.rnn_forward(rest, p, (backend.asarray(h_t + e),))[0])[-1, 0]
            hm = backend.to_numpy(labrnn.rnn_forward(rest, p, (backend.asarray(h_t - e),))[0])[-1, 0]
            J[:, j] = (hp - hm) / 2e-6
        expected.append(np.linalg.norm(J))
    norms = hidden_jacobian_norms(p, x, h0=backend.asarray(h0))
    np.testing.assert_allclose(norms[:T], expected, rtol=1e-7)
    assert norms[T] == pytest.approx(np.sqrt(H), rel=1e-15)


def test_hidden_jacobian_norms_needs_one_sequence(backend):
    p = backend.params(2, 3)
    with pytest.raises(ShapeError, match=r"x must have shape \(T, B=1, D\), received \(4, 2, 2\)"):
        hidden_jacobian_norms(p, backend.asarray(np.zeros((4, 2, 2))))
