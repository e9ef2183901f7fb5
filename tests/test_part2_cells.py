"""labrnn.cells: one interface to the Elman, LSTM and GRU cells (chapters 6 and 7)."""

import numpy as np
import pytest

import labrnn
from labrnn.cells import (CELLS, cell_backward, cell_forward, cell_param_count, cell_variant,
                          init_cell)

VARIANTS = [("elman", {}), ("lstm", {}), ("lstm", {"peephole": True}),
            ("gru", {"reset": "after"}), ("gru", {"reset": "before"})]
IDS = ["elman", "lstm", "lstm-peephole", "gru-after", "gru-before"]


def _direct(cell, x, p, variant):
    """The cell's own forward and BPTT, for comparison."""
    if cell == "elman":
        h, state, cache = labrnn.rnn_forward(x, p)
        return h, state, lambda dh: labrnn.rnn_backward(dh, cache)
    if cell == "lstm":
        h, state, cache = labrnn.lstm_forward(x, p, peephole=variant.get("peephole", False))
        return h, state, lambda dh: labrnn.lstm_backward(dh, cache)
    h, state, cache = labrnn.gru_forward(x, p, reset=variant["reset"])
    return h, state, lambda dh: labrnn.gru_backward(dh, cache)


@pytest.mark.parametrize("cell, variant", VARIANTS, ids=IDS)
def test_forward_and_backward_are_the_cells_own(cell, variant, backend):
    T, B, D, H = 4, 3, 2, 5
    rng = np.random.default_rng(0)
    p = init_cell(cell, D, H, seed=1, xp=backend.xp, device=backend.device, **variant)
    x = backend.asarray(rng.normal(size=(T, B, D)))
    dh = backend.asarray(rng.normal(size=(T, B, H)))
    h, state, cache = cell_forward(cell, x, p)
    h_ref, state_ref, back_ref = _direct(cell, x, p, variant)
    assert backend.on_this_device(h)
    np.testing.assert_array_equal(backend.to_numpy(h), backend.to_numpy(h_ref))
    n_state = 2 if cell == "lstm" else 1                  # (h, c) or (h,)
    assert isinstance(state, tuple) and len(state) == len(state_ref) == n_state
    for s, s_ref in zip(state, state_ref):
        np.testing.assert_array_equal(backend.to_numpy(s), backend.to_numpy(s_ref))
    np.testing.assert_array_equal(backend.to_numpy(state[0]), backend.to_numpy(h[-1, ...]))
    dx, dstate0, grads = cell_backward(dh, cache)
    dx_ref, dstate0_ref, grads_ref = back_ref(dh)
    np.testing.assert_array_equal(backend.to_numpy(dx), backend.to_numpy(dx_ref))
    assert set(grads) == set(grads_ref)
    for k in grads:
        np.testing.assert_array_equal(backend.to_numpy(grads[k]), backend.to_numpy(grads_ref[k]))
    assert isinstance(dstate0, tuple) and len(dstate0) == len(dstate0_ref) == n_state
    for d, d_ref in zip(dstate0, dstate0_ref):
        assert tuple(d.shape) == (B, H)
        np.testing.assert_array_equal(backend.to_numpy(d), backend.to_numpy(d_ref))


@pytest.mark.parametrize("cell, variant", VARIANTS, ids=IDS)
def test_init_cell_with_output_layer_and_param_count(cell, variant):
    D, H, O = 3, 4, 2
    p = init_cell(cell, D, H, O, seed=0, **variant)
    assert p["W_hy"].shape == (O, H) and p["b_y"].shape == (O,)
    assert np.all(p["b_y"] == 0) and np.any(p["W_hy"] != 0)
    assert sum(v.size for v in p.values()) == cell_param_count(cell, D, H, O, **variant)
    # the output layer does not change the cell's own weights
    bare = init_cell(cell, D, H, seed=0, **variant)
    assert set(p) - set(bare) == {"W_hy", "b_y"}
    for k in bare:
        np.testing.assert_array_equal(p[k], bare[k])
    assert cell_variant(cell, p) == ({} if cell == "elman" else
                                     {"peephole": variant.get("peephole", False)} if cell == "lstm"
                                     else {"reset": variant["reset"]})


def test_param_counts_follow_the_formulas():
    D, H = 3, 5
    assert cell_param_count("elman", D, H) == H * D + H * H + H
    assert cell_param_count("lstm", D, H) == 4 * (H * D + H * H + H)
    assert cell_param_count("lstm", D, H, peephole=True) == 4 * (H * D + H * H + H) + 3 * H
    assert cell_param_count("gru", D, H) == 3 * (H * D + H * H + H) + H
    assert cell_param_count("gru", D, H, reset="before") == 3 * (H * D + H * H + H)
    assert cell_param_count("elman", D, H, O=2) == H * D + H * H + H + 2 * H + 2


def test_the_elman_activation_is_passed_through():
    p = init_cell("elman", 2, 3, seed=0)
    x = np.random.default_rng(0).normal(size=(3, 1, 2))
    h, _, _ = cell_forward("elman", x, p, activation="relu")
    np.testing.assert_array_equal(h, labrnn.rnn_forward(x, p, activation="relu")[0])


def test_initial_states_in_the_cells_own_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 2))
    h0, c0 = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    p = init_cell("lstm", 2, 4, seed=0)
    h, _, _ = cell_forward("lstm", x, p, state0=(h0, c0))
    np.testing.assert_array_equal(h, labrnn.lstm_forward(x, p, (h0, c0))[0])
    p = init_cell("gru", 2, 4, seed=0)
    h, _, _ = cell_forward("gru", x, p, state0=(h0,))
    np.testing.assert_array_equal(h, labrnn.gru_forward(x, p, (h0,))[0])
    # the state is always a tuple: a bare array is refused with the fix in the message
    with pytest.raises(TypeError, match=r"state0 of a gru cell must be the tuple \(h,\) of "
                       r"\(B, H\) arrays, received a single array of shape \(2, 4\); "
                       r"wrap the array: state0=\(h,\)"):
        cell_forward("gru", x, p, state0=h0)


def test_unknown_cells_and_foreign_caches_are_refused():
    assert tuple(CELLS) == ("elman", "lstm", "gru", "lnlstm")
    with pytest.raises(ValueError, match=r"unknown cell 'rnn'; choose one of "
                       r"\['elman', 'lstm', 'gru', 'lnlstm'\]"):
        init_cell("rnn", 2, 3)
    with pytest.raises(ValueError, match="unknown cell"):
        cell_forward("LSTM", np.zeros((2, 1, 2)), init_cell("lstm", 2, 3))
    with pytest.raises(ValueError, match="unknown cell"):
        cell_param_count("transformer", 2, 3)
    with pytest.raises(TypeError, match="params must be a dict"):
        cell_variant("gru", [1, 2])
    # a cache that is not a cell's SequenceCache (here the layer's cache) is refused
    _, layer_cache = labrnn.recurrent_forward(np.zeros((2, 1, 2)), init_cell("elman", 2, 3))
    with pytest.raises(TypeError, match="cache must be the third value returned by "
                       "cell_forward, received a dict"):
        cell_backward(np.zeros((2, 1, 3)), layer_cache)
    # and one cell's cache is refused by another cell's backward pass
    _, _, cache = labrnn.rnn_forward(np.zeros((2, 1, 2)), init_cell("elman", 2, 3))
    with pytest.raises(TypeError, match="cache comes from an elman cell, but this is the "
                       "backward pass of an lstm cell"):
        labrnn.lstm_backward(np.zeros((2, 1, 3)), cache)
