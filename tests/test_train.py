"""labrnn.training.loops and labrnn.models.elman_rnn: whole-network gradients, ElmanRNN, truncated BPTT."""

import numpy as np
import pytest

import labrnn
from labrnn import ShapeError
from labrnn.training.gradcheck import relative_error

PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def _net(backend, T=3, B=2, D=2, H=3, O=3, seed=0):
    rng = np.random.default_rng(seed + 100)
    p = labrnn.init_elman(D, H, O, seed=seed)
    p["b_h"] = 0.3 * rng.standard_normal(H)
    p["b_y"] = 0.3 * rng.standard_normal(O)
    host = {**p, "x": rng.standard_normal((T, B, D)), "h0": 0.5 * rng.standard_normal((B, H))}
    return rng, {k: backend.asarray(v) for k, v in host.items()}


def _targets(rng, loss, T, B, O, many_to_one):
    lead = (B,) if many_to_one else (T, B)
    if loss == "cross_entropy":
        return rng.integers(0, O, size=lead)
    if loss == "bce":
        return rng.uniform(0, 1, size=lead + (O,))
    return rng.standard_normal(lead + (O,))


LOSSF = {"cross_entropy": labrnn.softmax_cross_entropy, "bce": labrnn.binary_cross_entropy,
         "mse": labrnn.mean_squared_error}


@pytest.mark.parametrize("loss,many_to_one,masked,act", [
    ("cross_entropy", False, False, "tanh"), ("cross_entropy", False, False, "relu"),
    ("cross_entropy", False, True, "tanh"), ("cross_entropy", True, False, "tanh"),
    ("cross_entropy", True, False, "relu"), ("bce", False, False, "tanh"),
    ("mse", False, True, "relu"), ("mse", True, False, "tanh")])
def test_sequence_loss_and_grads_gradcheck(backend, loss, many_to_one, masked, act):
    rng, inp = _net(backend)
    y = backend.asarray(_targets(rng, loss, 3, 2, 3, many_to_one))
    m = None
    if masked:
        m = backend.asarray(np.array([[1, 0], [1, 1], [0, 1]]) if not many_to_one else np.array([1, 0]))
    params = {k: inp[k] for k in PARAMS}

    value, grads, h_T, dh0 = labrnn.sequence_loss_and_grads(params, inp["x"], y, loss, inp["h0"], m,
                                                            act, many_to_one)
    assert isinstance(value, float) and set(grads) == set(PARAMS)
    h, (h_T2,), _ = labrnn.rnn_forward(inp["x"], params, (inp["h0"],), activation=act)
    np.testing.assert_array_equal(backend.to_numpy(h_T), backend.to_numpy(h)[-1])
    np.testing.assert_array_equal(backend.to_numpy(h_T), backend.to_numpy(h_T2))

    def f(d):   # the network's loss from forward pieces only
        h = labrnn.rnn_forward(inp["x"], d, (d["h0"],), activation=act)[0]
        z = labrnn.affine_forward(h[-1, ...] if many_to_one else h, d["W_hy"], d["b_y"])[0]
        return LOSSF[loss](z, y, m)[0]

    assert float(f({**params, "h0": inp["h0"]})) == pytest.approx(value, rel=1e-14)
    inputs = {**params, "h0": inp["h0"]}
    report = labrnn.gradcheck(f, inputs, {**grads, "h0": dh0})
    assert len(report.rows) == 6
    report.assert_ok(1e-6)


def test_many_to_one_reads_only_the_last_state(backend):
    """Changing an early target does not matter when only h_T is read out."""
    rng, inp = _net(backend, T=4)
    params = {k: inp[k] for k in PARAMS}
    y = backend.asarray(np.array([0, 2]))
    v1, g1, _, _ = labrnn.sequence_loss_and_grads(params, inp["x"], y, many_to_one=True)
    h, _, _ = labrnn.rnn_forward(inp["x"], params)
    z, _ = labrnn.affine_forward(h[-1, ...], params["W_hy"], params["b_y"])
    v2, _ = labrnn.softmax_cross_entropy(z, y)
    assert v1 == pytest.approx(float(v2), rel=1e-14)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_elman_rnn_forward_backward_gradcheck(backend, act):
    model = labrnn.ElmanRNN(2, 3, 2, activation=act, seed=5, xp=backend.xp, device=backend.device)
    rng = np.random.default_rng(9)
    model.params["b_h"] = backend.asarray(0.3 * rng.standard_normal(3))
    x = backend.asarray(rng.standard_normal((3, 2, 2)))
    h0 = backend.asarray(0.5 * rng.standard_normal((2, 3)))
    G = backend.asarray(rng.standard_normal((3, 2, 2)))
    xp = labrnn.namespace(G)

    z, h, cache = model.forward(x, h0)
    assert tuple(z.shape) == (3, 2, 2) and tuple(h.shape) == (3, 2, 3)
    dx, dh0, grads = model.backward(G, cache)

    def f(d):
        m = labrnn.ElmanRNN(2, 3, 2, activation=act, seed=5, xp=backend.xp, device=backend.device)
        m.params = {k: d[k] for k in PARAMS}
        return xp.sum(m.forward(d["x"], d["h0"])[0] * G)

    inputs = {**model.params, "x": x, "h0": h0}
    report = labrnn.gradcheck(f, inputs, {**grads, "x": dx, "h0": dh0})
    assert len(report.rows) == 7
    report.assert_ok(1e-6)


def test_elman_rnn_wrapper(backend):
    model = labrnn.ElmanRNN(3, 4, 2, seed=1, xp=backend.xp, device=backend.device)
    assert model.n_params == labrnn.elman_param_count(3, 4, 2) == 12 + 16 + 4 + 8 + 2
    assert repr(model) == "ElmanRNN(D=3, H=4, O=2, activation='tanh', params=42)"
    x = backend.asarray(np.random.default_rng(0).standard_normal((4, 2, 3)))
    y = backend.asarray(np.array([[0, 1], [1, 1], [0, 0], [1, 0]]))
    v1, g1, _, _ = model.loss_and_grads(x, y)
    v2, g2, _, _ = labrnn.sequence_loss_and_grads(model.params, x, y)
    assert v1 == v2
    for k in PARAMS:
        np.testing.assert_array_equal(backend.to_numpy(g1[k]), backend.to_numpy(g2[k]))


def test_training_with_adam_lowers_the_loss(backend):
    model = labrnn.ElmanRNN(2, 4, 2, seed=0, xp=backend.xp, device=backend.device)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3, 2))
    y = backend.asarray((x[..., 0] > 0).astype(np.int64))      # a task the RNN can learn
    x = backend.asarray(x)
    opt = labrnn.Adam(lr=0.05)
    first = model.loss_and_grads(x, y)[0]
    for _ in range(40):
        _, grads, _, _ = model.loss_and_grads(x, y)
        opt.step(model.params, grads)
    assert model.loss_and_grads(x, y)[0] < 0.5 * first


def test_train_errors(backend):
    rng, inp = _net(backend)
    params = {k: inp[k] for k in PARAMS}
    y = backend.asarray(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; choose one of \['bce', 'cross_entropy', 'mse'\]"):
        labrnn.sequence_loss_and_grads(params, inp["x"], y, loss="hinge")
    no_out = {k: params[k] for k in ("W_xh", "W_hh", "b_h")}
    with pytest.raises(KeyError, match=r"params needs an output layer \(W_hy, b_y\).*init_elman\(D, H, O"):
        labrnn.sequence_loss_and_grads(no_out, inp["x"], y)
    with pytest.raises(ShapeError, match=r"targets must have shape \(2,\).*received \(3, 2\)"):
        labrnn.sequence_loss_and_grads(params, inp["x"], y, many_to_one=True)
    for bad in (0, -2, 1.5, "3"):
        with pytest.raises(ValueError, match=f"chunk must be a positive int, received {bad!r}"):
            labrnn.truncated_bptt(params, inp["x"], y, chunk=bad)


# --------------------------------------------------------------------- truncated BPTT

def test_truncated_bptt_one_chunk_is_full_bptt(backend):
    rng, inp = _net(backend, T=4)
    params = {k: inp[k] for k in PARAMS}
    y = backend.asarray(rng.integers(0, 3, size=(4, 2)))
    full, g_full, h_full, _ = labrnn.sequence_loss_and_grads(params, inp["x"], y, h0=inp["h0"])
    for chunk in (4, 10):
        losses, g, h_T = labrnn.truncated_bptt(params, inp["x"], y, chunk, h0=inp["h0"])
        assert losses == [full]
        np.testing.assert_array_equal(backend.to_numpy(h_T), backend.to_numpy(h_full))
        for k in PARAMS:
            np.testing.assert_allclose(backend.to_numpy(g[k]), backend.to_numpy(g_full[k]), rtol=1e-14)


def test_truncated_bptt_carries_state_but_not_gradient(backend):
    """Chunks of 2 over T=6: same forward states as the full pass, but W_xh/W_hh gradients
    miss the paths across chunk boundaries. The output layer's gradient has no path through
    time, so it equals full BPTT's (after rescaling: a chunk loss is the mean over its 2 steps,
    the full loss the mean over 6, so the sum of chunk gradients is 3 times full BPTT's)."""
    rng, inp = _net(backend, T=6)
    params = {k: inp[k] for k in PARAMS}
    y = backend.asarray(rng.integers(0, 3, size=(6, 2)))
    losses, g, h_T = labrnn.truncated_bptt(params, inp["x"], y, 2, h0=inp["h0"])
    full, g_full, h_full, _ = labrnn.sequence_loss_and_grads(params, inp["x"], y, h0=inp["h0"])
    assert len(losses) == 3
    assert np.mean(losses) == pytest.approx(full, rel=1e-13)
    np.testing.assert_allclose(backend.to_numpy(h_T), backend.to_numpy(h_full), rtol=1e-14)
    for k in ("W_hy", "b_y"):
        np.testing.assert_allclose(backend.to_numpy(g[k]), 3 * backend.to_numpy(g_full[k]), rtol=1e-12)
    for k in ("W_xh", "W_hh"):
        rel = relative_error(g[k], 3 * backend.to_numpy(g_full[k]))
        assert rel > 1e-3, f"truncated {k} gradient should miss the cross-chunk terms"


def test_truncated_bptt_with_optimizer_updates_every_chunk(backend):
    rng, inp = _net(backend, T=6)
    params = {k: inp[k] for k in PARAMS}
    before = {k: backend.to_numpy(v).copy() for k, v in params.items()}
    y = backend.asarray(rng.integers(0, 3, size=(6, 2)))
    opt = labrnn.SGD(lr=0.5)
    labrnn.truncated_bptt(params, inp["x"], y, 3, optimizer=opt, max_norm=0.1)
    # two chunks, each step clipped to norm 0.1 and scaled by lr 0.5: moved at most 0.1 in total
    moved = np.sqrt(sum(((backend.to_numpy(params[k]) - before[k]) ** 2).sum() for k in PARAMS))
    assert 0 < moved <= 2 * 0.5 * 0.1 + 1e-12
    # the loss goes down with repeated passes
    first = labrnn.sequence_loss_and_grads(params, inp["x"], y)[0]
    adam = labrnn.Adam(0.05)
    for _ in range(20):
        labrnn.truncated_bptt(params, inp["x"], y, 3, optimizer=adam)
    assert labrnn.sequence_loss_and_grads(params, inp["x"], y)[0] < first
