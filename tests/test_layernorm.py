"""labrnn.layers.layernorm and labrnn.cells.lnlstm: layer normalisation and the layer-normalised LSTM.

Gradients against float64 central differences on every backend of ``conftest.py``
(tiny sizes: a gradient check costs two forward passes per entry); the sequence
against a loop of steps and against plain NumPy equations; the properties that
make layer normalisation what it is (standardised rows, invariance to re-scaling
the weights); the cell-agnostic interface, the recurrent layer with padding and a
stacked network; error messages.
"""

from types import SimpleNamespace

import numpy as np
import pytest

import labrnn
from labrnn import recurrent_backward, recurrent_forward
from labrnn.cells import cell_backward, cell_forward, cell_param_count, cell_variant, init_cell
from labrnn.errors import ShapeError
from labrnn.training.gradcheck import gradcheck
from labrnn.layers.layernorm import layer_norm_backward, layer_norm_forward
from labrnn.cells.lnlstm import (LN_PARAMS, LNLSTM_PARAMS, init_lnlstm, lnlstm_backward,
                           lnlstm_forward, lnlstm_param_count, lnlstm_step_backward,
                           lnlstm_step_forward)

T, B, D, H = 3, 2, 2, 3
HOST = SimpleNamespace(asarray=np.asarray)     # plain NumPy for the NumPy-only tests


def _ln_reference(a, gamma, beta, eps=1e-5):
    """``ln-forward`` row by row in plain Python/NumPy."""
    out = np.empty_like(a)
    for idx in np.ndindex(a.shape[:-1]):
        row = a[idx]
        mu = sum(row) / len(row)
        var = sum((r - mu) ** 2 for r in row) / len(row)
        out[idx] = gamma * (row - mu) / np.sqrt(var + eps) + beta
    return out


def _params(backend, seed=0, D=D, H=H):
    """ln-LSTM parameters with gains, shifts and biases moved off 1/0 so each one matters."""
    rng = np.random.default_rng(100 + seed)
    host = init_lnlstm(D, H, seed=seed)
    host = {k: v + rng.normal(0, 0.3, v.shape) for k, v in host.items()}
    return {k: backend.asarray(v) for k, v in host.items()}


def _data(backend, seed=0, T=T, B=B, D=D, H=H):
    rng = np.random.default_rng(seed)
    return tuple(backend.asarray(rng.normal(size=s)) for s in
                 ((T, B, D), (B, H), (B, H), (T, B, H), (B, H), (B, H)))


# ---------------------------------------------------------------- layer norm
def test_layer_norm_matches_the_equations_and_keeps_the_device(backend):
    rng = np.random.default_rng(0)
    a, gamma, beta = rng.normal(size=(2, 3, 5)), rng.normal(size=5), rng.normal(size=5)
    y, _ = layer_norm_forward(backend.asarray(a), backend.asarray(gamma), backend.asarray(beta))
    assert backend.on_this_device(y)
    np.testing.assert_allclose(backend.to_numpy(y), _ln_reference(a, gamma, beta), atol=1e-13)


def test_layer_norm_gradients(backend):
    rng = np.random.default_rng(1)
    inputs = {"a": backend.asarray(rng.normal(size=(2, 3, 4))),
              "gamma": backend.asarray(rng.normal(size=4)),
              "beta": backend.asarray(rng.normal(size=4))}
    r = backend.asarray(rng.normal(size=(2, 3, 4)))
    xp = backend.xp

    def loss(inp):
        return xp.sum(layer_norm_forward(inp["a"], inp["gamma"], inp["beta"])[0] * r)

    _, cache = layer_norm_forward(inputs["a"], inputs["gamma"], inputs["beta"])
    da, dgamma, dbeta = layer_norm_backward(r, cache)
    assert backend.on_this_device(da) and backend.on_this_device(dgamma)
    assert tuple(dgamma.shape) == (4,) and tuple(dbeta.shape) == (4,)
    gradcheck(loss, inputs, {"a": da, "gamma": dgamma, "beta": dbeta}).assert_ok(1e-6)


def test_layer_norm_rows_have_zero_mean_unit_variance_and_ignore_offset_and_scale():
    rng = np.random.default_rng(2)
    # rows on very different scales and offsets: normalisation must remove both
    a = rng.normal(size=(6, 7)) * np.array([1e-2, 1, 10, 100, 3, 0.5])[:, None] \
        + np.array([-50, 0, 3, 1e3, 7, -1])[:, None]
    ones, zeros = np.ones(7), np.zeros(7)
    a_hat, _ = layer_norm_forward(a, ones, zeros, eps=1e-12)
    np.testing.assert_allclose(a_hat.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(a_hat.var(axis=-1), 1, atol=1e-8)
    np.testing.assert_allclose(layer_norm_forward(3.5 * a - 2.0, ones, zeros, eps=1e-12)[0],
                               a_hat, atol=1e-9)
    # scale and shift are applied after normalisation, per feature
    gamma, beta = rng.normal(size=7), rng.normal(size=7)
    y, _ = layer_norm_forward(a, gamma, beta, eps=1e-12)
    np.testing.assert_allclose((y - beta) / gamma, a_hat, atol=1e-9)
    # eps keeps a constant row finite: it maps to beta
    y0, cache = layer_norm_forward(np.full((1, 7), 4.0), gamma, beta)
    np.testing.assert_allclose(y0[0], beta)
    assert np.all(np.isfinite(layer_norm_backward(np.ones((1, 7)), cache)[0]))


def test_layer_norm_errors():
    a, g = np.zeros((2, 5)), np.ones(5)
    with pytest.raises(ShapeError, match=r"gamma must have shape \(N=5,\), received \(4,\)"):
        layer_norm_forward(a, np.ones(4), g)
    with pytest.raises(ShapeError, match=r"beta must have shape \(N=5,\), received \(5, 1\)"):
        layer_norm_forward(a, g, np.ones((5, 1)))
    with pytest.raises(TypeError, match="gamma is None"):
        layer_norm_forward(a, None, g)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        layer_norm_forward(a, g, g, eps=0)
    with pytest.raises(TypeError, match="dtype float32 but the parameters have dtype float64"):
        layer_norm_forward(a, np.ones(5, np.float32), g)
    _, cache = layer_norm_forward(a, g, g)
    with pytest.raises(ShapeError, match=r"dy must have the shape of the forward input "
                                         r"\(2, 5\), received \(5, 2\)"):
        layer_norm_backward(np.zeros((5, 2)), cache)
    with pytest.raises(TypeError, match="returned by layer_norm_forward"):
        layer_norm_backward(np.zeros((2, 5)), "cache")


# ---------------------------------------------------------------- the ln-LSTM, forward
def test_sequence_matches_plain_numpy_equations():
    """lnlstm-preact .. lnlstm-hidden with per-gate slicing, written out independently."""
    p = _params(HOST)
    x, h, c, *_ = _data(HOST)
    hs, (h_T, c_T), _ = lnlstm_forward(x, p, (h, c))
    sig = lambda z: 1 / (1 + np.exp(-z))                        # noqa: E731
    for t in range(T):
        a = (_ln_reference(x[t] @ p["W_x"].T, p["g_x"], p["b_x"])
             + _ln_reference(h @ p["W_h"].T, p["g_h"], p["b_h"]) + p["b"])
        i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(_ln_reference(c, p["g_c"], p["b_c"]))
        np.testing.assert_allclose(hs[t], h, atol=1e-13)
    np.testing.assert_allclose(h_T, h, atol=1e-13)
    np.testing.assert_allclose(c_T, c, atol=1e-13)


def test_sequence_is_a_loop_of_steps_forward_and_backward(backend):
    p = _params(backend)
    x, h0, c0, dh, dh_T, dc_T = _data(backend)
    hs, (h_T, c_T), cache = lnlstm_forward(x, p, (h0, c0))
    assert backend.on_this_device(hs) and backend.on_this_device(c_T)
    state, caches = (h0, c0), []
    for t in range(T):
        state, cache_t = lnlstm_step_forward(x[t, ...], state, p)
        caches.append(cache_t)
        np.testing.assert_allclose(backend.to_numpy(hs[t, ...]), backend.to_numpy(state[0]),
                                   rtol=0, atol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(c_T), backend.to_numpy(state[1]), atol=1e-13)
    dx, (dh0, dc0), grads = lnlstm_backward(dh, cache, (dh_T, dc_T))
    carry, total = (dh_T, dc_T), None
    for t in range(T - 1, -1, -1):
        dx_t, (dh_p, dc_p), g = lnlstm_step_backward((carry[0] + dh[t, ...], carry[1]),
                                                     caches[t])
        np.testing.assert_allclose(backend.to_numpy(dx[t, ...]), backend.to_numpy(dx_t),
                                   atol=1e-12)
        carry = (dh_p, dc_p)
        total = g if total is None else {k: total[k] + g[k] for k in g}
    np.testing.assert_allclose(backend.to_numpy(dh0), backend.to_numpy(carry[0]), atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(dc0), backend.to_numpy(carry[1]), atol=1e-12)
    assert set(grads) == set(LNLSTM_PARAMS)
    for k in grads:
        np.testing.assert_allclose(backend.to_numpy(grads[k]), backend.to_numpy(total[k]),
                                   atol=1e-12, err_msg=k)


# ---------------------------------------------------------------- the ln-LSTM, gradients
def test_step_gradients(backend):
    p = _params(backend, seed=1)
    x, h0, c0, dh, dh_T, dc_T = _data(backend, seed=1, T=1)
    xp = backend.xp
    inputs = {**p, "x_t": x[0, ...], "h_prev": h0, "c_prev": c0}

    def loss(inp):
        (h, c), _ = lnlstm_step_forward(inp["x_t"], (inp["h_prev"], inp["c_prev"]),
                                        {k: inp[k] for k in p})
        return xp.sum(h * dh_T) + xp.sum(c * dc_T)

    _, cache = lnlstm_step_forward(x[0, ...], (h0, c0), p)
    dx, (dh_prev, dc_prev), grads = lnlstm_step_backward((dh_T, dc_T), cache)
    assert backend.on_this_device(dx) and backend.on_this_device(grads["g_c"])
    analytic = {**grads, "x_t": dx, "h_prev": dh_prev, "c_prev": dc_prev}
    assert set(analytic) == set(inputs)
    gradcheck(loss, inputs, analytic).assert_ok(1e-6)


def test_sequence_gradients(backend):
    p = _params(backend, seed=2)
    x, h0, c0, dh, dh_T, dc_T = _data(backend, seed=2)
    xp = backend.xp
    inputs = {**p, "x": x, "h0": h0, "c0": c0}

    def loss(inp):
        hs, (h, c), _ = lnlstm_forward(inp["x"], {k: inp[k] for k in p}, (inp["h0"], inp["c0"]))
        return xp.sum(hs * dh) + xp.sum(h * dh_T) + xp.sum(c * dc_T)

    _, _, cache = lnlstm_forward(x, p, (h0, c0))
    dx, (dh0, dc0), grads = lnlstm_backward(dh, cache, (dh_T, dc_T))
    analytic = {**grads, "x": dx, "h0": dh0, "c0": dc0}
    assert set(analytic) == set(inputs)
    gradcheck(loss, inputs, analytic).assert_ok(1e-6)


# ---------------------------------------------------------------- re-scaling invariance
def test_outputs_do_not_change_when_the_weights_are_rescaled():
    """Ba et al.'s key property: LN(alpha W x) = LN(W x) for alpha > 0 (exact as eps -> 0)."""
    p = _params(HOST, seed=3)
    x, h0, c0, *_ = _data(HOST, seed=3, T=5)
    eps = 1e-12
    hs, (h_T, c_T), _ = lnlstm_forward(x, p, (h0, c0), eps=eps)
    for key, alpha in (("W_x", 7.5), ("W_x", 0.1), ("W_h", 30.0)):
        hs2, (_, c_T2), _ = lnlstm_forward(x, {**p, key: alpha * p[key]}, (h0, c0), eps=eps)
        np.testing.assert_allclose(hs2, hs, atol=1e-9, err_msg=f"{key} * {alpha}")
        np.testing.assert_allclose(c_T2, c_T, atol=1e-9)
    # a negative factor flips the normalised projection: outputs change, so the test can fail
    hs_neg, _, _ = lnlstm_forward(x, {**p, "W_x": -p["W_x"]}, (h0, c0), eps=eps)
    assert np.max(np.abs(hs_neg - hs)) > 1e-2
    # the plain LSTM with the same weights is not invariant
    q = {k: p[k] for k in ("W_x", "W_h", "b")}
    h_lstm = labrnn.lstm_forward(x, q, (h0, c0))[0]
    h_lstm2 = labrnn.lstm_forward(x, {**q, "W_x": 7.5 * q["W_x"]}, (h0, c0))[0]
    assert np.max(np.abs(h_lstm2 - h_lstm)) > 1e-2


def test_weight_gradients_are_orthogonal_to_the_weights():
    """Invariance to W -> alpha W means d/d alpha L(alpha W) = <dL/dW, W> = 0 at alpha = 1."""
    p = _params(HOST, seed=4)
    x, h0, c0, dh, *_ = _data(HOST, seed=4, T=4)
    _, _, cache = lnlstm_forward(x, p, (h0, c0), eps=1e-12)
    _, _, grads = lnlstm_backward(dh, cache)
    for key in ("W_x", "W_h"):
        cos = np.sum(grads[key] * p[key]) / (np.linalg.norm(grads[key]) * np.linalg.norm(p[key]))
        assert abs(cos) < 1e-8, (key, cos)
    assert abs(np.sum(grads["g_x"] * p["g_x"])) > 1e-3    # the gains are not scale-free


# ---------------------------------------------------------------- parameters and errors
def test_init_gains_one_shifts_zero_and_lstm_weights(backend):
    p = init_lnlstm(D, H, seed=5, forget_bias=2.0, xp=backend.xp, device=backend.device)
    q = labrnn.init_lstm(D, H, seed=5, forget_bias=2.0)
    assert set(p) == set(LNLSTM_PARAMS)
    for k in ("W_x", "W_h", "b"):           # the LSTM's own weights, same seed
        np.testing.assert_array_equal(backend.to_numpy(p[k]), q[k])
    assert np.all(backend.to_numpy(p["b"])[H:2 * H] == 2.0)
    for k, size in (("g_x", 4 * H), ("g_h", 4 * H), ("g_c", H)):
        np.testing.assert_array_equal(backend.to_numpy(p[k]), np.ones(size))
        np.testing.assert_array_equal(backend.to_numpy(p["b" + k[1:]]), np.zeros(size))
    assert all(backend.on_this_device(v) for v in p.values())
    n = sum(int(np.prod(v.shape)) for v in p.values())
    assert n == lnlstm_param_count(D, H) == cell_param_count("lnlstm", D, H)
    assert n == 4 * (H * D + H * H + H) + 18 * H


def test_errors_name_the_argument_and_the_shapes():
    p = init_lnlstm(D, H, seed=0)
    x = np.zeros((T, B, D))
    bare = {k: p[k] for k in ("W_x", "W_h", "b")}      # an LSTM's parameters
    with pytest.raises(KeyError, match=r"missing the layer-norm gains/shifts \['g_x', 'b_x', "
                                       r"'g_h', 'b_h', 'g_c', 'b_c'\].*init_lnlstm"):
        lnlstm_forward(x, bare)
    with pytest.raises(KeyError, match=r"missing the layer-norm gains/shifts \['g_c'\]"):
        lnlstm_forward(x, {k: v for k, v in p.items() if k != "g_c"})
    with pytest.raises(ShapeError, match=r"params\['g_c'\] of an lnlstm cell with D=2 inputs "
                                         r"and H=3 units must have shape \(3,\), received "
                                         r"\(12,\)"):
        lnlstm_forward(x, {**p, "g_c": np.ones(4 * H)})
    with pytest.raises(ShapeError, match=r"params\['b_x'\] of an lnlstm cell with D=2 inputs "
                                         r"and H=3 units must have shape \(12,\), received "
                                         r"\(3,\)"):
        lnlstm_forward(x, {**p, "b_x": np.zeros(H)})
    with pytest.raises(ShapeError, match=r"params\['W_x'\] of an lnlstm cell with D=5 inputs "
                                         r"and H=3 units must have shape \(12, 5\), received "
                                         r"\(12, 2\) \(x has D=5 features per step, these "
                                         r"parameters were made for D=2\)"):
        lnlstm_forward(np.zeros((T, B, 5)), p)
    with pytest.raises(TypeError, match=r"state of an lnlstm cell must be the tuple \(h, c\) of "
                                        r"\(B, H\) arrays, received a single array of shape "
                                        r"\(2, 3\)"):
        lnlstm_step_forward(x[0], np.zeros((B, H)), p)
    with pytest.raises(ShapeError, match=r"state\[1\] \(c\) must have shape \(B=2, H=3\)"):
        lnlstm_step_forward(x[0], (np.zeros((B, H)), np.zeros((B, 4))), p)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        lnlstm_forward(x, p, eps=0.0)
    _, _, cache = lnlstm_forward(x, p)
    with pytest.raises(ShapeError, match=r"dout must have shape \(T=3, B=2, H=3\), received "
                                         r"\(3, 2, 4\)"):
        lnlstm_backward(np.zeros((T, B, 4)), cache)
    assert set(LN_PARAMS) < set(LNLSTM_PARAMS)


# ---------------------------------------------------------------- cells, recurrent, stacked
def test_cell_interface_runs_the_lnlstm(backend):
    p = init_cell("lnlstm", D, H, O=2, seed=6, xp=backend.xp, device=backend.device)
    assert set(p) == set(LNLSTM_PARAMS) | {"W_hy", "b_y"} and cell_variant("lnlstm", p) == {}
    x, h0, c0, dh, *_ = _data(backend, seed=6)
    h, (h_T, c_T), cache = cell_forward("lnlstm", x, p, state0=(h0, c0))
    h_ref, (h_T_ref, c_T_ref), cache_ref = lnlstm_forward(x, p, (h0, c0))
    np.testing.assert_array_equal(backend.to_numpy(h), backend.to_numpy(h_ref))
    np.testing.assert_array_equal(backend.to_numpy(h_T), backend.to_numpy(h_T_ref))
    np.testing.assert_array_equal(backend.to_numpy(c_T), backend.to_numpy(c_T_ref))
    dx, (dh0, dc0), grads = cell_backward(dh, cache)
    dx_ref, (dh0_ref, _), grads_ref = lnlstm_backward(dh, cache_ref)
    np.testing.assert_array_equal(backend.to_numpy(dx), backend.to_numpy(dx_ref))
    np.testing.assert_array_equal(backend.to_numpy(dh0), backend.to_numpy(dh0_ref))
    assert set(grads) == set(LNLSTM_PARAMS)
    assert cell_param_count("lnlstm", D, H, O=2) == lnlstm_param_count(D, H) + 2 * H + 2


def test_recurrent_layer_with_padding_equals_each_sequence_alone(backend):
    """Equation masked-state for the ln-LSTM: outputs, final (h, c) and gradients."""
    Tp, Bp, lengths = 4, 3, [4, 2, 3]
    p = _params(backend, seed=7)
    rng = np.random.default_rng(7)
    x = backend.asarray(rng.normal(size=(Tp, Bp, D)))        # garbage at padded steps too
    h0, c0 = (backend.asarray(rng.normal(size=(Bp, H))) for _ in range(2))
    dout = backend.asarray(rng.normal(size=(Tp, Bp, H)))
    dh_T, dc_T = (backend.asarray(rng.normal(size=(Bp, H))) for _ in range(2))
    out, (h_T, c_T), cache = recurrent_forward(x, p, (h0, c0), cell="lnlstm", return_state=True,
                                               lengths=backend.asarray(np.array(lengths)))
    dx, (dh0, dc0), grads = recurrent_backward(dout, cache, (dh_T, dc_T))
    assert backend.on_this_device(out) and backend.on_this_device(grads["g_h"])
    np_ = backend.to_numpy
    total = {k: 0.0 for k in grads}
    for b, L in enumerate(lengths):
        xb = x[:L, b:b + 1, ...]
        hb, (hb_T, cb_T), cb = lnlstm_forward(xb, p, (h0[b:b + 1, ...], c0[b:b + 1, ...]))
        np.testing.assert_allclose(np_(out)[:L, b], np_(hb)[:, 0], atol=1e-13)
        assert np.all(np_(out)[L:, b] == 0)
        np.testing.assert_allclose(np_(h_T)[b], np_(hb_T)[0], atol=1e-13)
        np.testing.assert_allclose(np_(c_T)[b], np_(cb_T)[0], atol=1e-13)
        dxb, (dh0b, dc0b), gb = lnlstm_backward(dout[:L, b:b + 1, ...], cb,
                                                (dh_T[b:b + 1, ...], dc_T[b:b + 1, ...]))
        np.testing.assert_allclose(np_(dx)[:L, b], np_(dxb)[:, 0], atol=1e-12)
        assert np.all(np_(dx)[L:, b] == 0)
        np.testing.assert_allclose(np_(dh0)[b], np_(dh0b)[0], atol=1e-12)
        np.testing.assert_allclose(np_(dc0)[b], np_(dc0b)[0], atol=1e-12)
        total = {k: total[k] + np_(gb[k]) for k in gb}
    for k in grads:
        np.testing.assert_allclose(np_(grads[k]), total[k], atol=1e-12, err_msg=k)


def test_recurrent_layer_without_lengths_is_the_sequence_function():
    p = init_lnlstm(D, H, seed=8)
    x = np.random.default_rng(8).normal(size=(T, B, D))
    out, (h_T, c_T), cache = recurrent_forward(x, p, cell="lnlstm", return_sequences=False,
                                               return_state=True)
    hs, (h_ref, c_ref), _ = lnlstm_forward(x, p)
    np.testing.assert_array_equal(out, hs[-1])
    np.testing.assert_array_equal(c_T, c_ref)
    dx, (dh0, dc0), grads = recurrent_backward(None, cache, (None, np.ones((B, H))))
    assert dx.shape == (T, B, D) and dc0.shape == (B, H) and set(grads) == set(LNLSTM_PARAMS)


def test_stacked_lnlstm_gradients():
    p = labrnn.init_stacked("lnlstm", D, H, layers=2, seed=9)
    rng = np.random.default_rng(9)
    p = {k: v + rng.normal(0, 0.2, v.shape) for k, v in p.items()}
    x, r = rng.normal(size=(2, B, D)), rng.normal(size=(2, B, H))

    def loss(inp):
        return np.sum(labrnn.stacked_forward(inp["x"], {k: inp[k] for k in p},
                                             cell="lnlstm", residual=True)[0] * r)

    _, states, cache = labrnn.stacked_forward(x, p, cell="lnlstm", residual=True)
    assert len(states) == 2 and all(len(s) == 2 for s in states)     # (h, c) per layer
    dx, dstate0, grads = labrnn.stacked_backward(r, cache)
    assert len(dstate0) == 2
    inputs = {**p, "x": x}
    gradcheck(loss, inputs, {**grads, "x": dx},
              names=["x", "l0.W_x", "l0.g_h", "l0.b_c", "l1.W_h", "l1.g_x"]).assert_ok(1e-6)
