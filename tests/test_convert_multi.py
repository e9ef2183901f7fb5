"""labrnn.convert for several layers and two directions: round trips, Keras semantics, errors.

PyTorch's semantics are checked against its own numbers in ``test_reference_torch_multi.py``;
Keras is not installed, so its ``Bidirectional`` wrapper and a stack of layers are checked
against the NumPy transcriptions of Keras' cells in ``test_convert.py``: Keras' backward
layer reads the sequence reversed (``go_backwards=True``) and its outputs are flipped back
before the merge (``Bidirectional.call``); a stack feeds each layer's sequence to the next.
"""

import numpy as np
import pytest

import labrnn
from labrnn import convert
from labrnn.models.bidirectional import bidirectional_forward
from labrnn.models.stacked import init_stacked, stacked_forward
from test_convert import keras_gru, keras_lstm, keras_simple_rnn  # tests/ is on sys.path

D, H, L = 3, 4, 3
CELLS = ["elman", "lstm", "gru"]
K = {"elman": 1, "lstm": 4, "gru": 3}


def _rand(p, seed=0):
    rng = np.random.default_rng(seed)
    return {k: v + 0.4 * rng.standard_normal(v.shape) for k, v in p.items()}


def _stack(cell, bidirectional, seed=0, **kw):
    return _rand(init_stacked(cell, D, H, L, bidirectional=bidirectional, seed=seed, **kw), seed)


def _torch_sd(cell, layers, bidirectional, seed=0, canonical=False):
    """A random state dict with PyTorch's keys and shapes; ``canonical``: redundant biases 0."""
    rng = np.random.default_rng(seed)
    k, dirs, sd = K[cell], 1 + bidirectional, {}
    for key in convert.torch_keys(layers, bidirectional):
        l = int(key.split("_l")[1].split("_")[0])
        shape = {"weight_ih": (k * H, D if l == 0 else dirs * H), "weight_hh": (k * H, H)}
        sd[key] = rng.standard_normal(shape.get(key[:9], (k * H,)))
        if canonical and key.startswith("bias_hh"):
            sd[key][:2 * H if cell == "gru" else k * H] = 0.0
    return sd


def _assert_equal_dicts(a, b):
    assert list(a) == list(b)
    for k in a:
        assert isinstance(a[k], np.ndarray) and a[k].dtype == b[k].dtype, k
        assert np.array_equal(a[k], b[k]), k


# ---------------------------------------------------------------- PyTorch round trips
def test_torch_keys_follow_pytorchs_order():
    assert convert.torch_keys(2, True)[:8] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
        "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert convert.torch_keys(2, False, bias=False) == [
        "weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"]
    assert convert.torch_layout(_torch_sd("lstm", 3, True)) == (3, True, True)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_stacked_labrnn_torch_labrnn_is_exact(cell, bidirectional):
    p = _stack(cell, bidirectional)
    sd = convert.stacked_to_torch(p, cell)
    assert list(sd) == convert.torch_keys(L, bidirectional)
    assert sd["weight_ih_l1"].shape == (K[cell] * H, (1 + bidirectional) * H)
    _assert_equal_dicts(convert.stacked_from_torch(sd, cell), p)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_stacked_torch_labrnn_torch_is_exact_in_canonical_form_and_keeps_bias_sums(
        cell, bidirectional):
    sd = _torch_sd(cell, 2, bidirectional, canonical=True)
    _assert_equal_dicts(convert.stacked_to_torch(convert.stacked_from_torch(sd, cell), cell), sd)
    sd = _torch_sd(cell, 2, bidirectional, seed=1)
    back = convert.stacked_to_torch(convert.stacked_from_torch(sd, cell), cell)
    for key in sd:
        if key.startswith("weight"):
            assert np.array_equal(back[key], sd[key])
        elif key.startswith("bias_ih"):
            hh = key.replace("bias_ih", "bias_hh")
            assert np.array_equal(back[key] + back[hh], sd[key] + sd[hh])


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_torch_round_trip_and_layout(cell):
    p = _rand(labrnn.init_bidirectional(cell, D, H, seed=2), 2)
    sd = convert.bidirectional_to_torch(p, cell)
    assert list(sd) == convert.torch_keys(1, True)
    # the reverse direction is the bw.* set, the forward the fw.* set
    W = "W_xh" if cell == "elman" else "W_x"
    assert np.array_equal(sd["weight_ih_l0_reverse"], p[f"bw.{W}"])
    assert np.array_equal(sd["weight_ih_l0"], p[f"fw.{W}"])
    _assert_equal_dicts(convert.bidirectional_from_torch(sd, cell), p)
    _assert_equal_dicts(convert.stacked_from_torch(sd, cell),
                        labrnn.paramtree.with_prefix("l0.", p))


def test_one_layer_unidirectional_stack_agrees_with_the_single_layer_converter():
    sd = _torch_sd("gru", 1, False, seed=3)
    _assert_equal_dicts(convert.stacked_from_torch(sd, "gru"),
                        labrnn.paramtree.with_prefix("l0.", convert.gru_from_torch(sd)))


def test_bias_false_stack_converts_with_zero_biases():
    sd = {k: v for k, v in _torch_sd("lstm", 2, True).items() if k.startswith("weight")}
    p = convert.stacked_from_torch(sd, "lstm")
    assert all(np.array_equal(p[f"l{l}.{d}.b"], np.zeros(4 * H)) for l in (0, 1) for d in ("fw", "bw"))


def test_converted_stack_runs_with_backend_arrays():
    strict = pytest.importorskip("array_api_strict")
    dev = strict.Device("device1")
    p = init_stacked("lstm", D, H, 2, bidirectional=True, xp=strict, device=dev)
    sd = convert.stacked_to_torch(p, "lstm")
    assert all(type(v) is np.ndarray for v in sd.values())
    back = labrnn.move(convert.stacked_from_torch(sd, "lstm"), xp=strict, device=dev)
    x = labrnn.from_numpy(np.random.default_rng(0).standard_normal((5, 2, D)), xp=strict, device=dev)
    y1 = stacked_forward(x, p, cell="lstm", bidirectional=True)[0]
    y2 = stacked_forward(x, back, cell="lstm", bidirectional=True)[0]
    assert labrnn.device_of(y2) == dev
    assert np.array_equal(labrnn.to_numpy(y1), labrnn.to_numpy(y2))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_states_round_trip_through_pytorchs_layout(cell, bidirectional):
    p = _stack(cell, bidirectional)
    x = np.random.default_rng(1).standard_normal((5, 2, D))
    _, states, _ = stacked_forward(x, p, cell=cell, bidirectional=bidirectional)
    torch_st = convert.states_to_torch(states, cell, bidirectional=bidirectional)
    h_n = torch_st[0] if cell == "lstm" else torch_st
    assert h_n.shape == (L * (1 + bidirectional), 2, H)
    # rows: layer 0 forward, layer 0 backward, layer 1 forward, ...
    last = states[-1][1] if bidirectional else states[-1]        # a state tuple, h first
    assert np.array_equal(h_n[-1], last[0])
    if cell == "lstm":
        assert np.array_equal(torch_st[1][-1], last[1])
    back = convert.states_from_torch(*(torch_st if cell == "lstm" else (torch_st,)),
                                     bidirectional=bidirectional)
    assert len(back) == L
    assert all(isinstance(s, tuple) for s in (back[0] if bidirectional else back))
    for a, b in zip(back, states):
        assert np.array_equal(np.asarray(a), np.asarray(b))     # nested pairs stack alike


# ---------------------------------------------------------------- Keras
def keras_layer(cell, x, w, state=None, reset="after"):
    """One Keras layer (``return_sequences=True``) from its get_weights() list, time-major."""
    B, Hk = x.shape[1], w[1].shape[0]
    h0 = np.zeros((B, Hk)) if state is None else state
    if cell == "elman":
        return keras_simple_rnn(x, h0, *w)
    if cell == "lstm":
        h, c = (h0, np.zeros((B, Hk))) if state is None else state
        return keras_lstm(x, h, c, *w)
    return keras_gru(x, h0, *w, reset == "after")


def keras_bidirectional(cell, x, w, merge="concat", state=(None, None), reset="after"):
    """Keras' Bidirectional.call: the backward layer reads x reversed, its outputs flipped back."""
    n = len(w) // 2
    y = keras_layer(cell, x, w[:n], state[0], reset)
    y_rev = keras_layer(cell, x[::-1], w[n:], state[1], reset)[::-1]
    return np.concatenate([y, y_rev], axis=-1) if merge == "concat" else y + y_rev


def _keras_weights(cell, D_in, Hk, rng, reset="after"):
    k = K[cell]
    bias = (2, 3 * Hk) if cell == "gru" and reset == "after" else (k * Hk,)
    return [0.6 * rng.standard_normal((D_in, k * Hk)), 0.6 * rng.standard_normal((Hk, k * Hk)),
            0.6 * rng.standard_normal(bias)]


VARIANTS = [("elman", "after"), ("lstm", "after"), ("gru", "after"), ("gru", "before")]


@pytest.mark.parametrize("merge", ["concat", "sum"])
@pytest.mark.parametrize("cell,reset", VARIANTS)
def test_keras_bidirectional_weights_mean_the_same_network(cell, reset, merge):
    rng = np.random.default_rng(7)
    w = _keras_weights(cell, D, H, rng, reset) + _keras_weights(cell, D, H, rng, reset)
    x = rng.standard_normal((6, 2, D))
    if cell == "lstm":
        s = [(rng.standard_normal((2, H)), rng.standard_normal((2, H))) for _ in range(2)]
    else:
        s = [rng.standard_normal((2, H)) for _ in range(2)]
    p = convert.bidirectional_from_keras(w, cell, reset=reset)
    state0 = tuple(st if cell == "lstm" else (st,) for st in s)      # state tuples per direction
    ours = bidirectional_forward(x, p, state0, cell=cell, merge=merge)[0]
    ref = keras_bidirectional(cell, x, w, merge, tuple(s), reset)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell,reset", VARIANTS)
def test_keras_stack_weights_mean_the_same_network(cell, reset, bidirectional):
    rng = np.random.default_rng(8)
    sizes, d_in, layers = (5, 3, 4), D, []                  # units may differ per layer
    for h in sizes:
        w = _keras_weights(cell, d_in, h, rng, reset)
        layers.append(w + _keras_weights(cell, d_in, h, rng, reset) if bidirectional else w)
        d_in = 2 * h if bidirectional else h
    x = rng.standard_normal((5, 2, D))
    ref = x
    for w in layers:
        ref = (keras_bidirectional(cell, ref, w, reset=reset) if bidirectional
               else keras_layer(cell, ref, w, reset=reset))
    p = convert.stacked_from_keras(layers, cell, reset=reset)
    ours = stacked_forward(x, p, cell=cell, bidirectional=bidirectional)[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cell,reset", VARIANTS)
def test_keras_bidirectional_and_stack_round_trips_are_exact(cell, reset):
    kw = {"reset": reset} if cell == "gru" else {}
    p = _rand(labrnn.init_bidirectional(cell, D, H, seed=4, **kw), 4)
    w = convert.bidirectional_to_keras(p, cell)
    assert len(w) == 6 and w[0].shape == (D, K[cell] * H)
    _assert_equal_dicts(convert.bidirectional_from_keras(w, cell, reset=reset), p)
    for bi in (False, True):
        p = _stack(cell, bi, seed=5, **kw)
        layers = convert.stacked_to_keras(p, cell)
        assert len(layers) == L and all(len(w) == (6 if bi else 3) for w in layers)
        _assert_equal_dicts(convert.stacked_from_keras(layers, cell, reset=reset), p)
    # Keras -> labrnn -> Keras, canonical biases (Keras' recurrent z, r biases zero)
    rng = np.random.default_rng(6)
    w = _keras_weights(cell, D, H, rng, reset) + _keras_weights(cell, D, H, rng, reset)
    if cell == "gru" and reset == "after":
        w[2][1, :2 * H] = w[5][1, :2 * H] = 0.0
    back = convert.bidirectional_to_keras(convert.bidirectional_from_keras(w, cell, reset), cell)
    assert all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(back, w))


# ---------------------------------------------------------------- errors
def test_missing_and_unknown_torch_keys_are_named():
    sd = _torch_sd("lstm", 2, True)
    del sd["weight_hh_l1_reverse"]
    with pytest.raises(KeyError, match=r"state_dict is missing \['weight_hh_l1_reverse'\]: its "
                                       r"keys say num_layers=2, bidirectional=True, bias=True"):
        convert.stacked_from_torch(sd, "lstm")
    sd = _torch_sd("lstm", 2, False)
    del sd["bias_ih_l1"]
    with pytest.raises(KeyError, match=r"missing \['bias_ih_l1'\]"):
        convert.stacked_from_torch(sd, "lstm")
    sd = _torch_sd("lstm", 1, False)
    sd["weight_hr_l0"] = np.zeros((4 * H, 2))
    with pytest.raises(ValueError, match=r"keys \['weight_hr_l0'\].*proj_size > 0"):
        convert.stacked_from_torch(sd, "lstm")
    sd = {f"rnn.{k}": v for k, v in _torch_sd("gru", 1, False).items()}
    with pytest.raises(ValueError, match=r"'rnn.bias_hh_l0'.*strip the prefix"):
        convert.stacked_from_torch(sd, "gru")
    with pytest.raises(KeyError, match="state_dict is empty"):
        convert.stacked_from_torch({}, "gru")
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        convert.torch_layout([1])


def test_wrong_torch_shapes_in_deeper_layers_name_key_received_and_expected():
    sd = _torch_sd("lstm", 2, True)
    sd["weight_ih_l1"] = sd["weight_ih_l1"][:, :H]          # as if the directions were summed
    with pytest.raises(ValueError, match=r"state_dict\['weight_ih_l1'\] must have shape "
                                         r"\(4H=16, 2H=8\), received \(16, 4\)"):
        convert.stacked_from_torch(sd, "lstm")
    sd = _torch_sd("gru", 1, True)
    sd["weight_hh_l0_reverse"] = np.zeros((9, 3))
    with pytest.raises(ValueError, match=r"state_dict\['weight_hh_l0_reverse'\] must have shape "
                                         r"\(3H=12, H=4\), received \(9, 3\)"):
        convert.bidirectional_from_torch(sd, "gru")
    sd = _torch_sd("elman", 1, True)
    sd["weight_ih_l0_reverse"] = np.zeros((H, D + 1))
    with pytest.raises(ValueError, match=r"'weight_ih_l0_reverse'\] must have shape \(H=4, D=3\), "
                                         r"received \(4, 4\)"):
        convert.stacked_from_torch(sd, "elman")
    with pytest.raises(ValueError, match=r"state_dict\['weight_hh_l0'\] must have shape "
                                         r"\(4H=16, H=4\), received \(12, 4\)"):
        convert.stacked_from_torch(_torch_sd("gru", 2, False), "lstm")


def test_layout_and_cell_mismatches():
    with pytest.raises(ValueError, match=r"one-layer bidirectional module, received "
                                         r"num_layers=2, bidirectional=True.*stacked_from_torch"):
        convert.bidirectional_from_torch(_torch_sd("gru", 2, True), "gru")
    with pytest.raises(ValueError, match=r"cell must be one of \['elman', 'lstm', 'gru'\] to "
                                         r"convert to or from PyTorch, received 'lnlstm'"):
        convert.stacked_from_torch(_torch_sd("lstm", 1, False), "lnlstm")
    with pytest.raises(ValueError, match=r"received 'rnn'"):
        convert.stacked_to_keras(_stack("elman", False), "rnn")
    with pytest.raises(KeyError, match=r"'fw\.\*' and 'bw\.\*'.*none under \['bw.'\]"):
        convert.bidirectional_to_torch({"fw.W_x": np.zeros((4, 3))}, "lstm")


def test_labrnn_stacks_pytorch_cannot_hold_are_refused_with_the_layer_named():
    p = init_stacked("lstm", D, [4, 5], 2)
    with pytest.raises(ValueError, match=r"layer 1 \(params 'l1.\*'\): hidden size 5, but layer 0 "
                                         r"has 4; a PyTorch recurrent module has one hidden_size"):
        convert.stacked_to_torch(p, "lstm")
    p = init_stacked("gru", D, H, 2, bidirectional=True, merge="sum")
    with pytest.raises(ValueError, match=r"layer 1, direction 'fw' \(params 'l1.fw.\*'\): reads 4 "
                                         r"features, but PyTorch feeds layer 1 the concatenated "
                                         r"outputs of layer 0, 8 features; these params are a "
                                         r"merge='sum' stack"):
        convert.stacked_to_torch(p, "gru")
    p = init_stacked("lstm", D, H, 2, peephole=True)
    with pytest.raises(ValueError, match=r"layer 0 \(params 'l0.\*'\): PyTorch nn.LSTM has no "
                                         r"peephole connections"):
        convert.stacked_to_torch(p, "lstm")
    p = init_stacked("gru", D, H, 2, bidirectional=True, reset="before")
    with pytest.raises(ValueError, match=r"layer 0, direction 'fw'.*reset='before' GRU"):
        convert.stacked_to_torch(p, "gru")
    p = _stack("lstm", False)
    p["l1.W_x"] = p["l1.W_x"][:, :2]
    with pytest.raises(ValueError, match=r"layer 1 \(params 'l1.\*'\): reads 2 features, but "
                                         r"PyTorch feeds layer 1 the outputs of layer 0, 4 features"):
        convert.stacked_to_torch(p, "lstm")
    p = {**_stack("elman", False), **labrnn.paramtree.with_prefix(
        "l3.", labrnn.init_bidirectional("elman", H, H))}
    with pytest.raises(ValueError, match="mixes bidirectional and unidirectional layers"):
        convert.stacked_to_torch(p, "elman")


def test_keras_weight_lists_of_the_wrong_length_or_shape():
    rng = np.random.default_rng(0)
    w = _keras_weights("lstm", D, H, rng) + _keras_weights("lstm", D, H, rng)
    with pytest.raises(ValueError, match=r"forward layer's kernel.*6 or 4 arrays, received 5"):
        convert.bidirectional_from_keras(w[:5], "lstm")
    bad = w[:3] + [w[3].T] + w[4:]
    with pytest.raises(ValueError, match=r"backward layer \(weights\[3:6\]\): weights\['kernel'\] "
                                         r"must have shape \(D, 4H=16\), received \(16, 3\)"):
        convert.bidirectional_from_keras(bad, "lstm")
    with pytest.raises(TypeError, match="weights must be the list Bidirectional"):
        convert.bidirectional_from_keras({"kernel": w[0]}, "lstm")
    with pytest.raises(ValueError, match=r"layers\[1\] is a Bidirectional layer but layers\[0\] "
                                         r"is not Bidirectional"):
        convert.stacked_from_keras([w[:3], w], "lstm")
    second = _keras_weights("lstm", 2 * H + 1, 3, rng)
    with pytest.raises(ValueError, match=r"layers\[1\]: its kernel reads D=9 features, but "
                                         r"layers\[0\] outputs 4"):
        convert.stacked_from_keras([w[:3], second], "lstm")
    with pytest.raises(ValueError, match=r"layers\[1\]: its kernel reads D=9 features, but "
                                         r"layers\[0\] outputs 8 or 4 \(merge_mode 'concat' or "
                                         r"'sum'\)"):
        convert.stacked_from_keras([w, second + _keras_weights("lstm", 9, 3, rng)], "lstm")
    with pytest.raises(ValueError, match=r"layers\[0\] must be one layer's get_weights\(\) list.*"
                                         r"received 5 arrays"):
        convert.stacked_from_keras([w[:5]], "lstm")
    with pytest.raises(TypeError, match="layers must be a non-empty list"):
        convert.stacked_from_keras([], "lstm")
    with pytest.raises(ValueError, match=r"layers\[0\]: backward layer \(weights\[3:6\]\): "
                                         r"weights\['recurrent_kernel'\] must have shape "
                                         r"\(H=4, 3H=12\), received \(4, 16\)"):
        convert.stacked_from_keras([_keras_weights("gru", D, H, rng) + w[3:]], "gru")


def test_state_layout_errors():
    with pytest.raises(ValueError, match=r"h_n has 3 rows, not a multiple of num_directions=2"):
        convert.states_from_torch(np.zeros((3, 2, H)), bidirectional=True)
    with pytest.raises(ValueError, match=r"h_n must have shape \(num_layers\*num_directions, B, H\), "
                                         r"received \(2, 4\)"):
        convert.states_from_torch(np.zeros((2, H)))
    with pytest.raises(ValueError, match=r"c_n must have shape \(num_layers\*num_directions=2, "
                                         r"B=2, H=4\), received \(2, 2, 3\)"):
        convert.states_from_torch(np.zeros((2, 2, H)), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"states\[0\] must be the pair \(forward, backward\)"):
        convert.states_to_torch([(np.zeros((2, H)),)], "gru", bidirectional=True)
    with pytest.raises(TypeError, match=r"states\[0\] must hold the state tuple of 'lstm' per "
                                        r"direction \(2 array\(s\)\), received ndarray"):
        convert.states_to_torch([np.zeros((2, H))], "lstm")
    with pytest.raises(TypeError, match=r"states\[0\] must hold the state tuple of 'gru' per "
                                        r"direction \(1 array\(s\)\), received ndarray"):
        convert.states_to_torch([np.zeros((2, H))], "gru")
    with pytest.raises(TypeError, match="states must be the non-empty list"):
        convert.states_to_torch([], "lstm")
