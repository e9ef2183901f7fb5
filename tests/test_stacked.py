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
    y, states, cache = stacked_forward(x, params, **kw)
    assert isinstance(states, list) and len(states) == cache["L"]
    masks = cache["masks"]
    r = backend.asarray(np.random.default_rng(5).normal(size=tuple(y.shape)))
    dx, dstate0, grads = stacked_backward(r, cache)
    assert len(dstate0) == cache["L"]
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
    y, _, _ = stacked_forward(x, params, cell="gru")
    y0, _ = labrnn.recurrent_forward(x, subparams(params, "l0."), cell="gru")
    y1, _ = labrnn.recurrent_forward(y0, subparams(params, "l1."), cell="gru")
    np.testing.assert_array_equal(labrnn.to_numpy(y), labrnn.to_numpy(y1))
    yr, _, cache = stacked_forward(x, params, cell="gru", residual=True)
    assert cache["residual"] == [True, True]            # D == H: both layers
    np.testing.assert_allclose(labrnn.to_numpy(yr)[0], 0.0 + labrnn.to_numpy(
        labrnn.recurrent_forward(y0 + x, subparams(params, "l1."), cell="gru")[0] + y0 + x)[0])


@pytest.mark.parametrize("cell,bidirectional", [("lstm", False), ("gru", True)])
def test_states_are_each_layers_final_state_and_their_gradients_check(cell, bidirectional):
    """The returned states list and its gradient path (state0 in, dstate_T out)."""
    params = init_stacked(cell, D, H, layers=2, bidirectional=bidirectional, seed=2)
    x = _x_np()
    rng = np.random.default_rng(6)
    n = 2 if cell == "lstm" else 1

    def tup():
        return tuple(rng.normal(0, 0.5, (B, H)) for _ in range(n))

    s0 = [(tup(), tup()) if bidirectional else tup() for _ in range(2)]
    r_s = [(tup(), tup()) if bidirectional else tup() for _ in range(2)]
    y, states, cache = stacked_forward(x, params, s0, cell=cell, bidirectional=bidirectional)
    # layer l's state is that of the same layer run alone on layer l-1's outputs
    inp = x
    for l in range(2):
        sub = subparams(params, f"l{l}.")
        if bidirectional:
            inp, st, _ = labrnn.bidirectional_forward(inp, sub, s0[l], cell=cell)
            pairs = list(zip(states[l][0] + states[l][1], st[0] + st[1]))
        else:
            inp, st, _ = labrnn.recurrent_forward(inp, sub, s0[l], cell=cell, return_state=True)
            pairs = list(zip(states[l], st))
        assert len(pairs) == (2 * n if bidirectional else n)
        for got, want in pairs:
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(y, inp)

    def flat(s):
        return [a for part in s for a in (part if bidirectional else (part,))]

    def loss(inp):
        st0 = [[inp[f"s0.{l}.{k}"] for k in range(len(flat(s0[l])))] for l in range(2)]
        st0 = [((tuple(v[:n]), tuple(v[n:])) if bidirectional else tuple(v)) for v in st0]
        _, sts, _ = stacked_forward(inp["x"], inp, st0, cell=cell, bidirectional=bidirectional)
        return sum(float(np.sum(a * b)) for l in range(2)
                   for a, b in zip(flat(sts[l]), flat(r_s[l])))

    dx, dstate0, grads = stacked_backward(None, cache, dstate_T=r_s)
    inputs = {"x": x, **params}
    analytic = {"x": dx, **grads}
    for l in range(2):
        for k, (v, g) in enumerate(zip(flat(s0[l]), flat(dstate0[l]))):
            inputs[f"s0.{l}.{k}"] = v
            analytic[f"s0.{l}.{k}"] = g
    labrnn.gradcheck(loss, inputs, analytic).assert_ok(1e-6)        # every entry


def test_residual_is_skipped_where_sizes_differ():
    params = init_stacked("elman", D, [4, 4, 2], layers=3)
    _, _, cache = stacked_forward(np.zeros((T, B, D)), params, residual=True)
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
    with pytest.raises(ValueError, match=r"dropout must be a probability in \[0, 1\), received 1.0"):
        stacked_forward(_x_np(), params, dropout=1.0, seed=0)
    with pytest.raises(KeyError, match="no layer 'l0"):
        stacked_forward(_x_np(), subparams(params, "l0."))
    _, _, cache = stacked_forward(_x_np(), params)
    with pytest.raises(ValueError, match=r"dstate_T must be a list with one entry per layer "
                                         r"\(2\), received list of length 1"):
        stacked_backward(np.zeros((T, B, H)), cache, dstate_T=[None])
    with pytest.raises(ValueError, match=r"state0 must be a list with one initial state per "
                                         r"layer \(2\), received tuple of length 1"):
        stacked_forward(_x_np(), params, state0=(None,))
