"""labrnn.cells.elman: the Elman step and sequence, forward against a NumPy reference and
backward against float64 central differences, on every backend."""

import numpy as np
import pytest

import labrnn

ACTS = ["tanh", "relu", "sigmoid", "identity"]
NP_ACT = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0),
          "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)), "identity": lambda a: a}


def _problem(backend, T=4, B=3, D=3, H=4, seed=0):
    """Host and backend data of one small problem; ``b_h`` is non-zero on purpose."""
    rng = np.random.default_rng(seed)
    p = labrnn.init_elman(D, H, seed=seed)
    p["b_h"] = 0.3 * rng.standard_normal(H)
    host = {"x": rng.standard_normal((T, B, D)), "h0": 0.5 * rng.standard_normal((B, H)), **p}
    return host, {k: backend.asarray(v) for k, v in host.items()}


def _np_forward(host, act):
    """The book's equation rnn-state written out in plain NumPy; returns (h, pre-activations)."""
    f = NP_ACT[act]
    h, hs, pre = host["h0"], [], []
    for x_t in host["x"]:
        a = x_t @ host["W_xh"].T + h @ host["W_hh"].T + host["b_h"]
        h = f(a)
        hs.append(h)
        pre.append(a)
    return np.stack(hs), np.stack(pre)


def _params(d):
    return {k: d[k] for k in ("W_xh", "W_hh", "b_h")}


def _assert_away_from_relu_kink(host, act):
    # central differences across the kink of ReLU would be meaningless
    if act == "relu":
        _, pre = _np_forward(host, act)
        assert np.min(np.abs(pre)) > 1e-3, "test data too close to ReLU's kink: pick another seed"


@pytest.mark.parametrize("act", ACTS)
def test_rnn_forward_matches_numpy_reference(backend, act):
    host, inp = _problem(backend)
    h, (h_T,), _ = labrnn.rnn_forward(inp["x"], _params(inp), (inp["h0"],), activation=act)
    assert backend.on_this_device(h)
    assert tuple(h.shape) == (4, 3, 4)
    np.testing.assert_allclose(backend.to_numpy(h), _np_forward(host, act)[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(backend.to_numpy(h_T), backend.to_numpy(h[-1, ...]))


def test_rnn_forward_default_h0_is_zero(backend):
    host, inp = _problem(backend)
    zeros = backend.asarray(np.zeros((3, 4)))
    h_default, _, _ = labrnn.rnn_forward(inp["x"], _params(inp))
    h_zero, _, _ = labrnn.rnn_forward(inp["x"], _params(inp), (zeros,))
    np.testing.assert_array_equal(backend.to_numpy(h_default), backend.to_numpy(h_zero))
    # and the initial state matters when it is not zero
    h_h0, _, _ = labrnn.rnn_forward(inp["x"], _params(inp), (inp["h0"],))
    assert not np.allclose(backend.to_numpy(h_h0), backend.to_numpy(h_zero))


@pytest.mark.parametrize("act", ACTS)
def test_rnn_step_gradcheck(backend, act):
    host, inp = _problem(backend, T=1, seed=1)
    _assert_away_from_relu_kink(host, act)
    inputs = {"x_t": inp["x"][0, ...], "h_prev": inp["h0"], **_params(inp)}
    G = backend.asarray(np.random.default_rng(11).standard_normal((3, 4)))
    xp = labrnn.namespace(G)

    def loss(d):
        return xp.sum(labrnn.rnn_step_forward(d["x_t"], d["h_prev"], _params(d), act)[0] * G)

    h_t, cache = labrnn.rnn_step_forward(inputs["x_t"], inputs["h_prev"], _params(inputs), act)
    np.testing.assert_allclose(backend.to_numpy(h_t), _np_forward(host, act)[0][0], rtol=1e-12, atol=1e-14)
    dx, dh_prev, grads = labrnn.rnn_step_backward(G, cache)
    assert set(grads) == {"W_xh", "W_hh", "b_h"}
    report = labrnn.gradcheck(loss, inputs, {"x_t": dx, "h_prev": dh_prev, **grads})
    assert [r[0] for r in report.rows] == ["x_t", "h_prev", "W_xh", "W_hh", "b_h"]
    report.assert_ok(1e-6)


@pytest.mark.parametrize("with_dh_T", [False, True], ids=["no-dh_T", "dh_T"])
@pytest.mark.parametrize("act", ACTS)
def test_rnn_sequence_gradcheck(backend, act, with_dh_T):
    host, inp = _problem(backend, T=3, B=2, D=3, H=3, seed=2)
    _assert_away_from_relu_kink(host, act)
    rng = np.random.default_rng(12)
    G = backend.asarray(rng.standard_normal((3, 2, 3)))
    G_T = backend.asarray(rng.standard_normal((2, 3))) if with_dh_T else None
    xp = labrnn.namespace(G)

    def loss(d):
        h = labrnn.rnn_forward(d["x"], _params(d), (d["h0"],), activation=act)[0]
        value = xp.sum(h * G)
        return value + xp.sum(h[-1, ...] * G_T) if with_dh_T else value

    h, _, cache = labrnn.rnn_forward(inp["x"], _params(inp), (inp["h0"],), activation=act)
    dx, (dh0,), grads = labrnn.rnn_backward(G, cache, None if G_T is None else (G_T,))
    for g in (dx, dh0, *grads.values()):
        assert backend.on_this_device(g)
    report = labrnn.gradcheck(loss, inp, {"x": dx, "h0": dh0, **grads})
    assert len(report.rows) == 5
    report.assert_ok(1e-6)


def test_dh_T_is_the_gradient_of_the_final_state_only(backend):
    """With dh = 0 everywhere, dh_T alone drives BPTT; without it every gradient is zero."""
    _, inp = _problem(backend, seed=3)
    _, _, cache = labrnn.rnn_forward(inp["x"], _params(inp), (inp["h0"],))
    zeros = backend.asarray(np.zeros((4, 3, 4)))
    dx, (dh0,), grads = labrnn.rnn_backward(zeros, cache)
    assert not np.any(backend.to_numpy(dx)) and not np.any(backend.to_numpy(dh0))
    dx, (dh0,), grads = labrnn.rnn_backward(zeros, cache, (backend.asarray(np.ones((3, 4))),))
    assert np.all(np.abs(backend.to_numpy(dx)[0]) > 0)


def test_elman_param_count_and_init_sizes(backend):
    for D, H, O in [(3, 4, None), (3, 4, 2), (1, 1, 1), (5, 2, 0)]:
        p = backend.params(D, H, O)
        expected_keys = {"W_xh", "W_hh", "b_h"} | ({"W_hy", "b_y"} if O else set())
        assert set(p) == expected_keys
        assert tuple(p["W_xh"].shape) == (H, D) and tuple(p["W_hh"].shape) == (H, H)
        assert sum(int(np.prod(v.shape)) for v in p.values()) == labrnn.elman_param_count(D, H, O or 0)
    assert labrnn.elman_param_count(3, 4) == 12 + 16 + 4
    assert labrnn.elman_param_count(3, 4, 2) == 12 + 16 + 4 + 8 + 2


def test_param_count_does_not_depend_on_T(backend):
    """One cell serves every step: the same parameters process T=1 and T=5."""
    p = backend.params(2, 3)
    n = labrnn.elman_param_count(2, 3)
    for T in (1, 5):
        x = backend.asarray(np.ones((T, 1, 2)))
        _, _, cache = labrnn.rnn_forward(x, p)
        _, _, grads = labrnn.rnn_backward(backend.asarray(np.ones((T, 1, 3))), cache)
        assert sum(int(np.prod(g.shape)) for g in grads.values()) == n


def test_float32_forward_stays_float32(backend):
    p = backend.params(2, 3, dtype="float32")
    x = labrnn.from_numpy(np.ones((2, 1, 2)), like=p["W_xh"])
    h, _, _ = labrnn.rnn_forward(x, p)
    assert h.dtype == backend.xp.float32
    np.testing.assert_allclose(backend.to_numpy(h),
                               backend.to_numpy(labrnn.rnn_forward(
                                   backend.asarray(np.ones((2, 1, 2))), backend.params(2, 3))[0]),
                               rtol=1e-6)


def test_step_h_prev_must_be_one_array():
    """The step functions take h_prev itself, not the state tuple of the sequence functions."""
    p = labrnn.init_elman(2, 3)
    x_t, h = np.ones((2, 2)), np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"h_prev of an Elman cell must be ONE array h of shape "
                                        r"\(B, H\), received a tuple of length 1; the step takes "
                                        r"the array itself: pass h_prev=state\[0\]"):
        labrnn.rnn_step_forward(x_t, (h,), p)
    with pytest.raises(TypeError, match=r"h_prev of an Elman cell must be ONE array.*received a "
                                        r"list of length 2 - is that an LSTM state \(h, c\)\?"):
        labrnn.rnn_step_forward(x_t, [h, h], p)
