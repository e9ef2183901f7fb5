"""Stacked RNNs: layers, dropout (plain and variational), residual connections (chapter 8)."""

import numpy as np
import pytest

import labrnn
from labrnn.paramtree import subparams
from labrnn.models.stacked import dropout_mask, init_stacked, stacked_backward, stacked_forward

T, B, D, H = 3, 2, 3, 3


def _x(backend, seed=0):
    return backend.asarray(np.random.default_rng(seed).normal(size=(T, B, D)))


def _gradcheck(backend, params, x, names=None, **kw):
    xp = backend.xp
    y, cache = stacked_forward(x, params, **kw)
    masks = cache["masks"]
    r = backend.asarray(np.random.default_rng(5).normal(size=tuple(y.shape)))
    dx, grads = stacked_backward(r, cache)
    kw = {**kw, "masks": masks, "seed": None}

    def loss(inp):
        return xp.sum(stacked_forward(inp["x"], inp, **kw)[0] * r)

    labrnn.gradcheck(loss, {"x": x, **params}, {"x": dx, **grads},
                     names=names).assert_ok(1e-6)
    return masks


def test_gradcheck_three_layers_dropout_variational_residual_lengths(backend):
    params = init_stacked("elman", D, H, layers=3, xp=backend.xp, device=backend.device)
    x = _x(backend)
    names = None if backend.name == "numpy" else ["x", "l1.W_hh", "l2.W_xh"]
    masks = _gradcheck(backend, params, x, names=names, cell="elman", dropout=0.4,
                       recurrent_dropout=0.3, variational=True, residual=True, seed=3,
                       lengths=backend.asarray(np.array([3, 2])))
    assert sorted(masks) == ["l0.h", "l1.h", "l1.in", "l2.h", "l2.in"]
    assert tuple(masks["l1.in"].shape) == (B, H)          # one mask for every step
    assert tuple(masks["l0.h"].shape) == (B, H)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradcheck_bidirectional_stack_with_plain_dropout(cell):
    from conftest import make_backend
    backend = make_backend("numpy")
    params = init_stacked(cell, D, 2, layers=2, bidirectional=True, seed=1)
    x = _x(backend)
    names = ["x", "l0.fw.W_h", "l0.bw.b", "l1.fw.W_x", "l1.bw.W_h"]
    masks = _gradcheck(backend, params, x, names=names, cell=cell, bidirectional=True,
                       dropout=0.5,
                       recurrent_dropout=0.2, seed=0, lengths=np.array([2, 3]))
    assert tuple(masks["l1.in"].shape) == (T, B, 4)        # a fresh mask entry per step
    assert "l0.fw.h" in masks and "l1.bw.h" in masks


def test_no_dropout_is_a_chain_of_layers_and_residual_adds_the_input(cheap_backend):
    x = _x(cheap_backend)
    params = init_stacked("gru", D, H, layers=2, xp=cheap_backend.xp,
                          device=cheap_backend.device)
    y, _ = stacked_forward(x, params, cell="gru")
    y0, _ = labrnn.recurrent_forward(x, subparams(params, "l0."), cell="gru")
    y1, _ = labrnn.recurrent_forward(y0, subparams(params, "l1."), cell="gru")
    np.testing.assert_array_equal(labrnn.to_numpy(y), labrnn.to_numpy(y1))
    yr, cache = stacked_forward(x, params, cell="gru", residual=True)
    assert cache["residual"] == [True, True]            # D == H: both layers
    np.testing.assert_allclose(labrnn.to_numpy(yr)[0], 0.0 + labrnn.to_numpy(
        labrnn.recurrent_forward(y0 + x, subparams(params, "l1."), cell="gru")[0] + y0 + x)[0])


def test_residual_is_skipped_where_sizes_differ():
    params = init_stacked("elman", D, [4, 4, 2], layers=3)
    _, cache = stacked_forward(np.zeros((T, B, D)), params, residual=True)
    assert cache["residual"] == [False, True, False]


def test_dropout_mask_is_inverted_seeded_and_reproducible():
    like = np.zeros(1)
    m = dropout_mask((200, 50), 0.25, 0, like)
    assert set(np.unique(m)) == {0.0, 1 / 0.75}
    assert abs(m.mean() - 1.0) < 0.02
    np.testing.assert_array_equal(m, dropout_mask((200, 50), 0.25, 0, like))
    params = init_stacked("lstm", D, H, layers=2)
    a = stacked_forward(_x_np(), params, cell="lstm", dropout=0.5, seed=4)[0]
    b = stacked_forward(_x_np(), params, cell="lstm", dropout=0.5, seed=4)[0]
    c = stacked_forward(_x_np(), params, cell="lstm", dropout=0.5, seed=5)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def _x_np():
    return np.random.default_rng(0).normal(size=(T, B, D))


def test_errors():
    params = init_stacked("elman", D, H, layers=2)
    with pytest.raises(ValueError, match="needs a seed"):
        stacked_forward(_x_np(), params, dropout=0.5)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\), received 1.0"):
        stacked_forward(_x_np(), params, dropout=1.0, seed=0)
    with pytest.raises(KeyError, match="no layer 'l0"):
        stacked_forward(_x_np(), subparams(params, "l0."))
    _, cache = stacked_forward(_x_np(), params)
    with pytest.raises(ValueError, match=r"one entry per layer \(2\)"):
        stacked_backward(np.zeros((T, B, H)), cache, dstates=[None])
