"""Encoder-decoder (labrnn.seq2seq): gradients, padding invariance, decoding, errors."""

import numpy as np
import pytest

import labrnn
from labrnn import beam_search, greedy_decode, sample_decode
from labrnn.errors import ShapeError
from labrnn.seq2seq import (DECODERS, init_seq2seq, make_step_fn, seq2seq_encode,
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
        labrnn.seq2seq.seq2seq_backward(np.zeros((3, 2, V)), {"layer": "stacked"})
