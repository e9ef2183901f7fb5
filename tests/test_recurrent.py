"""Tests of labrnn.models.recurrent: the layer with return_sequences / return_state flags (chapter 3)."""

import numpy as np
import pytest

import labrnn
from labrnn import recurrent_backward, recurrent_forward
from labrnn.backend import from_numpy, to_numpy
from labrnn.errors import ShapeError

array_api_strict = pytest.importorskip("array_api_strict")

T, B, D, H = 5, 3, 2, 4
FLAGS = [(rs, st) for rs in (True, False) for st in (True, False)]


def _backends():
    yield "numpy", dict()
    yield "array_api_strict", dict(xp=array_api_strict)
    yield "array_api_strict:device1", dict(xp=array_api_strict,
                                            device=array_api_strict.Device("device1"))


BACKENDS = list(_backends())


def _problem(activation="tanh", seed=0, **where):
    """Inputs, initial state and parameters on one backend (identical numbers on all)."""
    rng = np.random.default_rng(seed)
    params = labrnn.init_elman(D, H, seed=seed, **where)
    # a non-zero bias and a ReLU-friendly input keep every unit active somewhere
    params["b_h"] = from_numpy(rng.normal(0, 0.1, H), like=params["W_xh"])
    x = from_numpy(rng.normal(size=(T, B, D)), like=params["W_xh"])
    h0 = from_numpy(rng.normal(0, 0.5, (B, H)), like=params["W_xh"])
    return x, h0, params


def _weights(rs, st, like, seed=1):
    """Fixed random weights R so that L = sum(R_out * out) + sum(R_state * state)."""
    rng = np.random.default_rng(seed)
    r_out = from_numpy(rng.normal(size=(T, B, H) if rs else (B, H)), like=like)
    r_state = from_numpy(rng.normal(size=(B, H)), like=like) if st else None
    return r_out, r_state


@pytest.mark.parametrize("rs,st", FLAGS)
@pytest.mark.parametrize("backend,where", BACKENDS, ids=[b for b, _ in BACKENDS])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradcheck_every_flag_combination(rs, st, backend, where, activation):
    x, h0, params = _problem(activation, **where)
    r_out, r_state = _weights(rs, st, like=x)
    xp = labrnn.namespace(x)

    def loss(inp):
        p = {k: inp[k] for k in ("W_xh", "W_hh", "b_h")}
        res = recurrent_forward(inp["x"], p, (inp["h0"],), activation=activation,
                                return_sequences=rs, return_state=st)
        value = xp.sum(res[0] * r_out)
        if st:
            value = value + xp.sum(res[1][0] * r_state)
        return value

    res = recurrent_forward(x, params, (h0,), activation=activation, return_sequences=rs,
                            return_state=st)
    dx, (dh0,), grads = recurrent_backward(r_out, res[-1],
                                           dstate_T=None if r_state is None else (r_state,))
    inputs = {"x": x, "h0": h0, **params}
    analytic = {"x": dx, "h0": dh0, **grads}
    report = labrnn.gradcheck(loss, inputs, analytic)
    report.assert_ok(1e-7)
    assert labrnn.device_of(dx) == labrnn.device_of(x)
    assert labrnn.device_of(grads["W_hh"]) == labrnn.device_of(x)


@pytest.mark.parametrize("backend,where", BACKENDS, ids=[b for b, _ in BACKENDS])
def test_state_only_gradient_as_an_encoder_uses_it(backend, where):
    """An encoder's only link to the loss is its final state: dout=None."""
    x, h0, params = _problem(**where)
    _, r_state = _weights(False, True, like=x)
    xp = labrnn.namespace(x)

    def loss(inp):
        _, (h_T,), _ = recurrent_forward(inp["x"], inp, (inp["h0"],), return_sequences=False,
                                         return_state=True)
        return xp.sum(h_T * r_state)

    _, _, cache = recurrent_forward(x, params, (h0,), return_sequences=False, return_state=True)
    dx, (dh0,), grads = recurrent_backward(None, cache, dstate_T=(r_state,))
    inputs = {"x": x, "h0": h0, **params}
    labrnn.gradcheck(loss, inputs, {"x": dx, "h0": dh0, **grads}).assert_ok(1e-7)


@pytest.mark.parametrize("rs,st", FLAGS)
def test_shapes_of_every_flag_combination(rs, st):
    x, h0, params = _problem()
    res = recurrent_forward(x, params, (h0,), return_sequences=rs, return_state=st)
    assert len(res) == (3 if st else 2)
    assert isinstance(res[-1], dict)
    assert res[0].shape == ((T, B, H) if rs else (B, H))
    if st:                                      # the state is a tuple: (h_T,) for Elman
        assert isinstance(res[1], tuple) and len(res[1]) == 1
        assert res[1][0].shape == (B, H)


@pytest.mark.parametrize("rs,st", FLAGS)
def test_outputs_are_the_states_of_rnn_forward(rs, st):
    x, h0, params = _problem()
    h, (h_T,), _ = labrnn.rnn_forward(x, params, (h0,))
    np.testing.assert_array_equal(h_T, h[-1])
    res = recurrent_forward(x, params, (h0,), return_sequences=rs, return_state=st)
    np.testing.assert_array_equal(res[0], h if rs else h[-1])
    if st:
        np.testing.assert_array_equal(res[1][0], h[-1])


def test_default_flags_and_h0_match_keras_defaults():
    x, _, params = _problem()
    out, cache = recurrent_forward(x, params)            # sequences on, state off
    h, _, _ = labrnn.rnn_forward(x, params)               # h0 = 0
    np.testing.assert_array_equal(out, h)
    assert cache["return_sequences"] is True and cache["return_state"] is False


def test_extra_parameters_such_as_an_output_layer_are_ignored():
    x, _, _ = _problem()
    params = labrnn.init_elman(D, H, O=2, seed=0)
    out, _ = recurrent_forward(x, params)
    assert out.shape == (T, B, H)


def test_numpy_and_array_api_strict_agree():
    x, h0, params = _problem()
    xs, h0s, ps = _problem(xp=array_api_strict, device=array_api_strict.Device("device1"))
    out, (state,), _ = recurrent_forward(x, params, (h0,), return_state=True)
    outs, (states,), _ = recurrent_forward(xs, ps, (h0s,), return_state=True)
    np.testing.assert_allclose(to_numpy(outs), out, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(to_numpy(states), state, rtol=1e-13, atol=1e-14)


def test_backward_of_sequence_and_last_only_agree_when_only_the_last_step_counts():
    x, h0, params = _problem()
    g = np.random.default_rng(3).normal(size=(B, H))
    _, c_last = recurrent_forward(x, params, (h0,), return_sequences=False)
    _, c_seq = recurrent_forward(x, params, (h0,), return_sequences=True)
    dseq = np.zeros((T, B, H))
    dseq[-1] = g
    a = recurrent_backward(g, c_last)
    b = recurrent_backward(dseq, c_seq)
    np.testing.assert_allclose(a[0], b[0])
    assert isinstance(a[1], tuple) and len(a[1]) == len(b[1]) == 1
    np.testing.assert_allclose(a[1][0], b[1][0])
    for k in a[2]:
        np.testing.assert_allclose(a[2][k], b[2][k])


# ---- error messages -------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["return_sequences", "return_state"])
@pytest.mark.parametrize("bad", ["False", 1, 0, None, [True]])
def test_non_boolean_flags_are_refused_with_the_flag_named(flag, bad):
    x, _, params = _problem()
    with pytest.raises(TypeError, match=rf"{flag} must be True or False, received"):
        recurrent_forward(x, params, **{flag: bad})


def test_numpy_booleans_are_accepted():
    x, _, params = _problem()
    out, (h_T,), _ = recurrent_forward(x, params, return_sequences=np.bool_(False),
                                       return_state=np.bool_(True))
    assert out.shape == (B, H) and h_T.shape == (B, H)


def test_unknown_keyword_is_a_type_error():
    x, _, params = _problem()
    with pytest.raises(TypeError):
        recurrent_forward(x, params, return_sequence=False)      # typo: missing "s"


def test_dout_of_the_wrong_shape_names_the_flag():
    x, _, params = _problem()
    _, cache = recurrent_forward(x, params, return_sequences=False)
    with pytest.raises(ShapeError, match=r"dout must have shape \(B=3, H=4\), received "
                                         r"\(5, 3, 4\) \(the forward pass had "
                                         r"return_sequences=False\)"):
        recurrent_backward(np.ones((T, B, H)), cache)
    _, cache = recurrent_forward(x, params, return_sequences=True)
    with pytest.raises(ShapeError, match=r"return_sequences=True"):
        recurrent_backward(np.ones((B, H)), cache)


def test_dstate_without_return_state_is_refused():
    x, _, params = _problem()
    out, cache = recurrent_forward(x, params)
    with pytest.raises(ValueError, match="dstate_T was given, but the forward pass had "
                                         "return_state=False"):
        recurrent_backward(np.ones((T, B, H)), cache, dstate_T=(np.ones((B, H)),))


def test_dstate_of_the_wrong_shape():
    x, _, params = _problem()
    _, _, cache = recurrent_forward(x, params, return_state=True)
    with pytest.raises(ShapeError, match=r"dstate_T\[0\] \(h\) must have shape \(B=3, H=4\), "
                                         r"received \(3, 5\)"):
        recurrent_backward(None, cache, dstate_T=(np.ones((B, H + 1)),))


@pytest.mark.parametrize("rs", [True, False])
def test_a_bare_state_array_is_refused_with_the_tuple_named(rs):
    x, h0, params = _problem()
    with pytest.raises(TypeError, match=r"state0 of an elman cell must be the tuple \(h,\) of "
                                        r"\(B, H\) arrays, received a single array of shape "
                                        r"\(3, 4\); wrap the array: state0=\(h,\)"):
        recurrent_forward(x, params, h0)
    _, _, cache = recurrent_forward(x, params, return_sequences=rs, return_state=True)
    with pytest.raises(TypeError, match=r"dstate_T of an elman cell must be the tuple \(h,\) "
                                        r".* received a single array of shape \(3, 4\)"):
        recurrent_backward(None, cache, dstate_T=np.ones((B, H)))


def test_nothing_to_backpropagate():
    x, _, params = _problem()
    _, cache = recurrent_forward(x, params)
    with pytest.raises(ValueError, match="nothing to backpropagate"):
        recurrent_backward(None, cache)


def test_a_foreign_cache_is_refused():
    x, _, params = _problem()
    _, _, rnn_cache = labrnn.rnn_forward(x, params)
    with pytest.raises(TypeError, match="cache must be the last value returned by "
                                        "recurrent_forward"):
        recurrent_backward(np.ones((T, B, H)), rnn_cache)


def test_gradient_on_another_device_is_refused():
    x, _, params = _problem(xp=array_api_strict, device=array_api_strict.Device("device1"))
    _, cache = recurrent_forward(x, params)
    dout = array_api_strict.ones((T, B, H), dtype=array_api_strict.float64)   # CPU_DEVICE
    with pytest.raises(labrnn.DeviceError, match="dout"):
        recurrent_backward(dout, cache)


def test_input_errors_come_from_the_cell():
    _, _, params = _problem()
    with pytest.raises(ShapeError, match=r"x must be a time-major sequence of shape \(T, B, D\), "
                                         r"received a single array of shape \(3, 2\)"):
        recurrent_forward(np.ones((B, D)), params)


# ---- one-to-many: one vector starts generation ----------------------------------------

@pytest.mark.parametrize("mode", ["first", "repeat"])
@pytest.mark.parametrize("cell", ["elman", "gru", "lstm"])
@pytest.mark.parametrize("backend,where", BACKENDS, ids=[b for b, _ in BACKENDS])
def test_one_to_many_gradcheck(mode, cell, backend, where):
    """v (B, D) -> x (T, B, D) -> outputs (T, B, H): the whole composition, gradients of v too."""
    from labrnn import one_to_many_inputs, one_to_many_inputs_backward
    from labrnn.cells import init_cell
    params = init_cell(cell, D, H, seed=2, **where)
    like = params["W_xh" if cell == "elman" else "W_x"]
    rng = np.random.default_rng(4)
    v = from_numpy(rng.normal(size=(B, D)), like=like)
    r = from_numpy(rng.normal(size=(T, B, H)), like=like)
    xp = labrnn.namespace(v)

    def loss(inp):
        p = {k: inp[k] for k in params}
        x, _ = one_to_many_inputs(inp["v"], T, mode)
        return xp.sum(recurrent_forward(x, p, cell=cell)[0] * r)

    x, ocache = one_to_many_inputs(v, T, mode)
    assert x.shape == (T, B, D) and labrnn.device_of(x) == labrnn.device_of(v)
    out, cache = recurrent_forward(x, params, cell=cell)
    dx, _, grads = recurrent_backward(r, cache)
    dv = one_to_many_inputs_backward(dx, ocache)
    assert labrnn.device_of(dv) == labrnn.device_of(v)
    # the cells' own gradients are checked elsewhere: all of them on numpy, v and W_x on strict
    names = None if backend == "numpy" else ["v", "W_xh" if cell == "elman" else "W_x"]
    labrnn.gradcheck(loss, {"v": v, **params}, {"v": dv, **grads}, names=names).assert_ok(1e-7)


def test_one_to_many_inputs_values():
    from labrnn import one_to_many_inputs
    v = np.arange(6.0).reshape(2, 3)
    x, _ = one_to_many_inputs(v, 4)
    np.testing.assert_array_equal(x[0], v)
    assert np.all(x[1:] == 0.0)
    x, _ = one_to_many_inputs(v, 4, mode="repeat")
    for t in range(4):
        np.testing.assert_array_equal(x[t], v)
    x, _ = one_to_many_inputs(v, 1, mode="first")
    assert x.shape == (1, 2, 3)


def test_one_to_many_errors():
    from labrnn import one_to_many_inputs, one_to_many_inputs_backward
    v = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"T must be an integer >= 1 .* received 0"):
        one_to_many_inputs(v, 0)
    with pytest.raises(ValueError, match=r"T must be an integer >= 1"):
        one_to_many_inputs(v, True)
    with pytest.raises(ShapeError, match=r"v must have shape \(B, D\).* received \(3,\)"):
        one_to_many_inputs(np.zeros(3), 4)
    with pytest.raises(ValueError, match=r"unknown mode 'last'; choose one of \['first', "
                                         r"'repeat'\]"):
        one_to_many_inputs(v, 4, mode="last")
    _, cache = one_to_many_inputs(v, 4)
    with pytest.raises(ValueError, match="dx"):
        one_to_many_inputs_backward(np.zeros((3, 2, 3)), cache)
    with pytest.raises(TypeError, match="one_to_many_inputs"):
        one_to_many_inputs_backward(np.zeros((4, 2, 3)), {"layer": "stacked"})
