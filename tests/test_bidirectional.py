"""Bidirectional layer: both directions, merge, padding (chapter 9)."""

import numpy as np
import pytest

import labrnn
from labrnn.models.bidirectional import (bidirectional_backward, bidirectional_forward,
                                  init_bidirectional)

T, B, D, H = 4, 3, 2, 3
LENGTHS = [4, 2, 3]


def _problem(backend, cell, seed=0):
    rng = np.random.default_rng(seed)
    params = init_bidirectional(cell, D, H, seed=seed, xp=backend.xp, device=backend.device)
    x = backend.asarray(rng.normal(size=(T, B, D)))
    return x, params, backend.asarray(np.array(LENGTHS))


def _summary(xp, merge, s_fw, s_bw):
    """The many-to-one summary: the merge of both directions' final hidden states."""
    return xp.concat([s_fw[0], s_bw[0]], axis=-1) if merge == "concat" else s_fw[0] + s_bw[0]


@pytest.mark.parametrize("cell,merge,rs", [("elman", "concat", True), ("lstm", "sum", True),
                                           ("gru", "concat", False)])
def test_gradcheck_with_padding(backend, cell, merge, rs):
    """rs: a loss on every step's output y; otherwise on the summary of the final states."""
    x, params, lengths = _problem(backend, cell)
    xp = backend.xp
    F = 2 * H if merge == "concat" else H
    rng = np.random.default_rng(1)
    r = backend.asarray(rng.normal(size=(T, B, F) if rs else (B, F)))
    r_s = backend.asarray(rng.normal(size=(B, H)))

    def run(inp):
        return bidirectional_forward(inp["x"], inp, cell=cell, lengths=lengths, merge=merge)

    def loss(inp):
        y, (s_fw, s_bw), _ = run(inp)
        out = y if rs else _summary(xp, merge, s_fw, s_bw)
        return xp.sum(out * r) + xp.sum(s_bw[0] * r_s)

    inputs = {"x": x, **params}
    _, _, cache = run(inputs)
    rest = (None,) if cell == "lstm" else ()
    if rs:
        dy, dh_fw, dh_bw = r, None, r_s
    else:                                   # the summary's gradient goes to the final h's
        r_fw, r_bw = (r[:, :H], r[:, H:]) if merge == "concat" else (r, r)
        dy, dh_fw, dh_bw = None, r_fw, r_bw + r_s
    ds_fw = None if dh_fw is None else (dh_fw,) + rest
    dx, _, grads = bidirectional_backward(dy, cache, dstate_T=(ds_fw, (dh_bw,) + rest))
    # every entry on NumPy; on array-api-strict (slow per operation) the input and the
    # backward direction's bias, where the reversal within lengths acts
    names = None if backend.name == "numpy" else ["x", "bw.b" if cell != "elman" else "bw.b_h"]
    labrnn.gradcheck(loss, inputs, {"x": dx, **grads}, names=names).assert_ok(1e-6)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_padding_invariance(cheap_backend, cell):
    x, params, lengths = _problem(cheap_backend, cell)
    y, (s_fw, s_bw), cache = bidirectional_forward(x, params, cell=cell, lengths=lengths)
    dy = cheap_backend.asarray(np.random.default_rng(2).normal(size=(T, B, 2 * H)))
    dx, _, grads = bidirectional_backward(dy, cache)
    yn, dxn = labrnn.to_numpy(y), labrnn.to_numpy(dx)
    total = {k: 0.0 for k in grads}
    for b, L in enumerate(LENGTHS):
        y_b, (f_b, w_b), c_b = bidirectional_forward(x[:L, b:b + 1, :], params, cell=cell)
        np.testing.assert_allclose(yn[:L, b], labrnn.to_numpy(y_b)[:, 0], rtol=1e-12,
                                   atol=1e-13)
        assert np.all(yn[L:, b] == 0)
        assert len(s_bw) == len(w_b) == len(s_fw) == len(f_b) == (2 if cell == "lstm" else 1)
        for got, want in zip(s_bw + s_fw, w_b + f_b):      # every part of both states
            np.testing.assert_allclose(labrnn.to_numpy(got)[b], labrnn.to_numpy(want)[0],
                                       rtol=1e-12)
        dx_b, _, g_b = bidirectional_backward(dy[:L, b:b + 1, :], c_b)
        np.testing.assert_allclose(dxn[:L, b], labrnn.to_numpy(dx_b)[:, 0], rtol=1e-10,
                                   atol=1e-12)
        assert np.all(dxn[L:, b] == 0)
        for k in g_b:
            total[k] = total[k] + labrnn.to_numpy(g_b[k])
    for k in grads:
        np.testing.assert_allclose(labrnn.to_numpy(grads[k]), total[k], rtol=1e-10, atol=1e-12)


def test_backward_direction_is_a_forward_layer_on_the_reversed_sequence():
    x, params, _ = _problem(_np(), "elman")
    y, _, _ = bidirectional_forward(x, params, merge="concat")
    bw = labrnn.cells.cell_forward("elman", x[::-1], labrnn.paramtree.subparams(params, "bw."))[0]
    np.testing.assert_allclose(y[..., H:], bw[::-1], rtol=1e-13)
    fw = labrnn.rnn_forward(x, labrnn.paramtree.subparams(params, "fw."))[0]
    np.testing.assert_array_equal(y[..., :H], fw)
    ysum, _, _ = bidirectional_forward(x, params, merge="sum")
    np.testing.assert_allclose(ysum, y[..., :H] + y[..., H:], rtol=1e-15)


def test_summary_output_is_fw_last_and_bw_first():
    x, params, lengths = _problem(_np(), "gru")
    y, (s_fw, s_bw), _ = bidirectional_forward(x, params, cell="gru", lengths=lengths)
    s = _summary(np, "concat", s_fw, s_bw)
    assert s.shape == (B, 2 * H)
    for b, L in enumerate(LENGTHS):
        np.testing.assert_allclose(s[b, :H], y[L - 1, b, :H], rtol=1e-14)
        np.testing.assert_allclose(s[b, H:], y[0, b, H:], rtol=1e-14)


def test_errors():
    x, params, _ = _problem(_np(), "elman")
    with pytest.raises(ValueError, match="unknown merge 'mean'"):
        bidirectional_forward(x, params, merge="mean")
    with pytest.raises(KeyError, match="no entry under 'bw.'"):
        bidirectional_forward(x, {k: v for k, v in params.items() if k.startswith("fw.")})
    with pytest.raises(ValueError, match="must not exceed"):
        bidirectional_forward(x, params, lengths=[5, 1, 1])
    _, _, cache = bidirectional_forward(x, params)
    with pytest.raises(ValueError, match=r"dy must have shape \(T=4, B=3, 2H=6\), received \(4, 3, 3\)"):
        bidirectional_backward(np.ones((T, B, H)), cache)
    with pytest.raises(ValueError, match="nothing to backpropagate"):
        bidirectional_backward(None, cache)
    with pytest.raises(TypeError, match="return_sequences"):     # the flag is gone: use the
        bidirectional_forward(x, params, return_sequences=False)  # summary of the states


def _np():
    class _B:
        xp, device = __import__("array_api_compat.numpy").numpy, "cpu"

        @staticmethod
        def asarray(a):
            return np.asarray(a)
    return _B
