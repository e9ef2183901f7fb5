"""Property tests (hypothesis) over random small shapes, on NumPy and array-api-strict.

* the vectorised sequence forward equals a Python loop of ``rnn_step_forward``;
* ``rnn_backward`` equals a loop of ``rnn_step_backward`` carrying ``dh_prev``;
* truncated BPTT: one chunk is full BPTT; several chunks carry the state (same final
  state and losses as the full forward) but cut the gradient at chunk boundaries.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import labrnn

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)

dims = st.fixed_dictionaries({
    "T": st.integers(1, 6), "B": st.integers(1, 3), "D": st.integers(1, 4), "H": st.integers(1, 4),
    "act": st.sampled_from(["tanh", "relu"]), "seed": st.integers(0, 2 ** 16)})


def _problem(bk, T, B, D, H, seed, O=None, **_):
    rng = np.random.default_rng(seed)
    host = labrnn.init_elman(D, H, O, seed=seed)
    host["b_h"] = 0.3 * rng.standard_normal(H)
    params = {k: bk.asarray(v) for k, v in host.items()}
    x = bk.asarray(rng.standard_normal((T, B, D)))
    h0 = bk.asarray(0.5 * rng.standard_normal((B, H)))
    return rng, params, x, h0


def _close(bk, a, b, tol=1e-12):
    np.testing.assert_allclose(bk.to_numpy(a), bk.to_numpy(b), rtol=tol, atol=tol)


@SETTINGS
@given(dims)
def test_sequence_forward_equals_loop_of_steps(cheap_backend, d):
    bk = cheap_backend
    _, params, x, h0 = _problem(bk, **d)
    h, (h_T,), _ = labrnn.rnn_forward(x, params, (h0,), activation=d["act"])
    assert tuple(h.shape) == (d["T"], d["B"], d["H"])
    _close(bk, h_T, h[-1, ...], 0)
    state = h0
    for t in range(d["T"]):
        state, _ = labrnn.rnn_step_forward(x[t, ...], state, params, d["act"])
        _close(bk, h[t, ...], state)


@SETTINGS
@given(dims, st.booleans())
def test_sequence_backward_equals_loop_of_steps(cheap_backend, d, with_dh_T):
    bk = cheap_backend
    rng, params, x, h0 = _problem(bk, **d)
    T = d["T"]
    dh = bk.asarray(rng.standard_normal((T, d["B"], d["H"])))
    dh_T = bk.asarray(rng.standard_normal((d["B"], d["H"]))) if with_dh_T else None
    _, _, cache = labrnn.rnn_forward(x, params, (h0,), activation=d["act"])
    dx, (dh0,), grads = labrnn.rnn_backward(dh, cache, (dh_T,))

    caches, state = [], h0
    for t in range(T):
        state, c = labrnn.rnn_step_forward(x[t, ...], state, params, d["act"])
        caches.append(c)
    carry = dh_T if with_dh_T else bk.asarray(np.zeros((d["B"], d["H"])))
    total = None
    for t in range(T - 1, -1, -1):
        dx_t, carry, g = labrnn.rnn_step_backward(dh[t, ...] + carry, caches[t])
        _close(bk, dx[t, ...], dx_t)
        total = g if total is None else {k: total[k] + g[k] for k in g}
    _close(bk, dh0, carry)
    for k in ("W_xh", "W_hh", "b_h"):
        _close(bk, grads[k], total[k])


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 3, 2, 4), (6, 1, 4, 2)], ids=["T=B=1", "T=1", "B=1"])
def test_degenerate_sizes_gradcheck(backend, shape):
    T, B, D, H = shape
    rng, params, x, h0 = _problem(backend, T, B, D, H, seed=5)
    G = backend.asarray(rng.standard_normal((T, B, H)))
    xp = labrnn.namespace(G)
    h, _, cache = labrnn.rnn_forward(x, params, (h0,))
    assert tuple(h.shape) == (T, B, H)
    dx, (dh0,), grads = labrnn.rnn_backward(G, cache)

    def f(d):
        return xp.sum(labrnn.rnn_forward(d["x"], {k: d[k] for k in params}, (d["h0"],))[0] * G)

    labrnn.gradcheck(f, {**params, "x": x, "h0": h0}, {**grads, "x": dx, "h0": dh0}).assert_ok(1e-6)


def _targets(bk, rng, T, B, O):
    return bk.asarray(rng.integers(0, O, size=(T, B)))


@SETTINGS
@given(dims, st.integers(0, 3))
def test_truncated_bptt_one_chunk_is_full_bptt(cheap_backend, d, extra):
    bk = cheap_backend
    rng, params, x, h0 = _problem(bk, O=3, **d)
    y = _targets(bk, rng, d["T"], d["B"], 3)
    full, g_full, h_full, _ = labrnn.sequence_loss_and_grads(params, x, y, h0=h0, activation=d["act"])
    losses, g, h_T = labrnn.truncated_bptt(params, x, y, d["T"] + extra, h0=h0, activation=d["act"])
    assert losses == [pytest.approx(full, rel=1e-14)]
    _close(bk, h_T, h_full, 0)
    for k in g_full:
        _close(bk, g[k], g_full[k])


@SETTINGS
@given(dims, st.integers(1, 3))
def test_truncated_bptt_carries_the_state(cheap_backend, d, chunk):
    bk = cheap_backend
    rng, params, x, h0 = _problem(bk, O=3, **d)
    T = d["T"]
    y = _targets(bk, rng, T, d["B"], 3)
    losses, _, h_T = labrnn.truncated_bptt(params, x, y, chunk, h0=h0, activation=d["act"])
    h, _, _ = labrnn.rnn_forward(x, params, (h0,), activation=d["act"])
    _close(bk, h_T, h[-1, ...])
    starts = list(range(0, T, chunk))
    assert len(losses) == len(starts)
    # each chunk's loss is computed from the states of the *full* forward pass
    z, _ = labrnn.affine_forward(h, params["W_hy"], params["b_y"])
    for start, value in zip(starts, losses):
        stop = min(start + chunk, T)     # array-api-strict refuses out-of-bounds slice stops
        ref, _ = labrnn.softmax_cross_entropy(z[start:stop, ...], y[start:stop, ...])
        assert value == pytest.approx(float(ref), rel=1e-12)


@SETTINGS
@given(st.integers(2, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(2, 4),
       st.integers(0, 2 ** 16))
def test_truncated_bptt_cannot_see_across_chunks(cheap_backend, n_chunks, chunk, B, D, H, seed):
    """T = n_chunks * chunk, tanh. The sum of chunk losses is (T / chunk) times the full mean
    loss, so exact BPTT of the truncated objective is (T / chunk) * full BPTT. The output layer
    (no path through time) agrees with it; the recurrent weights do not, because the paths
    from a chunk's loss back into earlier chunks are cut."""
    bk = cheap_backend
    T = n_chunks * chunk
    rng, params, x, h0 = _problem(bk, T, B, D, H, seed, O=3)
    y = _targets(bk, rng, T, B, 3)
    _, g_full, _, _ = labrnn.sequence_loss_and_grads(params, x, y, h0=h0)
    _, g, _ = labrnn.truncated_bptt(params, x, y, chunk, h0=h0)
    for k in ("W_hy", "b_y"):
        _close(bk, g[k], n_chunks * bk.to_numpy(g_full[k]), 1e-10)
    from labrnn.training.gradcheck import relative_error
    rel = relative_error(np.concatenate([bk.to_numpy(g[k]).ravel() for k in ("W_xh", "W_hh")]),
                         np.concatenate([n_chunks * bk.to_numpy(g_full[k]).ravel() for k in ("W_xh", "W_hh")]))
    assert rel > 1e-8, "truncated and full BPTT agree: the cross-chunk gradient was not cut"
