"""labrnn.cells.lstm: the LSTM step and sequence, with and without peepholes, forward against
plain NumPy equations and backward against float64 central differences, on NumPy and on
array-api-strict (CPU and its second device)."""

import numpy as np
import pytest

import labrnn
from conftest import make_backend
from labrnn.training.gradcheck import gradcheck
from labrnn.cells.lstm import (PEEPHOLE_PARAMS, init_lstm, lstm_backward, lstm_forward,
                         lstm_gate_views, lstm_param_count, lstm_step_backward,
                         lstm_step_forward)


# ---------------------------------------------------------------- backends
# The suite's backends (tests/conftest.py); CuPy is left out of these slow gradient checks.
Backend = make_backend
BACKENDS = ["numpy", "strict", "strict-device1"]


def _check_size(bk):
    """(T, B, D, H) of a gradient check: array-api-strict costs ~20 us per operation, so
    its checks (which test array-API use, not the maths again) run a smaller problem."""
    return (3, 2, 2, 3) if bk.name == "numpy" else (2, 2, 2, 2)


@pytest.fixture(params=BACKENDS)
def bk(request):
    return Backend(request.param)


to_np = labrnn.to_numpy


# ---------------------------------------------------------------- problem and reference
def _problem(T=3, B=2, D=3, H=4, peephole=False, seed=0):
    """Host arrays of one small problem. Every parameter (biases, peepholes) is random and
    non-zero so that every term of the equations is exercised."""
    rng = np.random.default_rng(seed)
    p = init_lstm(D, H, seed=seed, peephole=peephole)
    p = {k: v + 0.4 * rng.standard_normal(v.shape) for k, v in p.items()}
    data = {"x": rng.standard_normal((T, B, D)), "h0": 0.5 * rng.standard_normal((B, H)),
            "c0": 0.5 * rng.standard_normal((B, H)),
            "dh": rng.standard_normal((T, B, H)), "dh_T": rng.standard_normal((B, H)),
            "dc_T": rng.standard_normal((B, H))}
    return p, data


def _np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_step(x, h, c, p, peephole):
    """Equations lstm-gates, lstm-cell, lstm-hidden written per gate with the book's matrices."""
    v = {k: to_np(a) for k, a in lstm_gate_views(p).items()}
    pre = {g: x @ v[f"W_x{g}"].T + h @ v[f"W_h{g}"].T + v[f"b_{g}"] for g in "ifgo"}
    i = _np_sigmoid(pre["i"] + (v["w_ci"] * c if peephole else 0))
    f = _np_sigmoid(pre["f"] + (v["w_cf"] * c if peephole else 0))
    g = np.tanh(pre["g"])
    c_new = f * c + i * g
    o = _np_sigmoid(pre["o"] + (v["w_co"] * c_new if peephole else 0))
    return o * np.tanh(c_new), c_new


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("peephole", [False, True])
def test_step_forward_matches_per_gate_numpy_equations(bk, peephole):
    p, d = _problem(peephole=peephole)
    P = {k: bk.asarray(v) for k, v in p.items()}
    (h, c), _ = lstm_step_forward(bk.asarray(d["x"][0]), (bk.asarray(d["h0"]), bk.asarray(d["c0"])),
                                  P, peephole=peephole)
    assert bk.on_this_device(h) and bk.on_this_device(c)
    h_ref, c_ref = _np_step(d["x"][0], d["h0"], d["c0"], p, peephole)
    np.testing.assert_allclose(to_np(h), h_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_np(c), c_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("peephole", [False, True])
def test_sequence_equals_loop_of_steps_forward_and_backward(bk, peephole):
    p, d = _problem(T=4, peephole=peephole)
    P = {k: bk.asarray(v) for k, v in p.items()}
    x, h0, c0 = bk.asarray(d["x"]), bk.asarray(d["h0"]), bk.asarray(d["c0"])
    hseq, (h_T, c_T), cache = lstm_forward(x, P, (h0, c0), peephole=peephole)
    assert tuple(hseq.shape) == (4, 2, 4) and bk.on_this_device(hseq)

    state, caches = (h0, c0), []
    for t in range(4):
        state, cache_t = lstm_step_forward(x[t, ...], state, P, peephole=peephole)
        caches.append(cache_t)
        np.testing.assert_allclose(to_np(hseq[t, ...]), to_np(state[0]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_np(h_T), to_np(state[0]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_np(c_T), to_np(state[1]), rtol=1e-12, atol=1e-14)

    dh = bk.asarray(d["dh"])
    dx, (dh0, dc0), grads = lstm_backward(dh, cache, (bk.asarray(d["dh_T"]), bk.asarray(d["dc_T"])))
    dh_next, dc_next = bk.asarray(d["dh_T"]), bk.asarray(d["dc_T"])
    total = {k: 0.0 for k in grads}
    for t in range(3, -1, -1):
        dx_t, (dh_next, dc_next), g = lstm_step_backward((dh[t, ...] + dh_next, dc_next), caches[t])
        np.testing.assert_allclose(to_np(dx[t, ...]), to_np(dx_t), rtol=1e-10, atol=1e-13)
        total = {k: total[k] + to_np(g[k]) for k in g}
    np.testing.assert_allclose(to_np(dh0), to_np(dh_next), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(to_np(dc0), to_np(dc_next), rtol=1e-10, atol=1e-13)
    assert set(grads) == set(P)
    for k in grads:
        assert bk.on_this_device(grads[k])
        np.testing.assert_allclose(to_np(grads[k]), total[k], rtol=1e-10, atol=1e-13)


def test_default_state_and_default_upstream_are_zeros(bk):
    p, d = _problem()
    P = {k: bk.asarray(v) for k, v in p.items()}
    x, zeros = bk.asarray(d["x"]), bk.asarray(np.zeros((2, 4)))
    h1, s1, cache1 = lstm_forward(x, P)
    h2, s2, cache2 = lstm_forward(x, P, (zeros, zeros))
    np.testing.assert_array_equal(to_np(h1), to_np(h2))
    dh = bk.asarray(d["dh"])
    a = lstm_backward(dh, cache1)
    b = lstm_backward(dh, cache2, (zeros, None))
    np.testing.assert_array_equal(to_np(a[0]), to_np(b[0]))
    np.testing.assert_array_equal(to_np(a[1][1]), to_np(b[1][1]))


def test_forget_gate_saturated_open_carries_the_cell_unchanged():
    # f = 1, i = 0: c_t = c_{t-1} exactly and dc_{t-1} = dc_t: the constant error carousel
    p, d = _problem()
    H = 4
    p["b"][:H], p["b"][H:2 * H] = -60.0, 60.0
    (_, c), cache = lstm_step_forward(d["x"][0], (d["h0"], d["c0"]), p)
    np.testing.assert_array_equal(c, d["c0"])
    _, (_, dc_prev), _ = lstm_step_backward((np.zeros((2, H)), d["dc_T"]), cache)
    np.testing.assert_array_equal(dc_prev, d["dc_T"])


# ---------------------------------------------------------------- gradient checks
def _inputs(bk, p, d, names):
    return {**{k: bk.asarray(v) for k, v in p.items()}, **{k: bk.asarray(d[k]) for k in names}}


@pytest.mark.parametrize("peephole", [False, True])
def test_step_gradcheck(bk, peephole):
    T, B, D, H = _check_size(bk)
    p, d = _problem(T=T, B=B, D=D, H=H, peephole=peephole, seed=1)
    d = {**d, "x_t": d["x"][0]}
    inp = _inputs(bk, p, d, ["x_t", "h0", "c0", "dh_T", "dc_T"])
    keys = list(p)

    def loss(a):
        (h, c), _ = lstm_step_forward(a["x_t"], (a["h0"], a["c0"]), {k: a[k] for k in keys},
                                      peephole=peephole)
        xp = labrnn.namespace(h)
        return xp.sum(h * inp["dh_T"]) + xp.sum(c * inp["dc_T"])

    _, cache = lstm_step_forward(inp["x_t"], (inp["h0"], inp["c0"]), {k: inp[k] for k in keys},
                                 peephole=peephole)
    dx, (dh0, dc0), grads = lstm_step_backward((inp["dh_T"], inp["dc_T"]), cache)
    check = {k: inp[k] for k in keys + ["x_t", "h0", "c0"]}
    report = gradcheck(loss, check, {**grads, "x_t": dx, "h0": dh0, "c0": dc0})
    assert len(report.rows) == len(p) + 3
    report.assert_ok(1e-6)


@pytest.mark.parametrize("peephole", [False, True])
def test_sequence_gradcheck(bk, peephole):
    T, B, D, H = _check_size(bk)
    p, d = _problem(T=T, B=B, D=D, H=H, peephole=peephole, seed=2)
    inp = _inputs(bk, p, d, ["x", "h0", "c0", "dh", "dh_T", "dc_T"])
    keys = list(p)

    def loss(a):
        h, (h_T, c_T), _ = lstm_forward(a["x"], {k: a[k] for k in keys}, (a["h0"], a["c0"]),
                                        peephole=peephole)
        xp = labrnn.namespace(h)
        return xp.sum(h * inp["dh"]) + xp.sum(h_T * inp["dh_T"]) + xp.sum(c_T * inp["dc_T"])

    _, _, cache = lstm_forward(inp["x"], {k: inp[k] for k in keys}, (inp["h0"], inp["c0"]),
                               peephole=peephole)
    dx, (dh0, dc0), grads = lstm_backward(inp["dh"], cache, (inp["dh_T"], inp["dc_T"]))
    check = {k: inp[k] for k in keys + ["x", "h0", "c0"]}
    report = gradcheck(loss, check, {**grads, "x": dx, "h0": dh0, "c0": dc0})
    assert {r[0] for r in report.rows} == set(check)
    report.assert_ok(1e-6)


# ---------------------------------------------------------------- parameters
def test_init_lstm_shapes_forget_bias_and_backends(bk):
    D, H = 3, 5
    p = init_lstm(D, H, seed=7, xp=bk.xp, device=bk.device)
    assert {k: tuple(v.shape) for k, v in p.items()} == {"W_x": (4 * H, D), "W_h": (4 * H, H),
                                                         "b": (4 * H,)}
    assert all(bk.on_this_device(v) for v in p.values())
    b = to_np(p["b"])
    np.testing.assert_array_equal(b[H:2 * H], np.ones(H))                # forget gate: 1
    np.testing.assert_array_equal(np.delete(b, np.s_[H:2 * H]), np.zeros(3 * H))
    host = init_lstm(D, H, seed=7)                                        # same numbers everywhere
    for k in p:
        np.testing.assert_array_equal(to_np(p[k]), host[k])
    # every W_h block is orthogonal on its own
    for k in range(4):
        blk = host["W_h"][k * H:(k + 1) * H]
        np.testing.assert_allclose(blk @ blk.T, np.eye(H), atol=1e-12)


def test_init_lstm_options():
    H = 3
    p = init_lstm(2, H, seed=0, forget_bias=0.0, peephole=True, dtype="float32")
    assert p["b"].dtype == np.float32
    np.testing.assert_array_equal(p["b"], np.zeros(4 * H))
    for k in PEEPHOLE_PARAMS:
        np.testing.assert_array_equal(p[k], np.zeros(H))
    assert init_lstm(2, H, seed=0, forget_bias=2.5)["b"][H] == 2.5
    with pytest.raises(ValueError, match="unknown W_h initialiser 'eye'"):
        init_lstm(2, H, seed=0, W_h="eye")


def test_gate_views_are_the_books_matrices_as_slices_of_the_fused_ones():
    p, _ = _problem(D=3, H=4, peephole=True)
    v = lstm_gate_views(p)
    assert list(v)[:6] == ["W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f"]
    np.testing.assert_array_equal(v["W_xf"], p["W_x"][4:8])      # gate order i, f, g, o
    np.testing.assert_array_equal(v["W_hg"], p["W_h"][8:12])
    np.testing.assert_array_equal(v["b_o"], p["b"][12:16])
    assert v["W_xo"].shape == (4, 3) and v["W_ho"].shape == (4, 4) and v["b_i"].shape == (4,)
    assert np.shares_memory(v["W_xi"], p["W_x"]) and np.shares_memory(v["b_o"], p["b"])
    assert v["w_co"] is p["w_co"]


@pytest.mark.parametrize("peephole", [False, True])
def test_param_count(peephole):
    p = init_lstm(5, 7, seed=0, peephole=peephole)
    assert lstm_param_count(5, 7, peephole) == sum(v.size for v in p.values())


# ---------------------------------------------------------------- errors
def test_state_must_be_an_h_c_tuple():
    p, d = _problem()
    with pytest.raises(TypeError, match=r"state of an lstm cell must be the tuple \(h, c\) of "
                                        r"\(B, H\) arrays, received a single array of shape "
                                        r"\(2, 4\); an lstm cell carries a hidden state h AND "
                                        r"a cell state c: pass state=\(h, c\)"):
        lstm_step_forward(d["x"][0], d["h0"], p)
    with pytest.raises(TypeError, match=r"state0 of an lstm cell must be the tuple \(h, c\).*"
                                        r"received a single array of shape \(2, 4\).*"
                                        r"pass state0=\(h, c\)"):
        lstm_forward(d["x"], p, d["h0"])
    with pytest.raises(TypeError, match=r"state0 of an lstm cell must be the tuple \(h, c\).*"
                                        r"received a tuple of length 3"):
        lstm_forward(d["x"], p, (d["h0"], d["c0"], d["c0"]))
    _, _, cache = lstm_forward(d["x"], p)
    with pytest.raises(TypeError, match=r"dstate_T of an lstm cell must be the tuple \(h, c\)"
                                        r".*received a single array of shape \(2, 4\)"):
        lstm_backward(d["dh"], cache, d["dh_T"])


def test_wrong_shapes_name_the_argument():
    p, d = _problem()
    with pytest.raises(ValueError, match=r"state0\[1\] \(c\) must have shape \(B=2, H=4\), "
                                         r"received \(2, 5\)"):
        lstm_forward(d["x"], p, (d["h0"], np.zeros((2, 5))))
    bad = {**p, "W_h": p["W_h"][:12]}
    with pytest.raises(ValueError, match=r"params\['W_h'\] of an lstm cell must have shape "
                                         r"\(4H, H\), received \(12, 4\)"):
        lstm_forward(d["x"], bad)
    with pytest.raises(ValueError, match=r"params\['W_x'\] of an lstm cell with D=2 inputs and "
                                         r"H=4 units must have shape \(16, 2\), received "
                                         r"\(16, 3\) \(x has D=2 features per step, these "
                                         r"parameters were made for D=3\)"):
        lstm_forward(d["x"][..., :2], p)


def test_peephole_flag_must_match_the_params():
    p, d = _problem(peephole=True)
    with pytest.raises(ValueError, match=r"peephole weights \['w_ci', 'w_cf', 'w_co'\] but "
                                         r"peephole=False"):
        lstm_forward(d["x"], p, peephole=False)
    plain, _ = _problem()
    with pytest.raises(KeyError, match=r"peephole=True but params has no peephole weights "
                                       r"'w_ci', 'w_cf', 'w_co'"):
        lstm_forward(d["x"], plain, peephole=True)
    # peephole=None (the default): the parameters decide
    for params, flag in ((p, True), (plain, False)):
        np.testing.assert_array_equal(lstm_forward(d["x"], params)[0],
                                      lstm_forward(d["x"], params, peephole=flag)[0])
    assert not np.allclose(lstm_forward(d["x"], p)[0],
                           lstm_forward(d["x"], {k: p[k] for k in plain})[0])


def test_state_on_another_device_is_named():
    strict = pytest.importorskip("array_api_strict")
    p, d = _problem()
    dev1 = Backend("strict-device1")
    P = {k: dev1.asarray(v) for k, v in p.items()}
    c0_cpu = labrnn.from_numpy(d["c0"], xp=strict, device=strict.Device("CPU_DEVICE"))
    with pytest.raises(labrnn.DeviceError, match=r"state0\[1\] \(c\) is on device"):
        lstm_forward(dev1.asarray(d["x"]), P, (dev1.asarray(d["h0"]), c0_cpu))


def test_none_state_entries_are_zeros():
    # (h0, None): the cell state starts at zero (it used to be refused)
    p, d = _problem()
    zeros = np.zeros_like(d["c0"])
    h_a, (hT_a, cT_a), _ = lstm_forward(d["x"], p, (d["h0"], None))
    h_b, (hT_b, cT_b), _ = lstm_forward(d["x"], p, (d["h0"], zeros))
    for a, b in ((h_a, h_b), (hT_a, hT_b), (cT_a, cT_b)):
        np.testing.assert_array_equal(a, b)
