"""labrnn.lab.analysis.input_gradient_norms: ||dh_T/dx_t|| for every cell (chapters 6 and 7)."""

import numpy as np
import pytest

import labrnn
from labrnn import ShapeError
from labrnn.lab.analysis import input_gradient_norms
from labrnn.cells import cell_forward, init_cell

VARIANTS = [("elman", {}), ("lstm", {}), ("lstm", {"peephole": True}),
            ("gru", {"reset": "after"}), ("gru", {"reset": "before"})]
IDS = ["elman", "lstm", "lstm-peephole", "gru-after", "gru-before"]


def _fd_norms(cell, p, x, eps=1e-6):
    """||dh_T/dx_t||_F of one sequence by central differences on every input entry."""
    T, _, D = x.shape
    norms = np.zeros(T)
    for t in range(T):
        cols = []
        for d in range(D):
            e = np.zeros_like(x)
            e[t, 0, d] = eps
            hp = cell_forward(cell, x + e, p)[0][-1, 0]
            hm = cell_forward(cell, x - e, p)[0][-1, 0]
            cols.append((hp - hm) / (2 * eps))
        norms[t] = np.linalg.norm(np.stack(cols, axis=1))
    return norms


@pytest.mark.parametrize("cell, variant", VARIANTS, ids=IDS)
def test_matches_finite_differences(cell, variant):
    T, D, H = 5, 2, 3
    rng = np.random.default_rng(3)
    p = init_cell(cell, D, H, seed=4, **variant)
    for k in p:                                   # nonzero biases and peepholes too
        p[k] = p[k] + 0.3 * rng.normal(size=p[k].shape)
    x = rng.normal(size=(T, 1, D))
    norms = input_gradient_norms(cell, p, x)
    assert isinstance(norms, np.ndarray) and norms.shape == (T,)
    np.testing.assert_allclose(norms, _fd_norms(cell, p, x), rtol=1e-6)
    assert len(set(np.round(norms, 6))) == T      # not trivially constant


def test_linear_elman_gives_norms_of_matrix_products():
    """With f = identity, dh_T/dx_t = W_hh^(T-t) W_xh exactly."""
    T, D, H = 6, 2, 3
    rng = np.random.default_rng(0)
    p = init_cell("elman", D, H, seed=0)
    p["W_hh"] = 0.7 * rng.normal(size=(H, H))
    x = rng.normal(size=(T, 1, D))
    norms = input_gradient_norms("elman", p, x, activation="identity")
    expected = [np.linalg.norm(np.linalg.matrix_power(p["W_hh"], T - t) @ p["W_xh"])
                for t in range(1, T + 1)]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)


def test_a_batch_gives_the_root_mean_square_over_its_sequences():
    T, D, H = 4, 2, 3
    rng = np.random.default_rng(1)
    p = init_cell("lstm", D, H, seed=1)
    x = rng.normal(size=(T, 3, D))
    each = np.stack([input_gradient_norms("lstm", p, x[:, b:b + 1]) for b in range(3)])
    np.testing.assert_allclose(input_gradient_norms("lstm", p, x),
                               np.sqrt(np.mean(each ** 2, axis=0)), rtol=1e-12)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_every_backend_gives_the_same_norms(cell, backend):
    T, D, H = 4, 2, 3
    host = init_cell(cell, D, H, seed=2)
    x = np.random.default_rng(2).normal(size=(T, 2, D))
    p = {k: backend.asarray(v) for k, v in host.items()}
    np.testing.assert_allclose(input_gradient_norms(cell, p, backend.asarray(x)),
                               input_gradient_norms(cell, host, x), rtol=1e-12)


def test_a_larger_forget_bias_keeps_lstm_gradients_longer():
    """The chapter 6 claim, in numbers: sigma(b_f) is the per-step factor on the cell path."""
    x = np.random.default_rng(0).normal(size=(40, 4, 2))
    ratio = {}
    for b_f in (0.0, 3.0):
        n = input_gradient_norms("lstm", init_cell("lstm", 2, 8, seed=0, forget_bias=b_f), x)
        ratio[b_f] = n[0] / n[-1]                 # lag 39 relative to lag 0
    assert ratio[3.0] > 1e3 * ratio[0.0]


def test_x_must_be_time_major_3d():
    p = init_cell("gru", 2, 3, seed=0)
    with pytest.raises(ShapeError, match=r"x must have shape \(T, B, D\), received \(4, 2\)"):
        input_gradient_norms("gru", p, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="unknown cell"):
        input_gradient_norms("rnn", p, np.zeros((4, 1, 2)))
