"""The one cell protocol: every layer and model runs over every registered cell.

The cells are the registry's (:data:`labrnn.cells.CELLS`) plus a toy cell added
the way the API appendix describes (``tests/toy_cell.py``): if a new cell follows
the protocol, every test here runs on it unchanged.
"""

import numpy as np
import pytest

import labrnn
from labrnn import backend
from labrnn.cells import CELLS, Cell, SequenceCache, get_cell, register_cell, unregister_cell
from labrnn.paramtree import subparams

from toy_cell import LEAKY

T, B, D, H = 5, 3, 4, 3
LENGTHS = np.array([5, 3, 1])


@pytest.fixture(scope="module", autouse=True)
def toy_registered():
    register_cell(LEAKY)
    yield
    unregister_cell(LEAKY.name)


VARIANTS = [("elman", {}), ("elman", {"activation": "relu"}), ("lstm", {}),
            ("lstm", {"peephole": True}), ("gru", {}), ("gru", {"reset": "before"}),
            ("lnlstm", {}), ("leaky", {})]


def _params(name, kw, seed=1, D=D, H=H):
    init_kw = {k: v for k, v in kw.items() if k != "activation"}
    p = get_cell(name).init(D, H, seed=seed, **init_kw)
    rng = np.random.default_rng(seed + 100)
    # make every parameter matter (peepholes and biases start at zero)
    return {k: v + 0.3 * rng.normal(size=v.shape) for k, v in p.items()}


def _opts(kw):
    return {"activation": kw["activation"]} if "activation" in kw else {}


def test_registry_lists_the_cells_and_refuses_unknown_names():
    assert {"elman", "lstm", "gru", "lnlstm"} <= set(CELLS)
    with pytest.raises(ValueError, match="unknown cell 'lsmt'; choose one of"):
        get_cell("lsmt")
    with pytest.raises(ValueError, match="already registered"):
        register_cell(get_cell("lstm"))
    with pytest.raises(TypeError, match="instance of labrnn.cells.Cell"):
        register_cell("lstm")


@pytest.mark.parametrize("name,kw", VARIANTS)
def test_sequence_pass_gradcheck_with_state_lengths_and_h_mask(name, kw):
    c = get_cell(name)
    p = _params(name, kw)
    n = len(c.state_names)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, B, D))
    s0 = tuple(rng.normal(size=(B, H)) for _ in range(n))
    h_mask = (rng.random((B, H)) > 0.3) / 0.7
    R = rng.normal(size=(T, B, H))
    RT = tuple(rng.normal(size=(B, H)) for _ in range(n))

    def loss(inp):
        out, st, _ = c.forward(inp["x"], {k: inp[k] for k in p},
                               tuple(inp[f"s{i}"] for i in range(n)), LENGTHS,
                               h_mask=h_mask, **_opts(kw))
        return np.sum(out * R) + sum(np.sum(s * r) for s, r in zip(st, RT))

    out, st, cache = c.forward(x, p, s0, LENGTHS, h_mask=h_mask, **_opts(kw))
    dx, d0, grads = c.backward(R, cache, RT)
    assert set(grads) == set(p)
    inputs = {"x": x, **p, **{f"s{i}": s0[i] for i in range(n)}}
    analytic = {"x": dx, **grads, **{f"s{i}": d0[i] for i in range(n)}}
    labrnn.gradcheck(loss, inputs, analytic).assert_ok(1e-6)


@pytest.mark.parametrize("name,kw", VARIANTS)
def test_padding_changes_nothing(name, kw):
    c = get_cell(name)
    p = _params(name, kw)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(T, B, D))
    out, st, cache = c.forward(x, p, None, LENGTHS, **_opts(kw))
    dout = rng.normal(size=out.shape) * np.asarray(labrnn.sequence_mask(LENGTHS, T))[..., None]
    dx, _, grads = c.backward(dout, cache)
    for b, L in enumerate(LENGTHS):
        o_b, s_b, c_b = c.forward(x[:L, b:b + 1], p, **_opts(kw))
        np.testing.assert_allclose(out[:L, b:b + 1], o_b, rtol=1e-12, atol=1e-14)
        assert np.all(out[L:, b] == 0)
        for s, sb in zip(st, s_b):
            np.testing.assert_allclose(s[b:b + 1], sb, rtol=1e-12, atol=1e-14)
        dx_b, _, _ = c.backward(dout[:L, b:b + 1], c_b)
        np.testing.assert_allclose(dx[:L, b:b + 1], dx_b, rtol=1e-10, atol=1e-13)
        assert np.all(dx[L:, b] == 0)


@pytest.mark.parametrize("name,kw", VARIANTS)
def test_step_functions_are_the_sequence_pass_of_one_step(name, kw):
    c = get_cell(name)
    p = _params(name, kw)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, B, D))
    s0 = tuple(rng.normal(size=(B, H)) for _ in c.state_names)
    new, cache = c.step_forward(x[0], s0, p, **_opts(kw))
    out, st, _ = c.forward(x, p, s0, **_opts(kw))
    for a, b in zip(new, st):
        np.testing.assert_array_equal(a, b)
    dx, d0, g = c.step_backward(tuple(np.ones((B, H)) for _ in c.state_names), cache)
    assert dx.shape == (B, D) and len(d0) == len(c.state_names) and set(g) == set(p)


@pytest.mark.parametrize("name,kw", VARIANTS)
def test_layers_run_every_cell(name, kw):
    """recurrent_forward (both flags), bidirectional, stacked (2 layers, dropout, residual)."""
    c = get_cell(name)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(T, B, D))
    act = kw.get("activation")
    init_kw = {k: v for k, v in kw.items() if k != "activation"}
    p = _params(name, kw)
    out, st, cache = labrnn.recurrent_forward(x, p, None, LENGTHS, cell=name, activation=act,
                                              return_sequences=False, return_state=True)
    np.testing.assert_array_equal(out, st[0])
    dx, d0, g = labrnn.recurrent_backward(np.ones((B, H)), cache)
    assert dx.shape == x.shape and set(g) == set(p)

    pb = labrnn.init_bidirectional(name, D, H, seed=4, **init_kw)
    y, (sf, sb), cb = labrnn.bidirectional_forward(x, pb, None, LENGTHS, cell=name,
                                                   activation=act)
    assert y.shape == (T, B, 2 * H)
    np.testing.assert_array_equal(y[0, :, H:], sb[0])          # <-h_1 is the bw final state

    def loss(inp):
        y, _, _ = labrnn.stacked_forward(inp["x"], {k: inp[k] for k in ps}, None, LENGTHS,
                                         cell=name, activation=act, residual=True,
                                         masks=masks, bidirectional=True)
        return np.sum(y * R)

    ps = labrnn.init_stacked(name, D, H, 2, bidirectional=True, seed=5, **init_kw)
    # nonzero biases: with zero biases and zero inputs a ReLU sits exactly on its kink
    ps = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in ps.items()}
    _, _, cs = labrnn.stacked_forward(x, ps, None, LENGTHS, cell=name, activation=act,
                                      bidirectional=True, dropout=0.3, recurrent_dropout=0.3,
                                      variational=True, seed=6)
    masks = cs["masks"]
    y, states, cs = labrnn.stacked_forward(x, ps, None, LENGTHS, cell=name, activation=act,
                                           residual=True, masks=masks, bidirectional=True)
    R = rng.normal(size=y.shape) * np.asarray(labrnn.sequence_mask(LENGTHS, T))[..., None]
    dx, d0, grads = labrnn.stacked_backward(R, cs)
    assert len(states) == len(d0) == 2
    labrnn.gradcheck(loss, {"x": x, **ps}, {"x": dx, **grads}).assert_ok(1e-6)


@pytest.mark.parametrize("name", ["elman", "lstm", "gru", "lnlstm", "leaky"])
def test_seq2seq_and_vec2seq_run_every_cell(name):
    from labrnn.models.vec2seq import init_vec2seq, vec2seq_loss
    params = labrnn.init_seq2seq(6, 7, 3, 4, decoder="attention", cell=name, seed=0,
                                 enc_layers=2, bidirectional=True)
    # At initialisation the attention's gradients are ~1e-5 (small LSTM states), where the
    # round-off of central differences dominates; perturbed weights make every gradient O(1e-2).
    rng = np.random.default_rng(0)
    params = {k: v + rng.normal(size=v.shape) for k, v in params.items()}
    src = np.array([[2, 3, 4], [3, 4, 0], [4, 0, 0]]).T      # (S, B): columns of length 3, 2, 1
    tgt = np.array([[2, 3, 4], [1, 1, 1]])                     # (T, B)
    loss, grads, _ = labrnn.seq2seq_loss(src, tgt, params, bos=0, cell=name, enc_layers=2,
                                         bidirectional=True, src_lengths=[3, 2, 1])

    def f(q):
        return labrnn.seq2seq_loss(src, tgt, q, bos=0, cell=name, enc_layers=2,
                                   bidirectional=True, src_lengths=[3, 2, 1])[0]

    labrnn.gradcheck(f, params, grads).assert_ok(1e-6)
    pv = init_vec2seq(3, 5, 2, 4, cell=name, seed=1)
    v = np.random.default_rng(0).normal(size=(2, 3))
    _, gv, _ = vec2seq_loss(v, np.array([[1, 2], [4, 4]]), pv, bos=0, cell=name)
    labrnn.gradcheck(lambda q: vec2seq_loss(v, np.array([[1, 2], [4, 4]]), q, bos=0,
                                            cell=name)[0], pv, gv).assert_ok(1e-6)


@pytest.mark.parametrize("name", ["elman", "lstm", "gru", "lnlstm"])
def test_namespace_is_called_a_constant_number_of_times_per_sequence(name, monkeypatch):
    c = get_cell(name)
    p = _params(name, {})
    calls = {"n": 0}
    real = backend.namespace

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    counts = {}
    for TT in (4, 40):
        x = np.random.default_rng(0).normal(size=(TT, B, D))
        for mod in ("labrnn.backend", "labrnn.cells.base", "labrnn.validate",
                    "labrnn.layers.masking", "labrnn.layers.activations"):
            monkeypatch.setattr(f"{mod}.namespace", counting)
        calls["n"] = 0
        out, st, cache = c.forward(x, p, None, np.array([TT, TT - 1, 2]))
        c.backward(np.ones_like(out), cache, tuple(np.ones((B, H)) for _ in st))
        counts[TT] = calls["n"]
        monkeypatch.undo()
    assert counts[4] == counts[40], counts


def test_cache_is_a_snapshot_of_the_parameter_dict():
    c = get_cell("lstm")
    p = _params("lstm", {})
    x = np.random.default_rng(0).normal(size=(T, B, D))
    out, st, cache = c.forward(x, p)
    _, _, g1 = c.backward(np.ones_like(out), cache)
    q = dict(p)
    out, st, cache = c.forward(x, q)
    q["W_h"] = q["W_h"] * 3.0                 # an optimiser rebinds the entry between passes
    _, _, g2 = c.backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(g1["W_x"], g2["W_x"])


class TestProtocolErrors:
    def test_state_must_be_a_tuple(self):
        p = _params("elman", {})
        x = np.zeros((T, B, D))
        with pytest.raises(TypeError, match=r"state0 of an elman cell must be the tuple \(h,\)"
                                            r".*wrap the array: state0=\(h,\)"):
            labrnn.rnn_forward(x, p, np.zeros((B, H)))
        with pytest.raises(TypeError, match=r"an lstm cell carries a hidden state h AND a cell "
                                            r"state c"):
            labrnn.lstm_forward(x, _params("lstm", {}), np.zeros((B, H)))

    def test_cache_from_another_cell_is_named(self):
        x = np.zeros((T, B, D))
        _, _, cache = labrnn.gru_forward(x, _params("gru", {}))
        with pytest.raises(TypeError, match="cache comes from a gru cell, but this is the "
                                            "backward pass of an lstm cell"):
            labrnn.lstm_backward(np.zeros((T, B, H)), cache)
        with pytest.raises(TypeError, match="cache must be the third value returned"):
            labrnn.lstm_backward(np.zeros((T, B, H)), ("lstm", None))

    def test_transposed_input_matrix_blames_itself(self):
        p = _params("elman", {})
        p["W_xh"] = p["W_xh"].T.copy()
        with pytest.raises(labrnn.ShapeError, match=r"params\['W_xh'\].*must have shape "
                                                    r"\(3, 4\), received \(4, 3\).*transposed"):
            labrnn.rnn_forward(np.zeros((T, B, D)), p)

    @pytest.mark.parametrize("where", ["param", "state0", "dout", "h_mask"])
    def test_non_finite_values_are_refused(self, where):
        c = get_cell("gru")
        p = _params("gru", {})
        x = np.zeros((T, B, D))
        s0, h_mask = (np.zeros((B, H)),), None
        if where == "param":
            p["b"] = p["b"].copy()
            p["b"][2] = np.nan
        if where == "state0":
            s0 = (np.full((B, H), np.inf),)
        if where == "h_mask":
            h_mask = np.full((B, H), np.nan)
        if where == "dout":
            out, _, cache = c.forward(x, p)
            with pytest.raises(labrnn.NonFiniteError, match="dout contains a non-finite"):
                c.backward(np.full(out.shape, np.nan), cache)
            return
        name = {"param": r"params\['b'\]", "state0": r"state0\[0\] \(h\)",
                "h_mask": "h_mask"}[where]
        with pytest.raises(labrnn.NonFiniteError, match=name + " contains a non-finite"):
            c.forward(x, p, s0, h_mask=h_mask)

    def test_unknown_option_is_refused(self):
        with pytest.raises(TypeError, match="the lstm cell takes no option 'activation'"):
            labrnn.cell_forward("lstm", np.zeros((T, B, D)), _params("lstm", {}),
                                activation="relu")

    def test_flags_must_be_booleans(self):
        p = _params("elman", {})
        x = np.zeros((T, B, D))
        with pytest.raises(TypeError, match="return_state must be True or False, received 'yes'"):
            labrnn.recurrent_forward(x, p, return_state="yes")
        ps = labrnn.init_stacked("elman", D, H, 2)
        with pytest.raises(TypeError, match="residual must be True or False, received 'False'"):
            labrnn.stacked_forward(x, ps, residual="False")
        for bad in (-0.5, float("nan"), 1.0, "0.2"):
            with pytest.raises(ValueError, match="dropout must be a probability in"):
                labrnn.stacked_forward(x, ps, dropout=bad, seed=0)
        with pytest.raises(KeyError, match="masks holds unknown key 'l1.inp'"):
            labrnn.stacked_forward(x, ps, masks={"l1.inp": np.ones((B, H))})
        with pytest.raises(ValueError, match="unknown merge 'avg'"):
            labrnn.init_stacked("elman", D, H, 2, bidirectional=True, merge="avg")
        with pytest.raises(ValueError, match="unknown merge 'avg'"):
            labrnn.bidirectional_forward(x, labrnn.init_bidirectional("elman", D, H),
                                         merge="avg")

    def test_a_cell_subclass_must_describe_itself(self):
        class Half(Cell):
            name = "half"
        with pytest.raises(NotImplementedError):
            Half().forward(np.zeros((T, B, D)), {})
