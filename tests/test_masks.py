"""Variable lengths in the recurrent layer: padding must not change any result (chapter 10)."""

import numpy as np
import pytest

import labrnn
from labrnn import recurrent_backward, recurrent_forward
from labrnn.cells import init_cell
from labrnn.errors import DTypeError, ShapeError
from labrnn.layers.masking import check_lengths, check_mask, reverse_padded, sequence_mask

T, B, D, H, O = 5, 3, 2, 3, 4
LENGTHS = [5, 2, 3]
CELLS = ["elman", "lstm", "gru"]


def _problem(backend, cell, seed=0):
    """Padded inputs (garbage at padded steps), params and an initial state."""
    rng = np.random.default_rng(seed)
    params = init_cell(cell, D, H, O=O, seed=seed, xp=backend.xp, device=backend.device)
    if cell == "gru":       # non-zero b_hn, b so that every parameter matters
        params["b_hn"] = backend.asarray(rng.normal(0, 0.3, H))
    if cell == "elman":
        params["b_h"] = backend.asarray(rng.normal(0, 0.3, H))
    x = backend.asarray(rng.normal(size=(T, B, D)))
    h0 = backend.asarray(rng.normal(0, 0.5, (B, H)))
    c0 = backend.asarray(rng.normal(0, 0.5, (B, H)))
    lengths = backend.asarray(np.array(LENGTHS))
    return x, params, h0, c0, lengths


def _state(cell, h0, c0):
    return (h0, c0) if cell == "lstm" else (h0,)


def _cell_keys(params):
    return [k for k in params if k not in ("W_hy", "b_y")]


@pytest.mark.parametrize("cell", CELLS)
def test_padding_invariance_of_outputs_states_losses_and_gradients(backend, cell):
    x, params, h0, c0, lengths = _problem(backend, cell)
    xp = backend.xp
    rng = np.random.default_rng(7)
    targets = backend.asarray(rng.integers(0, O, size=(T, B)))
    mask = sequence_mask(lengths, T)
    r_state = backend.asarray(rng.normal(size=(B, H)))

    out, state, cache = recurrent_forward(x, params, _state(cell, h0, c0), cell=cell,
                                          lengths=lengths, return_state=True)
    h_T = state[0]
    logits, aff = labrnn.affine_forward(out, params["W_hy"], params["b_y"])
    count = float(xp.sum(xp.astype(mask, x.dtype)))
    loss, dlogits = labrnn.softmax_cross_entropy(logits, targets, mask)
    total = float(loss) * count + float(xp.sum(h_T * r_state))
    dout, dW, db = labrnn.affine_backward(dlogits * count, aff)
    dstate = (r_state, None) if cell == "lstm" else (r_state,)
    dx, dstate0, grads = recurrent_backward(dout, cache, dstate_T=dstate)
    assert backend.on_this_device(dx) and backend.on_this_device(grads["b" if cell != "elman"
                                                                       else "b_h"])

    np_ = backend.to_numpy
    out_n, dx_n = np_(out), np_(dx)
    sum_grads = {k: 0.0 for k in grads}
    sum_loss = 0.0
    for b, L in enumerate(LENGTHS):
        xb = x[:L, b:b + 1, :]
        s0 = _state(cell, h0[b:b + 1, :], c0[b:b + 1, :])
        o_b, st_b, c_b = recurrent_forward(xb, params, s0, cell=cell, return_state=True)
        np.testing.assert_allclose(out_n[:L, b], np_(o_b)[:, 0], rtol=1e-12, atol=1e-13)
        assert np.all(out_n[L:, b] == 0.0)
        for got, want in zip(_tuple(cell, state), _tuple(cell, st_b)):
            np.testing.assert_allclose(np_(got)[b], np_(want)[0], rtol=1e-12, atol=1e-13)
        lg, aff_b = labrnn.affine_forward(o_b, params["W_hy"], params["b_y"])
        l_b, dl_b = labrnn.softmax_cross_entropy(lg, targets[:L, b:b + 1])
        rs_b = r_state[b:b + 1, :]
        h_b = _tuple(cell, st_b)[0]
        sum_loss += float(l_b) * L + float(xp.sum(h_b * rs_b))
        do_b, _, _ = labrnn.affine_backward(dl_b * L, aff_b)
        dx_b, ds0_b, g_b = recurrent_backward(do_b, c_b, dstate_T=(rs_b, None) if cell == "lstm"
                                              else (rs_b,))
        np.testing.assert_allclose(dx_n[:L, b], np_(dx_b)[:, 0], rtol=1e-10, atol=1e-12)
        assert np.all(dx_n[L:, b] == 0.0)
        for got, want in zip(_tuple(cell, dstate0), _tuple(cell, ds0_b)):
            np.testing.assert_allclose(np_(got)[b], np_(want)[0], rtol=1e-10, atol=1e-12)
        for k in g_b:
            sum_grads[k] = sum_grads[k] + np_(g_b[k])
    assert total == pytest.approx(sum_loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(np_(grads[k]), sum_grads[k], rtol=1e-10, atol=1e-12)


def _tuple(cell, s):
    assert isinstance(s, tuple) and len(s) == (2 if cell == "lstm" else 1)   # state is a tuple
    return s


@pytest.mark.parametrize("cell,rs", [("elman", True), ("lstm", False), ("gru", True)])
def test_gradcheck_with_lengths(backend, cell, rs):
    x, params, h0, c0, lengths = _problem(backend, cell)
    p = {k: params[k] for k in _cell_keys(params)}
    xp = backend.xp
    rng = np.random.default_rng(3)
    r_out = backend.asarray(rng.normal(size=(T, B, H) if rs else (B, H)))
    r_st = backend.asarray(rng.normal(size=(B, H)))

    def run(inp):
        s0 = (inp["h0"], inp["c0"]) if cell == "lstm" else (inp["h0"],)
        return recurrent_forward(inp["x"], {k: inp[k] for k in p}, s0, cell=cell,
                                 lengths=lengths, return_sequences=rs, return_state=True)

    def loss(inp):
        out, st, _ = run(inp)
        return xp.sum(out * r_out) + xp.sum(_tuple(cell, st)[-1] * r_st)

    inputs = {"x": x, "h0": h0, **p}
    if cell == "lstm":
        inputs["c0"] = c0
    _, _, cache = run(inputs)
    dstate = (None, r_st) if cell == "lstm" else (r_st,)
    dx, ds0, grads = recurrent_backward(r_out, cache, dstate_T=dstate)
    analytic = {"x": dx, "h0": _tuple(cell, ds0)[0], **grads}
    if cell == "lstm":
        analytic["c0"] = ds0[1]
    # every entry on NumPy; on array-api-strict (slow per operation) x and the bias
    names = None if backend.name == "numpy" else ["x", "b_h" if cell == "elman" else "b"]
    labrnn.gradcheck(loss, inputs, analytic, names=names).assert_ok(1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_full_lengths_equal_the_unmasked_layer(cheap_backend, cell):
    x, params, h0, c0, _ = _problem(cheap_backend, cell)
    full = [T] * B
    a = recurrent_forward(x, params, _state(cell, h0, c0), cell=cell, return_state=True)
    b = recurrent_forward(x, params, _state(cell, h0, c0), cell=cell, lengths=full,
                          return_state=True)
    np.testing.assert_allclose(labrnn.to_numpy(a[0]), labrnn.to_numpy(b[0]), rtol=1e-13,
                               atol=1e-14)


def test_python_list_lengths_and_last_output_is_each_sequences_own():
    rng = np.random.default_rng(0)
    p = labrnn.init_elman(D, H, seed=0)
    x = rng.normal(size=(T, B, D))
    last, _ = recurrent_forward(x, p, return_sequences=False, lengths=LENGTHS)
    seq, _ = recurrent_forward(x, p, lengths=LENGTHS)
    for b, L in enumerate(LENGTHS):
        np.testing.assert_array_equal(last[b], seq[L - 1, b])


# ---- helpers -----------------------------------------------------------------------------

def test_sequence_mask_and_reverse_padded(backend):
    lengths = backend.asarray(np.array([3, 1, 2]))
    m = backend.to_numpy(sequence_mask(lengths, 4))
    np.testing.assert_array_equal(m, np.array([[1, 1, 1], [1, 0, 1], [1, 0, 0], [0, 0, 0]],
                                              dtype=bool))
    x = backend.asarray(np.arange(4 * 3 * 2, dtype=float).reshape(4, 3, 2))
    y = backend.to_numpy(reverse_padded(x, lengths))
    xn = np.arange(4 * 3 * 2, dtype=float).reshape(4, 3, 2)
    np.testing.assert_array_equal(y[:3, 0], xn[2::-1, 0])
    np.testing.assert_array_equal(y[:, 1], xn[:, 1])
    np.testing.assert_array_equal(y[:2, 2], xn[1::-1, 2])
    np.testing.assert_array_equal(y[2:, 2], xn[2:, 2])
    z = backend.to_numpy(reverse_padded(reverse_padded(x, lengths), lengths))
    np.testing.assert_array_equal(z, xn)


# ---- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("lengths,err,msg", [
    ([5, 6, 2], ValueError, r"must not exceed the padded length T=5, found 6 at position 1"),
    ([5, 0, 2], ValueError, r"at least 1 .* found 0 at position 1"),
    ([5, 2], ShapeError, r"lengths must have shape \(B=3,\), .* received \(2,\)"),
    ([[5, 2, 1]], ShapeError, r"lengths must have shape \(B=3,\)"),
    ([5.0, 2.0, 1.0], DTypeError, r"lengths must hold integers .* float64"),
    (np.array([True, True, False]), DTypeError, r"lengths must hold integers .* bool"),
])
def test_bad_lengths_are_refused_with_a_clear_message(lengths, err, msg):
    x = np.zeros((T, B, D))
    p = labrnn.init_elman(D, H, seed=0)
    with pytest.raises(err, match=msg):
        recurrent_forward(x, p, lengths=lengths)


def test_bad_lengths_on_a_foreign_device(backend):
    x = backend.asarray(np.zeros((T, B, D)))
    p = labrnn.init_elman(D, H, seed=0, xp=backend.xp, device=backend.device)
    with pytest.raises(DTypeError, match="lengths must hold integers"):
        recurrent_forward(x, p, cell="elman", lengths=backend.asarray(np.array([1.0, 2, 3])))
    with pytest.raises(ValueError, match="must not exceed"):
        recurrent_forward(x, p, lengths=backend.asarray(np.array([1, 2, 9])))


def test_bad_masks_are_refused():
    x = np.zeros((T, B, D))
    with pytest.raises(ValueError, match=r"mask must hold only 0 and 1 .*received values in \[0.0, 0.5\]"):
        check_mask(np.full((T, B), 0.5) * (np.arange(B) > 0), T, B, x)
    with pytest.raises(DTypeError, match="mask must be boolean or hold 0/1 numbers"):
        check_mask(np.ones((T, B), dtype=complex), T, B, x)
    assert check_mask(np.ones((T, B)), T, B, x).dtype == bool      # 0/1 numbers become booleans
    with pytest.raises(ShapeError, match=r"mask must have shape \(T=5, B=3\), received \(3, 5\)"):
        check_mask(np.ones((B, T), dtype=bool), T, B, x)
    empty = np.ones((T, B), dtype=bool)
    empty[:, 1] = False
    with pytest.raises(ValueError, match="masks every step of some sequence"):
        check_mask(empty, T, B, x)
    assert check_lengths([1, 2, 3], T, B, x).dtype.kind == "i"


def test_unknown_cell():
    with pytest.raises(ValueError, match="unknown cell 'rnn'"):
        recurrent_forward(np.zeros((T, B, D)), labrnn.init_elman(D, H), cell="rnn")
