"""labrnn.convert: PyTorch and Keras weight layouts, round trips, gate orders and errors.

Keras is not installed for the tests: its cells are transcribed below in NumPy from
Keras' own ``SimpleRNNCell``, ``LSTMCell`` and ``GRUCell.call`` (kernel ``(D, kH)``, gate
blocks i, f, c, o and z, r, h, ``h = z * h_tm1 + (1 - z) * hh``), so the converted
weights are checked for meaning, not only for a lossless round trip. PyTorch's
semantics are checked against its own numbers in ``test_reference_torch.py``.
"""

import numpy as np
import pytest

import labrnn
from labrnn import convert
from labrnn.cells.elman import init_elman, rnn_forward
from labrnn.cells.gru import gru_forward, init_gru
from labrnn.cells.lstm import init_lstm, lstm_forward

D, H = 3, 4


def _rand(p, seed=0):
    rng = np.random.default_rng(seed)
    return {k: v + 0.4 * rng.standard_normal(v.shape) for k, v in p.items()}


def _params(cell, seed=0):
    return _rand({"rnn": lambda: init_elman(D, H, seed=seed),
                  "lstm": lambda: init_lstm(D, H, seed=seed),
                  "gru": lambda: init_gru(D, H, seed=seed, reset="after"),
                  "gru_before": lambda: init_gru(D, H, seed=seed, reset="before")}[cell](), seed)


TORCH = {"rnn": (convert.elman_to_torch, convert.elman_from_torch, 1),
         "lstm": (convert.lstm_to_torch, convert.lstm_from_torch, 4),
         "gru": (convert.gru_to_torch, convert.gru_from_torch, 3)}
KERAS = {"rnn": (convert.elman_to_keras, convert.elman_from_keras),
         "lstm": (convert.lstm_to_keras, convert.lstm_from_keras),
         "gru": (lambda p: convert.gru_to_keras(p, reset="after"),
                 lambda w: convert.gru_from_keras(w, reset="after")),
         "gru_before": (lambda p: convert.gru_to_keras(p, reset="before"),
                        lambda w: convert.gru_from_keras(w, reset="before"))}


def _torch_dict(k, seed=0, canonical=False):
    """A random PyTorch-layout state dict; ``canonical``: the redundant recurrent biases are 0."""
    rng = np.random.default_rng(seed)
    sd = {"weight_ih_l0": rng.standard_normal((k * H, D)),
          "weight_hh_l0": rng.standard_normal((k * H, H)),
          "bias_ih_l0": rng.standard_normal(k * H), "bias_hh_l0": rng.standard_normal(k * H)}
    if canonical:
        sd["bias_hh_l0"][:(2 * H if k == 3 else k * H)] = 0.0
    return sd


def _assert_equal_dicts(a, b):
    assert list(a) == list(b)
    for k in a:
        assert isinstance(a[k], np.ndarray) and a[k].dtype == b[k].dtype
        assert np.array_equal(a[k], b[k]), k


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_labrnn_torch_labrnn_is_exact(cell):
    to, frm, _ = TORCH[cell]
    p = _params(cell)
    sd = to(p)
    assert list(sd) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    _assert_equal_dicts(frm(sd), p)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_torch_labrnn_torch_is_exact_in_canonical_form_and_keeps_bias_sums(cell):
    to, frm, k = TORCH[cell]
    sd = _torch_dict(k, canonical=True)
    _assert_equal_dicts(to(frm(sd)), sd)
    sd = _torch_dict(k, seed=1)                    # both biases random: only their split moves
    back = to(frm(sd))
    for key in ("weight_ih_l0", "weight_hh_l0"):
        assert np.array_equal(back[key], sd[key])
    assert np.array_equal(back["bias_ih_l0"] + back["bias_hh_l0"], sd["bias_ih_l0"] + sd["bias_hh_l0"])
    if cell == "gru":                              # the candidate's two biases are kept apart
        assert np.array_equal(back["bias_hh_l0"][2 * H:], sd["bias_hh_l0"][2 * H:])
        assert np.array_equal(back["bias_ih_l0"][2 * H:], sd["bias_ih_l0"][2 * H:])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru_before"])
def test_labrnn_keras_labrnn_is_exact(cell):
    to, frm = KERAS[cell]
    p = _params(cell)
    w = to(p)
    assert isinstance(w, list) and len(w) == 3
    _assert_equal_dicts(frm(w), p)
    _assert_equal_dicts(frm(dict(zip(["kernel", "recurrent_kernel", "bias"], w))), p)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru_before"])
def test_keras_labrnn_keras_is_exact(cell):
    to, frm = KERAS[cell]
    rng = np.random.default_rng(3)
    k = {"rnn": 1, "lstm": 4}.get(cell, 3)
    bias_shape = (2, 3 * H) if cell == "gru" else (k * H,)
    w = [rng.standard_normal((D, k * H)), rng.standard_normal((H, k * H)),
         rng.standard_normal(bias_shape)]
    if cell == "gru":
        w[2][1, :2 * H] = 0.0                      # canonical: Keras' recurrent z, r biases zero
    back = to(frm(w))
    for a, b in zip(back, w):
        assert a.shape == b.shape and np.array_equal(a, b)


def test_keras_gru_reset_after_general_biases_keep_sums_and_candidate_biases():
    rng = np.random.default_rng(4)
    w = [rng.standard_normal((D, 3 * H)), rng.standard_normal((H, 3 * H)),
         rng.standard_normal((2, 3 * H))]
    back = convert.gru_to_keras(convert.gru_from_keras(w))
    assert np.array_equal(back[2][0] + back[2][1], w[2][0] + w[2][1])
    assert np.array_equal(back[2][:, 2 * H:], w[2][:, 2 * H:])


def test_converters_take_backend_arrays_and_return_numpy():
    strict = pytest.importorskip("array_api_strict")
    dev = strict.Device("device1")
    p = init_lstm(D, H, seed=0, xp=strict, device=dev)
    sd = convert.lstm_to_torch(p)
    assert all(type(v) is np.ndarray for v in sd.values())
    back = labrnn.move(convert.lstm_from_torch(sd), xp=strict, device=dev)
    for k in p:
        assert labrnn.device_of(back[k]) == dev
        assert np.array_equal(labrnn.to_numpy(back[k]), labrnn.to_numpy(p[k]))
    # and the converted arrays are copies, never views of the input
    host = init_lstm(D, H, seed=0)
    out = convert.lstm_to_keras(host)
    assert not any(np.shares_memory(a, b) for a in out for b in host.values())


def test_torch_bias_false_converts_with_zero_biases():
    sd = _torch_dict(4)
    del sd["bias_ih_l0"], sd["bias_hh_l0"]
    p = convert.lstm_from_torch(sd)
    assert np.array_equal(p["b"], np.zeros(4 * H))


# ---------------------------------------------------------------- Keras semantics
def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def keras_simple_rnn(x, h, kernel, rec, bias):
    out = []
    for x_t in x:
        h = np.tanh(x_t @ kernel + bias + h @ rec)
        out.append(h)
    return np.stack(out)


def keras_lstm(x, h, c, kernel, rec, bias):
    out = []
    for x_t in x:
        z0, z1, z2, z3 = np.split(x_t @ kernel + h @ rec + bias, 4, axis=-1)
        i, f, o = _sig(z0), _sig(z1), _sig(z3)
        c = f * c + i * np.tanh(z2)
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out)


def keras_gru(x, h, kernel, rec, bias, reset_after):
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    out = []
    for x_t in x:
        x_z, x_r, x_h = np.split(x_t @ kernel + b_in, 3, axis=-1)
        if reset_after:
            rec_z, rec_r, rec_h = np.split(h @ rec + b_rec, 3, axis=-1)
            z, r = _sig(x_z + rec_z), _sig(x_r + rec_r)
            hh = np.tanh(x_h + r * rec_h)
        else:
            H_ = h.shape[-1]
            z, r = _sig(x_z + h @ rec[:, :H_]), _sig(x_r + h @ rec[:, H_:2 * H_])
            hh = np.tanh(x_h + (r * h) @ rec[:, 2 * H_:])
        h = z * h + (1 - z) * hh                   # Keras: z keeps the previous state
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru_before"])
def test_keras_weights_mean_the_same_network(cell):
    rng = np.random.default_rng(5)
    k = {"rnn": 1, "lstm": 4}.get(cell, 3)
    w = [0.6 * rng.standard_normal((D, k * H)), 0.6 * rng.standard_normal((H, k * H)),
         0.6 * rng.standard_normal((2, 3 * H) if cell == "gru" else (k * H,))]
    x, h0, c0 = rng.standard_normal((5, 2, D)), rng.standard_normal((2, H)), rng.standard_normal((2, H))
    p = KERAS[cell][1](w)
    if cell == "rnn":
        ours, ref = rnn_forward(x, p, (h0,))[0], keras_simple_rnn(x, h0, *w)
    elif cell == "lstm":
        ours, ref = lstm_forward(x, p, (h0, c0))[0], keras_lstm(x, h0, c0, *w)
    else:
        reset = "after" if cell == "gru" else "before"
        ours, ref = gru_forward(x, p, (h0,), reset=reset)[0], keras_gru(x, h0, *w, reset == "after")
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------- errors
def test_wrong_torch_shapes_name_key_received_and_expected():
    sd = _torch_dict(3)                                     # a GRU state dict ...
    with pytest.raises(ValueError, match=r"state_dict\['weight_hh_l0'\] must have shape "
                                         r"\(4H=16, H=4\), received \(12, 4\)"):
        convert.lstm_from_torch(sd)                         # ... given to the LSTM converter
    sd = _torch_dict(4)
    sd["weight_ih_l0"] = sd["weight_ih_l0"][:15]
    with pytest.raises(ValueError, match=r"state_dict\['weight_ih_l0'\] must have shape "
                                         r"\(4H=16, D\), received \(15, 3\)"):
        convert.lstm_from_torch(sd)
    sd = _torch_dict(1)
    sd["bias_hh_l0"] = sd["bias_hh_l0"][:3]
    with pytest.raises(ValueError, match=r"state_dict\['bias_hh_l0'\] must have shape "
                                         r"\(H=4,\), received \(3,\)"):
        convert.elman_from_torch(sd)


def test_torch_dicts_with_missing_or_extra_keys():
    sd = _torch_dict(3)
    del sd["weight_hh_l0"]
    with pytest.raises(KeyError, match=r"missing \['weight_hh_l0'\]"):
        convert.gru_from_torch(sd)
    sd = _torch_dict(3)
    sd["weight_ih_l1"] = sd["weight_ih_l0"]
    with pytest.raises(ValueError, match=r"keys \['weight_ih_l1'\].*single-layer"):
        convert.gru_from_torch(sd)
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        convert.gru_from_torch([1, 2])


def test_wrong_keras_shapes_name_key_received_and_expected():
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)]
    with pytest.raises(ValueError, match=r"weights\['recurrent_kernel'\] must have shape "
                                         r"\(H=4, 3H=12\), received \(4, 16\)"):
        convert.gru_from_keras(w)
    w[0] = w[0].T
    with pytest.raises(ValueError, match=r"weights\['kernel'\] must have shape \(D, 4H=16\), "
                                         r"received \(16, 3\)"):
        convert.lstm_from_keras(w)
    w = convert.gru_to_keras(_params("gru_before"), reset="before")
    with pytest.raises(ValueError, match=r"weights\['bias'\] must have shape \(rows=2, 3H=12\), "
                                         r"received \(12,\).*GRU\(reset_after=False\) convert "
                                         r"with reset='before'"):
        convert.gru_from_keras(w, reset="after")
    with pytest.raises(ValueError, match=r"received 4 arrays"):
        convert.lstm_from_keras(w + [w[0]])


def test_labrnn_params_with_wrong_shapes_are_rejected():
    p = _params("lstm")
    p["W_x"] = p["W_x"][:, :2].T
    with pytest.raises(ValueError, match=r"params\['W_x'\] of an lstm cell with H=4 units must "
                                         r"have shape \(16, D\), received \(2, 16\)"):
        convert.lstm_to_torch(p)


def test_cells_without_a_counterpart_raise():
    with pytest.raises(ValueError, match="PyTorch nn.LSTM has no peephole connections"):
        convert.lstm_to_torch(init_lstm(D, H, seed=0, peephole=True))
    with pytest.raises(ValueError, match="Keras LSTM has no peephole connections"):
        convert.lstm_to_keras(init_lstm(D, H, seed=0, peephole=True))
    with pytest.raises(ValueError, match=r"nn.GRU implements only the reset='after' variant"):
        convert.gru_to_torch(init_gru(D, H, seed=0, reset="before"))
    with pytest.raises(ValueError, match="unknown GRU variant"):
        convert.gru_from_keras([np.zeros((D, 3 * H)), np.zeros((H, 3 * H))], reset="sideways")
