"""labrnn.cells.gru: both GRU variants (reset before / after the recurrent product), step and
sequence, forward against plain NumPy equations and backward against float64 central
differences, on NumPy and on array-api-strict (CPU and its second device)."""

import numpy as np
import pytest

import labrnn
from conftest import make_backend
from labrnn.training.gradcheck import gradcheck
from labrnn.cells.gru import (gru_backward, gru_forward, gru_gate_views, gru_param_count,
                        gru_step_backward, gru_step_forward, init_gru)


# ---------------------------------------------------------------- backends
# The suite's backends (tests/conftest.py); CuPy is left out of these slow gradient checks.
Backend = make_backend
BACKENDS = ["numpy", "strict", "strict-device1"]


def _check_size(bk):
    """(T, B, D, H) of a gradient check: array-api-strict costs ~20 us per operation, so
    its checks (which test array-API use, not the maths again) run a smaller problem."""
    return (3, 2, 2, 3) if bk.name == "numpy" else (2, 2, 2, 2)
VARIANTS = ["before", "after"]


@pytest.fixture(params=BACKENDS)
def bk(request):
    return Backend(request.param)


to_np = labrnn.to_numpy


# ---------------------------------------------------------------- problem and reference
def _problem(T=3, B=2, D=3, H=4, reset="after", seed=0):
    """Host arrays of one small problem; every bias is random and non-zero."""
    rng = np.random.default_rng(seed)
    p = init_gru(D, H, seed=seed, reset=reset)
    p = {k: v + 0.4 * rng.standard_normal(v.shape) for k, v in p.items()}
    data = {"x": rng.standard_normal((T, B, D)), "h0": 0.5 * rng.standard_normal((B, H)),
            "dh": rng.standard_normal((T, B, H)), "dh_T": rng.standard_normal((B, H))}
    return p, data


def _np_step(x, h, p, reset):
    """Equations gru-gates, gru-candidate, gru-update per gate with the book's matrices."""
    v = gru_gate_views(p)
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))                                   # noqa: E731
    r = sig(x @ v["W_xr"].T + h @ v["W_hr"].T + v["b_r"])
    z = sig(x @ v["W_xz"].T + h @ v["W_hz"].T + v["b_z"])
    if reset == "before":
        n = np.tanh(x @ v["W_xn"].T + (r * h) @ v["W_hn"].T + v["b_n"])
    else:
        n = np.tanh(x @ v["W_xn"].T + v["b_n"] + r * (h @ v["W_hn"].T + v["b_hn"]))
    return (1 - z) * n + z * h


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("reset", VARIANTS)
def test_step_forward_matches_per_gate_numpy_equations(bk, reset):
    p, d = _problem(reset=reset)
    h, _ = gru_step_forward(bk.asarray(d["x"][0]), bk.asarray(d["h0"]),
                            {k: bk.asarray(v) for k, v in p.items()}, reset=reset)
    assert bk.on_this_device(h)
    np.testing.assert_allclose(to_np(h), _np_step(d["x"][0], d["h0"], p, reset),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reset", VARIANTS)
def test_sequence_equals_loop_of_steps_forward_and_backward(bk, reset):
    p, d = _problem(T=4, reset=reset)
    P = {k: bk.asarray(v) for k, v in p.items()}
    x, h0 = bk.asarray(d["x"]), bk.asarray(d["h0"])
    hseq, (h_T,), cache = gru_forward(x, P, (h0,), reset=reset)
    assert tuple(hseq.shape) == (4, 2, 4) and bk.on_this_device(hseq)
    np.testing.assert_array_equal(to_np(h_T), to_np(hseq[-1, ...]))
    h, caches = h0, []
    for t in range(4):
        h, cache_t = gru_step_forward(x[t, ...], h, P, reset=reset)
        caches.append(cache_t)
        np.testing.assert_allclose(to_np(hseq[t, ...]), to_np(h), rtol=1e-12, atol=1e-14)

    dh, dh_T = bk.asarray(d["dh"]), bk.asarray(d["dh_T"])
    dx, (dh0,), grads = gru_backward(dh, cache, (dh_T,))
    carry, total = dh_T, {k: 0.0 for k in grads}
    for t in range(3, -1, -1):
        dx_t, carry, g = gru_step_backward(dh[t, ...] + carry, caches[t])
        np.testing.assert_allclose(to_np(dx[t, ...]), to_np(dx_t), rtol=1e-10, atol=1e-13)
        total = {k: total[k] + to_np(g[k]) for k in g}
    np.testing.assert_allclose(to_np(dh0), to_np(carry), rtol=1e-10, atol=1e-13)
    assert set(grads) == set(P)
    for k in grads:
        assert bk.on_this_device(grads[k])
        np.testing.assert_allclose(to_np(grads[k]), total[k], rtol=1e-10, atol=1e-13)


def test_update_gate_one_keeps_the_old_state():
    # the PyTorch / Keras / Cho et al. (eq. 7) convention: z = 1 copies h_{t-1}
    for reset in VARIANTS:
        p, d = _problem(reset=reset)
        p["b"][4:8] = 60.0                                   # b_z: sigma(60) == 1.0 in float64
        h, cache = gru_step_forward(d["x"][0], d["h0"], p, reset=reset)
        np.testing.assert_array_equal(h, d["h0"])
        _, dh_prev, _ = gru_step_backward(d["dh_T"], cache)
        np.testing.assert_allclose(dh_prev, d["dh_T"], rtol=0, atol=1e-20)


def test_variants_coincide_when_the_reset_gate_is_open():
    # r == 1 and b_hn == 0: W_hn (r * h) == r * (W_hn h), the variants are the same function
    p_after, d = _problem(reset="after")
    p_after["b"][:4], p_after["b_hn"][:] = 60.0, 0.0
    p_before = {k: v for k, v in p_after.items() if k != "b_hn"}
    h_a, _, _ = gru_forward(d["x"], p_after, (d["h0"],), reset="after")
    h_b, _, _ = gru_forward(d["x"], p_before, (d["h0"],), reset="before")
    np.testing.assert_allclose(h_a, h_b, rtol=1e-13, atol=1e-15)
    p_after["b"][:4] = 0.0                                    # a half-open reset separates them
    h_a, _, _ = gru_forward(d["x"], p_after, (d["h0"],), reset="after")
    h_b, _, _ = gru_forward(d["x"], {**p_before, "b": p_after["b"]}, (d["h0"],), reset="before")
    assert np.max(np.abs(h_a - h_b)) > 1e-3


def test_default_h0_and_dh_T_are_zeros(bk):
    p, d = _problem()
    P = {k: bk.asarray(v) for k, v in p.items()}
    x, zeros = bk.asarray(d["x"]), bk.asarray(np.zeros((2, 4)))
    h1, (h1_T,), cache1 = gru_forward(x, P)
    h2, (h2_T,), cache2 = gru_forward(x, P, (zeros,))
    np.testing.assert_array_equal(to_np(h1), to_np(h2))
    np.testing.assert_array_equal(to_np(h1_T), to_np(h2_T))
    dh = bk.asarray(d["dh"])
    np.testing.assert_array_equal(to_np(gru_backward(dh, cache1)[1][0]),
                                  to_np(gru_backward(dh, cache2, (zeros,))[1][0]))
    # a None entry of the state tuple is zeros too
    np.testing.assert_array_equal(to_np(gru_forward(x, P, (None,))[0]), to_np(h1))


# ---------------------------------------------------------------- gradient checks
def _inputs(bk, p, d, names):
    return {**{k: bk.asarray(v) for k, v in p.items()}, **{k: bk.asarray(d[k]) for k in names}}


@pytest.mark.parametrize("reset", VARIANTS)
def test_step_gradcheck(bk, reset):
    T, B, D, H = _check_size(bk)
    p, d = _problem(T=T, B=B, D=D, H=H, reset=reset, seed=1)
    d = {**d, "x_t": d["x"][0]}
    inp = _inputs(bk, p, d, ["x_t", "h0", "dh_T"])
    keys = list(p)

    def loss(a):
        h, _ = gru_step_forward(a["x_t"], a["h0"], {k: a[k] for k in keys}, reset=reset)
        return labrnn.namespace(h).sum(h * inp["dh_T"])

    _, cache = gru_step_forward(inp["x_t"], inp["h0"], {k: inp[k] for k in keys}, reset=reset)
    dx, dh0, grads = gru_step_backward(inp["dh_T"], cache)
    check = {k: inp[k] for k in keys + ["x_t", "h0"]}
    report = gradcheck(loss, check, {**grads, "x_t": dx, "h0": dh0})
    assert {r[0] for r in report.rows} == set(check)
    report.assert_ok(1e-6)


@pytest.mark.parametrize("reset", VARIANTS)
def test_sequence_gradcheck(bk, reset):
    T, B, D, H = _check_size(bk)
    p, d = _problem(T=T, B=B, D=D, H=H, reset=reset, seed=2)
    inp = _inputs(bk, p, d, ["x", "h0", "dh", "dh_T"])
    keys = list(p)

    def loss(a):
        h, _, _ = gru_forward(a["x"], {k: a[k] for k in keys}, (a["h0"],), reset=reset)
        xp = labrnn.namespace(h)
        return xp.sum(h * inp["dh"]) + xp.sum(h[-1, ...] * inp["dh_T"])

    _, _, cache = gru_forward(inp["x"], {k: inp[k] for k in keys}, (inp["h0"],), reset=reset)
    dx, (dh0,), grads = gru_backward(inp["dh"], cache, (inp["dh_T"],))
    check = {k: inp[k] for k in keys + ["x", "h0"]}
    report = gradcheck(loss, check, {**grads, "x": dx, "h0": dh0})
    assert {r[0] for r in report.rows} == set(check)
    report.assert_ok(1e-6)


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize("reset", VARIANTS)
def test_init_gru_shapes_and_backends(bk, reset):
    D, H = 3, 5
    p = init_gru(D, H, seed=7, reset=reset, xp=bk.xp, device=bk.device)
    expected = {"W_x": (3 * H, D), "W_h": (3 * H, H), "b": (3 * H,)}
    if reset == "after":
        expected["b_hn"] = (H,)
    assert {k: tuple(v.shape) for k, v in p.items()} == expected
    assert all(bk.on_this_device(v) for v in p.values())
    host = init_gru(D, H, seed=7, reset=reset)
    for k in p:
        np.testing.assert_array_equal(to_np(p[k]), host[k])
    assert gru_param_count(D, H, reset) == sum(v.size for v in host.values())


def test_gate_views_are_slices_in_gate_order_r_z_n():
    p, _ = _problem(D=3, H=4)
    v = gru_gate_views(p)
    np.testing.assert_array_equal(v["W_xz"], p["W_x"][4:8])
    np.testing.assert_array_equal(v["W_hn"], p["W_h"][8:12])
    np.testing.assert_array_equal(v["b_r"], p["b"][0:4])
    assert np.shares_memory(v["W_hr"], p["W_h"]) and v["b_hn"] is p["b_hn"]


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", ["middle", "Before", True])
def test_unknown_variant_is_rejected_by_name(bad):
    p, d = _problem()
    with pytest.raises(ValueError, match=r"unknown GRU variant reset=.*choose 'before' "
                                         r"\(Cho et al\. 2014.*'after' \(cuDNN, PyTorch"):
        gru_forward(d["x"], p, reset=bad)
    with pytest.raises(ValueError, match="unknown GRU variant"):
        init_gru(2, 3, seed=0, reset=bad)
    with pytest.raises(ValueError, match="unknown GRU variant"):
        gru_step_forward(d["x"][0], d["h0"], p, reset=bad)


def test_reset_none_reads_the_variant_from_the_params():
    # the parameters decide the variant (b_hn present: "after"); reset=None only skips the check
    for variant in VARIANTS:
        p, d = _problem(reset=variant)
        np.testing.assert_array_equal(gru_forward(d["x"], p, (d["h0"],), reset=None)[0],
                                      gru_forward(d["x"], p, (d["h0"],), reset=variant)[0])
        np.testing.assert_array_equal(gru_step_forward(d["x"][0], d["h0"], p, reset=None)[0],
                                      gru_step_forward(d["x"][0], d["h0"], p, reset=variant)[0])
    # the initialiser has no parameters to read it from: None is refused there
    with pytest.raises(ValueError, match=r"unknown GRU variant reset=None"):
        init_gru(2, 3, seed=0, reset=None)


def test_variant_and_params_must_match():
    p_after, d = _problem(reset="after")
    with pytest.raises(ValueError, match=r"params holds 'b_hn'.*reset='before' was requested"):
        gru_forward(d["x"], p_after, reset="before")
    p_before, _ = _problem(reset="before")
    with pytest.raises(KeyError, match=r"params has no 'b_hn'.*reset='after'"):
        gru_forward(d["x"], p_before, reset="after")


def test_state_must_be_one_array():
    p, d = _problem()
    with pytest.raises(TypeError, match=r"state0 of a gru cell must be the tuple \(h,\) of "
                                        r"\(B, H\) arrays, received a tuple of length 2"):
        gru_forward(d["x"], p, (d["h0"], d["h0"]))
    with pytest.raises(TypeError, match=r"state0 of a gru cell must be the tuple \(h,\).*"
                                        r"received a single array of shape \(2, 4\); wrap the "
                                        r"array: state0=\(h,\)"):
        gru_forward(d["x"], p, d["h0"])
    with pytest.raises(TypeError, match=r"h_prev of a GRU must be ONE array h of shape "
                                        r"\(B, H\).*received a list of length 2"):
        gru_step_forward(d["x"][0], [d["h0"], d["h0"]], p)
    with pytest.raises(ValueError, match=r"state0\[0\] \(h\) must have shape \(B=2, H=4\), "
                                         r"received \(2, 3\)"):
        gru_forward(d["x"], p, (d["h0"][:, :3],))
    with pytest.raises(ValueError, match=r"params\['b'\] of a gru cell with D=3 inputs and H=4 "
                                         r"units must have shape \(12,\), received \(11,\)"):
        gru_forward(d["x"], {**p, "b": p["b"][:11]})


def test_h0_on_another_device_is_named():
    strict = pytest.importorskip("array_api_strict")
    p, d = _problem()
    dev1 = Backend("strict-device1")
    h0_cpu = labrnn.from_numpy(d["h0"], xp=strict, device=strict.Device("CPU_DEVICE"))
    with pytest.raises(labrnn.DeviceError, match=r"state0\[0\] \(h\) is on device"):
        gru_forward(dev1.asarray(d["x"]), {k: dev1.asarray(v) for k, v in p.items()}, (h0_cpu,))
