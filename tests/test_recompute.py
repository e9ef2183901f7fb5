"""Gradient checkpointing (labrnn.cells.recompute): the same results as plain BPTT, less memory.

``cell.forward(..., checkpoint_every=k)`` keeps the state every ``k`` steps and the
backward pass recomputes each segment from its checkpoint. Every step does the
plain pass's arithmetic, so outputs, states and every gradient must equal the
plain pass's up to the order of the sums over segments (float64, ``rtol=1e-12``),
for every registered cell (and the toy cell of the API appendix), with ``state0``,
``dstate_T``, a padded batch and a recurrent dropout mask.
"""

import math

import numpy as np
import pytest

import labrnn
from labrnn.bench.memory import activation_bytes, checkpoint_tradeoff
from labrnn.cells import (CheckpointCache, SequenceCache, cell_backward, cell_forward, get_cell,
                          register_cell, unregister_cell)
from labrnn.cells.recompute import segments
from labrnn.errors import ArgumentTypeError

from toy_cell import LEAKY

T, B, D, H = 8, 4, 3, 5
LENGTHS = np.array([8, 5, 3, 1])
KS = (1, 3, T - 1, T, T + 5)

VARIANTS = [("elman", {}), ("elman", {"activation": "relu"}), ("lstm", {}),
            ("lstm", {"peephole": True}), ("gru", {}), ("gru", {"reset": "before"}),
            ("lnlstm", {}), ("leaky", {})]


@pytest.fixture(scope="module", autouse=True)
def toy_registered():
    register_cell(LEAKY)
    yield
    unregister_cell(LEAKY.name)


def _params(name, kw, seed=1):
    init_kw = {k: v for k, v in kw.items() if k != "activation"}
    p = get_cell(name).init(D, H, seed=seed, **init_kw)
    rng = np.random.default_rng(seed + 100)
    # make every parameter matter (peepholes and biases start at zero)
    return {k: v + 0.3 * rng.normal(size=v.shape) for k, v in p.items()}


def _opts(kw):
    return {"activation": kw["activation"]} if "activation" in kw else {}


def _problem(name, seed=0):
    n = len(get_cell(name).state_names)
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(T, B, D)),
            "s0": tuple(rng.normal(size=(B, H)) for _ in range(n)),
            "h_mask": (rng.random((B, H)) > 0.3) / 0.7,
            "dout": rng.normal(size=(T, B, H)),
            "dT": tuple(rng.normal(size=(B, H)) for _ in range(n))}


def _close(got, want, what):
    got, want = labrnn.to_numpy(got), labrnn.to_numpy(want)
    # rtol 1e-12; the atol (1e-15 of the largest entry) only covers entries that are zero in
    # one pass and a last-bit residue of a sum in the other
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * np.max(np.abs(want)),
                               err_msg=what)


def _compare(c, xp_x, p, s0, lengths, h_mask, dout, dT, opts, k):
    o1, f1, c1 = c.forward(xp_x, p, s0, lengths, h_mask=h_mask, **opts)
    dx1, d01, g1 = c.backward(dout, c1, dT)
    o2, f2, c2 = c.forward(xp_x, p, s0, lengths, h_mask=h_mask, checkpoint_every=k, **opts)
    assert isinstance(c1, SequenceCache) and isinstance(c2, CheckpointCache)
    assert len(c2.checkpoints) == math.ceil(T / k)
    dx2, d02, g2 = c.backward(dout, c2, dT)
    _close(o2, o1, f"out, k={k}")
    _close(dx2, dx1, f"dx, k={k}")
    for i, (a, b) in enumerate(zip(f2, f1)):
        _close(a, b, f"final_state[{i}], k={k}")
    for i, (a, b) in enumerate(zip(d02, d01)):
        _close(a, b, f"dstate0[{i}], k={k}")
    assert set(g2) == set(g1) == set(p)
    for name in g1:
        _close(g2[name], g1[name], f"grads[{name!r}], k={k}")


@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("name,kw", VARIANTS)
def test_checkpointed_pass_equals_the_plain_pass(name, kw, padded):
    c = get_cell(name)
    p = _params(name, kw)
    q = _problem(name)
    lengths = LENGTHS if padded else None
    for k in KS:
        _compare(c, q["x"], p, q["s0"], lengths, q["h_mask"], q["dout"], q["dT"], _opts(kw), k)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_checkpointed_pass_on_every_backend(backend, name):
    """The same on array-api-strict (both devices): no NumPy-only operation, nothing moves."""
    c = get_cell(name)
    p = {k: backend.asarray(v) for k, v in _params(name, {}).items()}
    q = _problem(name)
    on = lambda a: backend.asarray(a)                      # noqa: E731
    s0, dT = tuple(map(on, q["s0"])), tuple(map(on, q["dT"]))
    for k in (1, 3, T):
        _compare(c, on(q["x"]), p, s0, on(LENGTHS), on(q["h_mask"]), on(q["dout"]), dT, {}, k)
    out, st, cache = c.forward(on(q["x"]), p, s0, on(LENGTHS), checkpoint_every=3)
    dx, d0, g = c.backward(on(q["dout"]), cache, dT)
    assert all(backend.on_this_device(a) for a in (out, dx, *st, *d0, *g.values()))


def test_without_dout_or_dstate_T_and_through_cell_forward():
    """``dout=None`` (an encoder), ``dstate_T`` entries ``None``, and the registry's shortcuts."""
    p = _params("lstm", {})
    q = _problem("lstm")
    o1, f1, c1 = cell_forward("lstm", q["x"], p, q["s0"], LENGTHS)
    o2, f2, c2 = cell_forward("lstm", q["x"], p, q["s0"], LENGTHS, checkpoint_every=3)
    _close(o2, o1, "out")
    r1 = cell_backward(None, c1, (q["dT"][0], None))
    r2 = cell_backward(None, c2, (q["dT"][0], None))
    _close(r2[0], r1[0], "dx")
    for a, b in zip(r2[1], r1[1]):
        _close(a, b, "dstate0")
    for k in r1[2]:
        _close(r2[2][k], r1[2][k], k)
    # padded steps: zero output, zero input gradient, as in the plain pass
    for b, L in enumerate(LENGTHS):
        assert np.all(o2[L:, b] == 0) and np.all(r2[0][L:, b] == 0)


def test_segments_cover_the_sequence_once():
    assert segments(8, 3) == [(0, 3), (3, 6), (6, 8)]
    assert segments(8, 8) == segments(8, 13) == [(0, 8)]
    assert segments(5, 1) == [(t, t + 1) for t in range(5)]


def test_gradcheck_of_a_checkpointed_pass():
    """Central differences (float64) of a checkpointed peephole LSTM, padded, with dropout."""
    c = get_cell("lstm")
    p = _params("lstm", {"peephole": True})
    q = _problem("lstm", seed=3)
    R, RT = q["dout"], q["dT"]

    def loss(inp):
        out, st, _ = c.forward(inp["x"], {k: inp[k] for k in p}, (inp["h0"], inp["c0"]),
                               LENGTHS, h_mask=q["h_mask"], checkpoint_every=3)
        return np.sum(out * R) + sum(np.sum(s * r) for s, r in zip(st, RT))

    out, st, cache = c.forward(q["x"], p, q["s0"], LENGTHS, h_mask=q["h_mask"],
                               checkpoint_every=3)
    dx, d0, grads = c.backward(R, cache, RT)
    inputs = {"x": q["x"], **p, "h0": q["s0"][0], "c0": q["s0"][1]}
    analytic = {"x": dx, **grads, "h0": d0[0], "c0": d0[1]}
    labrnn.gradcheck(loss, inputs, analytic).assert_ok(1e-6)


def test_the_cache_keeps_checkpoints_not_activations():
    """T=100, k=10: the cache holds ceil(T/k) states (plus the padding mask and h_mask),
    the most alive in backward is that plus one segment's activations, ``~ T/k + k``
    steps of the plain pass, far below its T steps."""
    Tm, k, Bm, Hm, Dm = 100, 10, 16, 32, 8
    c = get_cell("lstm")
    p = c.init(Dm, Hm, seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(Tm, Bm, Dm))
    lengths = np.linspace(50, Tm, Bm).round().astype(np.int64)
    h_mask = (rng.random((Bm, Hm)) > 0.3) / 0.7
    exclude = [p, x]
    _, _, plain = c.forward(x, p, None, lengths, h_mask=h_mask)
    _, _, ckpt = c.forward(x, p, None, lengths, h_mask=h_mask, checkpoint_every=k)
    state = 2 * Bm * Hm * 8                                      # (h, c), float64
    extra = Tm * Bm * 1 + Bm * Hm * 8                            # the bool mask, h_mask
    plain_b, ckpt_b = activation_bytes(plain, exclude), activation_bytes(ckpt, exclude)
    assert ckpt_b <= (Tm // k) * state + extra
    assert plain_b >= Tm * state                                 # it keeps at least every state
    assert 20 * ckpt_b < plain_b
    _, _, seg = c.forward(x[:k], p, None, h_mask=h_mask)         # one recomputed segment
    seg_b = activation_bytes(seg, exclude)
    assert ckpt_b + seg_b <= (Tm / k + k) / Tm * plain_b + extra
    assert 3 * (ckpt_b + seg_b) < plain_b


def test_checkpoint_tradeoff_reports_memory_and_time():
    r = checkpoint_tradeoff("lstm", T=12, B=2, D=3, H=4, ks=(3, 12), dtype="float64",
                            rounds=1, min_round_s=0.001)
    rows = {row["k"]: row for row in r["results"]}
    assert list(rows) == [None, 3, 12]
    plain = rows[None]
    assert plain["segment_bytes"] == 0 and plain["memory_ratio"] == plain["time_ratio"] == 1.0
    assert rows[3]["segments"] == 4 and rows[12]["segments"] == 1
    # k=3: 4 checkpoints (h, c) of (2, 4) float64, the first the zero state (one array twice)
    assert rows[3]["cache_bytes"] == 3 * 2 * 64 + 64
    # one segment as long as the sequence is the plain pass (plus the zero checkpoint)
    assert rows[12]["segment_bytes"] == plain["activation_bytes"]
    assert rows[3]["activation_bytes"] < plain["activation_bytes"]
    for row in rows.values():
        assert row["activation_bytes"] == row["cache_bytes"] + row["segment_bytes"]
        assert row["traced_peak_bytes"] > 0 and row["median_s"] >= row["min_s"] > 0


class TestBadInput:
    @pytest.mark.parametrize("k,err,msg", [
        (0, ValueError, "checkpoint_every must be an integer >= 1, received 0"),
        (-2, ValueError, "checkpoint_every must be an integer >= 1, received -2"),
        (2.5, ArgumentTypeError, "checkpoint_every must be an integer >= 1, received .*2.5"),
        ("3", ArgumentTypeError, "checkpoint_every must be an integer >= 1, received .*'3'"),
        (True, ArgumentTypeError, "checkpoint_every must be an integer >= 1, received .*True"),
    ])
    def test_checkpoint_every_must_be_a_positive_int(self, k, err, msg):
        p = _params("gru", {})
        with pytest.raises(err, match=msg):
            get_cell("gru").forward(_problem("gru")["x"], p, checkpoint_every=k)

    def test_numpy_integers_and_k_beyond_T_are_accepted(self):
        p = _params("gru", {})
        x = _problem("gru")["x"]
        _, _, cache = get_cell("gru").forward(x, p, checkpoint_every=np.int64(100))
        assert cache.bounds == [(0, T)] and cache.k == 100

    def test_backward_checks_dout_and_dstate_T(self):
        c = get_cell("lstm")
        q = _problem("lstm")
        _, _, cache = c.forward(q["x"], _params("lstm", {}), checkpoint_every=3)
        with pytest.raises(labrnn.ShapeError, match=r"dout .*T=8"):
            c.backward(q["dout"][:5], cache)
        with pytest.raises(TypeError, match=r"dstate_T of an lstm cell must be the tuple \(h, c\)"):
            c.backward(q["dout"], cache, q["dT"][0])
        with pytest.raises(TypeError, match="cache comes from an lstm cell, but this is the "
                                            "backward pass of a gru cell"):
            get_cell("gru").backward(q["dout"], cache)
        with pytest.raises(labrnn.NonFiniteError, match=r"dout contains a non-finite value \(nan\)"):
            c.backward(np.full_like(q["dout"], np.nan), cache)
