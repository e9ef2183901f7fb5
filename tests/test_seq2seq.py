"""Encoder-decoder (labrnn.models.seq2seq): gradients, padding invariance, decoding, errors."""

import numpy as np
import pytest

import labrnn
from labrnn import beam_search, greedy_decode, sample_decode
from labrnn.errors import ShapeError
from labrnn.models.seq2seq import (DECODERS, init_seq2seq, make_step_fn, seq2seq_encode,
                            seq2seq_forward, seq2seq_loss, shift_right)

V, E, H = 5, 2, 3
BOS, EOS = 0, 1


def _params(backend, decoder, cell, score, seed=1, scale=1.0):
    """Random N(0, scale) parameters with init_seq2seq's keys: large enough gradients to check."""
    p = init_seq2seq(V, V, E, H, decoder=decoder, cell=cell, score=score, seed=seed)
    rng = np.random.default_rng(seed)
    return {k: backend.asarray(rng.normal(0.0, scale, v.shape)) for k, v in p.items()}


def _data(backend, S=4, T=3, B=2, seed=0):
    rng = np.random.default_rng(seed)
    return backend.asarray(rng.integers(2, V, (S, B))), backend.asarray(rng.integers(2, V, (T, B)))


def _check(backend, decoder, cell, score, S=4, T=3, names=None):
    p = _params(backend, decoder, cell, score)
    src, tgt = _data(backend, S, T)
    kw = dict(bos=BOS, decoder=decoder, cell=cell, score=score,
              src_lengths=[S, S - 2], tgt_lengths=[T, T - 1])
    loss, grads, _ = seq2seq_loss(src, tgt, p, **kw)
    assert sorted(grads) == sorted(p)
    for k in p:
        assert backend.on_this_device(grads[k]), k
    labrnn.gradcheck(lambda q: seq2seq_loss(src, tgt, q, **kw)[0], p, grads,
                    names=names).assert_ok(1e-6)


VARIANTS = [("elman", "init", "additive"), ("elman", "feed", "additive"),
            ("elman", "attention", "additive"), ("elman", "attention", "general"),
            ("elman", "attention", "dot"), ("gru", "attention", "additive"),
            ("lstm", "feed", "additive"), ("lstm", "attention", "general"),
            ("lnlstm", "attention", "additive")]


@pytest.mark.parametrize("cell,decoder,score", VARIANTS)
def test_gradcheck_numpy(cell, decoder, score):
    from conftest import make_backend
    _check(make_backend("numpy"), decoder, cell, score)


@pytest.mark.parametrize("cell,decoder,score,names", [
    ("gru", "attention", "additive", ["out.W", "dec.W_h", "attn.W_q", "attn.v", "enc.W_h",
                                      "src.E"]),
    ("elman", "feed", "additive", None)])
def test_gradcheck_cheap_backends(cheap_backend, cell, decoder, score, names):
    """The same checks on array_api_strict (a subset of the arguments, to keep it quick)."""
    if cheap_backend.name == "numpy":
        pytest.skip("numpy is covered by test_gradcheck_numpy")
    _check(cheap_backend, decoder, cell, score, S=3, T=2, names=names)


@pytest.mark.parametrize("decoder", DECODERS)
def test_padding_changes_nothing(decoder):
    """A padded batch gives the token-weighted mean of each pair run alone, gradients too."""
    from conftest import make_backend
    bk = make_backend("numpy")
    cell, score = "gru", "general"
    p = _params(bk, decoder, cell, score)
    rng = np.random.default_rng(3)
    src_len, tgt_len = [5, 2, 3], [2, 4, 1]
    S, T = max(src_len), max(tgt_len)
    src = rng.integers(2, V, (S, 3))
    tgt = rng.integers(2, V, (T, 3))
    kw = dict(bos=BOS, decoder=decoder, cell=cell, score=score)
    loss, grads, cache = seq2seq_loss(src, tgt, p, src_lengths=src_len, tgt_lengths=tgt_len, **kw)
    n = sum(tgt_len)
    total, gsum = 0.0, {k: 0.0 for k in p}
    for b in range(3):
        s, t = src[:src_len[b], b:b + 1], tgt[:tgt_len[b], b:b + 1]
        l1, g1, c1 = seq2seq_loss(s, t, p, **kw)
        np.testing.assert_allclose(cache["logits"][:tgt_len[b], b], c1["logits"][:, 0],
                                   rtol=1e-12, atol=1e-12)
        total += float(l1) * tgt_len[b] / n
        for k in p:
            gsum[k] = gsum[k] + g1[k] * tgt_len[b] / n
    assert abs(float(loss) - total) < 1e-12
    for k in p:
        np.testing.assert_allclose(grads[k], gsum[k], rtol=1e-9, atol=1e-12, err_msg=k)
    # padded positions hold junk: changing them changes nothing
    src2, tgt2 = src.copy(), tgt.copy()
    src2[2:, 1] = 4
    tgt2[1:, 2] = 3
    loss2, grads2, _ = seq2seq_loss(src2, tgt2, p, src_lengths=src_len, tgt_lengths=tgt_len, **kw)
    assert float(loss2) == float(loss)
    for k in p:
        np.testing.assert_array_equal(grads2[k], grads[k])


def test_attention_ignores_padded_source_steps():
    from conftest import make_backend
    p = _params(make_backend("numpy"), "attention", "gru", "additive")
    src, tgt = np.full((4, 2), 3), np.full((3, 2), 2)
    _, cache = seq2seq_forward(src, shift_right(tgt, BOS), p, decoder="attention", cell="gru",
                               src_lengths=[4, 2])
    alpha = cache["alpha"]                                    # (T, S, B)
    assert alpha.shape == (3, 4, 2)
    assert np.all(alpha[:, 2:, 1] == 0.0)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)


@pytest.mark.parametrize("decoder", DECODERS)
def test_step_fn_matches_teacher_forcing(decoder):
    """Feeding the true tokens one at a time reproduces the teacher-forced log-probabilities."""
    from conftest import make_backend
    p = _params(make_backend("numpy"), decoder, "lstm", "dot")
    src, tgt = np.array([[2], [3], [4]]), np.array([[4], [2], [EOS]])
    kw = dict(decoder=decoder, cell="lstm", score="dot")
    logits, _ = seq2seq_forward(src, shift_right(tgt, BOS), p, **kw)
    step, (state, _) = make_step_fn(p, **kw), seq2seq_encode(src, p, **kw)
    token = BOS
    for t in range(3):
        lp, state = step(state, token)
        np.testing.assert_allclose(lp[0], labrnn.log_softmax(logits[t, 0]), atol=1e-12)
        token = int(tgt[t, 0])


def test_decoding_strategies_run_on_the_step_fn(cheap_backend):
    p = init_seq2seq(6, 6, 3, 4, decoder="attention", seed=0, xp=cheap_backend.xp,
                     device=cheap_backend.device)
    src = cheap_backend.asarray(np.array([[2], [3], [4]]))
    step = make_step_fn(p)
    state, _ = seq2seq_encode(src, p)
    g = greedy_decode(step, state, BOS, EOS, max_len=5)
    b = beam_search(step, state, BOS, EOS, max_len=5, beam_width=1)[0]
    assert g.tokens == b.tokens and abs(g.log_prob - b.log_prob) < 1e-9
    b3 = beam_search(step, state, BOS, EOS, max_len=5, beam_width=3, alpha=0.0)[0]
    assert b3.log_prob >= g.log_prob - 1e-12 or len(b3.tokens) != len(g.tokens)
    s = sample_decode(step, state, BOS, EOS, max_len=5, seed=0)
    assert 1 <= len(s.tokens) <= 5


def test_init_keys_and_shapes():
    p = init_seq2seq(7, 9, 3, 4, decoder="feed", cell="lstm")
    assert p["src.E"].shape == (7, 3) and p["tgt.E"].shape == (9, 3)
    assert p["dec.W_x"].shape == (16, 7) and p["out.W"].shape == (9, 8)
    assert not any(k.startswith("attn.") for k in p)
    q = init_seq2seq(7, 9, 3, 4, decoder="attention", score="general")
    assert q["attn.W_a"].shape == (4, 4)
    assert init_seq2seq(7, 9, 3, 4, decoder="init")["out.W"].shape == (9, 4)


def test_shift_right():
    y = np.array([[5, 6], [7, 1], [1, 0]])
    np.testing.assert_array_equal(shift_right(y, BOS), [[0, 0], [5, 6], [7, 1]])


def test_errors():
    p = init_seq2seq(V, V, E, H, decoder="attention")
    src, tgt = np.full((4, 2), 2), np.full((3, 2), 2)
    with pytest.raises(ValueError, match="unknown decoder 'bahdanau'"):
        seq2seq_loss(src, tgt, p, bos=BOS, decoder="bahdanau")
    with pytest.raises(ValueError, match="unknown attention score"):
        init_seq2seq(V, V, E, H, score="cosine")
    bad = dict(p)
    bad.update({k: v for k, v in init_seq2seq(V, V, E, H + 1, decoder="attention").items()
                if k.startswith("dec.")})
    with pytest.raises(ShapeError, match=r"decoder's state \(B, H=4\) does not match the "
                                         r"encoder's final state \(B, H=3\)"):
        seq2seq_loss(src, tgt, bad, bos=BOS)
    with pytest.raises(ShapeError, match=r"decoder='init' needs E = 2"):
        seq2seq_loss(src, tgt, p, bos=BOS, decoder="init")
    with pytest.raises(ShapeError, match=r"tgt must have shape \(T, B\)"):
        seq2seq_loss(src, np.full((3, 2, 1), 2), p, bos=BOS)
    with pytest.raises(ShapeError, match=r"tgt_in must have shape \(T, B=2\)"):
        seq2seq_loss(src, np.full((3, 3), 2), p, bos=BOS)
    with pytest.raises(ValueError, match=r"tgt_in must lie in \[0, V=5\)"):
        seq2seq_loss(src, np.full((3, 2), 7), p, bos=BOS)
    with pytest.raises(ValueError, match=r"lengths must not exceed the padded length T=3"):
        seq2seq_loss(src, tgt, p, bos=BOS, tgt_lengths=[3, 4])
    with pytest.raises(ShapeError, match=r"lengths must have shape \(B=2,\)"):
        seq2seq_loss(src, tgt, p, bos=BOS, src_lengths=[4])
    with pytest.raises(KeyError, match="no entry under 'attn.'"):
        seq2seq_loss(src, tgt, init_seq2seq(V, V, E, H, decoder="feed"), bos=BOS,
                     decoder="attention")
    with pytest.raises(TypeError, match="DecoderState"):
        make_step_fn(p)((np.zeros((1, H)),), BOS)
    with pytest.raises(TypeError, match="seq2seq_forward"):
        labrnn.models.seq2seq.seq2seq_backward(np.zeros((3, 2, V)), {"layer": "stacked"})


# ---- deep / bidirectional encoder (enc_layers=, bidirectional=) -----------------------

DEEP = dict(decoder="attention", cell="gru", score="additive", enc_layers=2, bidirectional=True)
V2, E2, H2 = 4, 2, 2          # small: every parameter of the whole model is checked


def _deep_params(backend, seed=1, **over):
    cfg = {**DEEP, **over}
    p = init_seq2seq(V2, V2, E2, H2, seed=seed, **cfg)
    rng = np.random.default_rng(seed)
    return {k: backend.asarray(rng.normal(0.0, 1.0, v.shape)) for k, v in p.items()}, cfg


def _deep_check(backend, names=None, **over):
    p, cfg = _deep_params(backend, **over)
    rng = np.random.default_rng(0)
    src = backend.asarray(rng.integers(2, V2, (3, 2)))
    tgt = backend.asarray(rng.integers(2, V2, (2, 2)))
    kw = dict(bos=BOS, src_lengths=[3, 2], tgt_lengths=[2, 1], **cfg)
    loss, grads, _ = seq2seq_loss(src, tgt, p, **kw)
    assert sorted(grads) == sorted(p)
    for k in p:
        assert backend.on_this_device(grads[k]), k
    labrnn.gradcheck(lambda q: seq2seq_loss(src, tgt, q, **kw)[0], p, grads,
                    names=names).assert_ok(1e-6)


def test_deep_bidirectional_encoder_gradcheck_numpy():
    """The issue's whole model: a 2-layer bidirectional GRU encoder, bridge, attention decoder."""
    from conftest import make_backend
    _deep_check(make_backend("numpy"))


def test_bidirectional_lstm_bridges_h_and_c_gradcheck():
    """Pair-state cells bridge h and c with their own parameters (decoder="feed": c = s_0)."""
    from conftest import make_backend
    _deep_check(make_backend("numpy"), cell="lstm", decoder="feed", enc_layers=1,
                names=["bridge.W", "bridge.b", "bridge.W_c", "bridge.b_c", "enc.l0.bw.W_h",
                       "enc.l0.fw.W_x", "dec.W_x"])


def test_deep_bidirectional_encoder_gradcheck_other_backends(backend):
    """The same model on array_api_strict (CPU and device1): small parameters of every part."""
    if backend.name == "numpy":
        pytest.skip("numpy is covered by test_deep_bidirectional_encoder_gradcheck_numpy")
    _deep_check(backend, names=["enc.l0.bw.b_hn", "enc.l1.fw.b_hn", "bridge.W", "bridge.b",
                                "attn.v", "dec.b_hn"])


def test_deep_bidirectional_padding_changes_nothing():
    from conftest import make_backend
    p, cfg = _deep_params(make_backend("numpy"))
    rng = np.random.default_rng(5)
    src_len, tgt_len = [4, 2, 3], [2, 3, 1]
    S, T = max(src_len), max(tgt_len)
    src, tgt = rng.integers(2, V2, (S, 3)), rng.integers(2, V2, (T, 3))
    kw = dict(bos=BOS, **cfg)
    loss, grads, cache = seq2seq_loss(src, tgt, p, src_lengths=src_len, tgt_lengths=tgt_len, **kw)
    assert cache["keys"].shape == (S, 3, 2 * H2)
    n = sum(tgt_len)
    total, gsum = 0.0, {k: 0.0 for k in p}
    for b in range(3):
        s, t = src[:src_len[b], b:b + 1], tgt[:tgt_len[b], b:b + 1]
        l1, g1, c1 = seq2seq_loss(s, t, p, **kw)
        np.testing.assert_allclose(cache["logits"][:tgt_len[b], b], c1["logits"][:, 0],
                                   rtol=1e-12, atol=1e-12)
        total += float(l1) * tgt_len[b] / n
        for k in p:
            gsum[k] = gsum[k] + g1[k] * tgt_len[b] / n
    assert abs(float(loss) - total) < 1e-12
    for k in p:
        np.testing.assert_allclose(grads[k], gsum[k], rtol=1e-9, atol=1e-12, err_msg=k)
    src2 = src.copy()
    src2[2:, 1] = 3
    loss2, grads2, _ = seq2seq_loss(src2, tgt, p, src_lengths=src_len, tgt_lengths=tgt_len, **kw)
    assert float(loss2) == float(loss)
    for k in p:
        np.testing.assert_array_equal(grads2[k], grads[k])


def test_deep_bidirectional_step_fn_matches_teacher_forcing():
    from conftest import make_backend
    p, cfg = _deep_params(make_backend("numpy"), cell="lstm", score="general")
    src, tgt = np.array([[2], [3], [2]]), np.array([[3], [2], [EOS]])
    kw = {k: v for k, v in cfg.items()}
    logits, _ = seq2seq_forward(src, shift_right(tgt, BOS), p, **kw)
    step, (state, _) = make_step_fn(p, **kw), seq2seq_encode(src, p, **kw)
    assert state.keys.shape == (3, 1, 2 * H2) and state.state[0].shape == (1, H2)
    token = BOS
    for t in range(3):
        lp, state = step(state, token)
        np.testing.assert_allclose(lp[0], labrnn.log_softmax(logits[t, 0]), atol=1e-12)
        token = int(tgt[t, 0])


def test_deep_bidirectional_init_keys_and_shapes():
    p = init_seq2seq(7, 9, 3, 4, enc_layers=2, bidirectional=True)
    assert p["enc.l0.fw.W_x"].shape == (12, 3) and p["enc.l1.bw.W_x"].shape == (12, 8)
    assert p["bridge.W"].shape == (4, 8) and p["bridge.b"].shape == (4,)
    assert not any(k.startswith("bridge.W_c") for k in p)
    assert p["attn.W_k"].shape == (8, 8) and p["attn.W_q"].shape == (8, 4)
    assert p["dec.W_x"].shape == (12, 11) and p["out.W"].shape == (9, 12)
    q = init_seq2seq(7, 9, 3, 4, decoder="feed", cell="lstm", bidirectional=True)
    assert q["bridge.W_c"].shape == (4, 8) and q["out.W"].shape == (9, 8)
    r = init_seq2seq(7, 9, 3, 4, enc_layers=3)
    assert r["enc.l2.W_x"].shape == (12, 4) and "bridge.W" not in r
    assert r["attn.W_k"].shape == (4, 4)


def test_deep_bidirectional_errors():
    src, tgt = np.full((4, 2), 2), np.full((3, 2), 2)
    with pytest.raises(ValueError, match=r"enc_layers must be an integer >= 1 .* received 0"):
        init_seq2seq(V, V, E, H, enc_layers=0)
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        init_seq2seq(V, V, E, H, bidirectional="yes")
    with pytest.raises(ValueError, match="score='dot' needs queries and keys of the same width"):
        init_seq2seq(V, V, E, H, score="dot", bidirectional=True)
    p = init_seq2seq(V, V, E, H, **DEEP)
    with pytest.raises(ValueError, match=r"enc_layers=1, bidirectional=False do not match the "
                                         r"params, which hold a stacked encoder"):
        seq2seq_loss(src, tgt, p, bos=BOS)
    with pytest.raises(ValueError, match=r"enc_layers=3, but the params hold an encoder of 2"):
        seq2seq_loss(src, tgt, p, bos=BOS, **{**DEEP, "enc_layers": 3})
    with pytest.raises(ValueError, match="bidirectional=False, but the encoder's layers are "
                                         "bidirectional"):
        seq2seq_loss(src, tgt, p, bos=BOS, **{**DEEP, "bidirectional": False})
    with pytest.raises(ValueError, match=r"which hold a single-layer unidirectional encoder"):
        seq2seq_loss(src, tgt, init_seq2seq(V, V, E, H), bos=BOS, **DEEP)
    bad = dict(p)
    bad.update({k: v for k, v in init_seq2seq(V, V, E, H + 1, **DEEP).items()
                if k.startswith("dec.")})
    with pytest.raises(ShapeError, match=r"decoder's state \(B, H=4\) does not match the "
                                         r"encoder's final state \(B, H=3\)"):
        seq2seq_loss(src, tgt, bad, bos=BOS, **DEEP)
    bad = {**p, "bridge.W": np.zeros((H, H))}
    with pytest.raises(ShapeError, match=r"params\['bridge.W'\] must have shape \(3, 6\): the "
                                         r"bridge maps .* received \(3, 3\)"):
        seq2seq_loss(src, tgt, bad, bos=BOS, **DEEP)
    lstm = {**DEEP, "cell": "lstm"}
    bad = {k: v for k, v in init_seq2seq(V, V, E, H, **lstm).items() if k != "bridge.W_c"}
    with pytest.raises(KeyError, match=r"no 'bridge.W_c': a bidirectional encoder needs the "
                                       r"bridge"):
        seq2seq_loss(src, tgt, bad, bos=BOS, **lstm)
