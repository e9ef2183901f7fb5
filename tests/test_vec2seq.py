"""labrnn.models.vec2seq (one-to-many decoder) and labrnn.datasets.digits (names of digits)."""

import numpy as np
import pytest

import labrnn
from labrnn.datasets.digits import (BOS, DIGIT_NAMES, EOS, NAME_VOCAB, decode_name,
                                    encode_names, load_split, name_tokens)
from labrnn.models.decoding import beam_search, greedy_decode
from labrnn.models.vec2seq import (init_vec2seq, make_step_fn, sequence_log_probs, vec2seq_encode,
                            vec2seq_forward, vec2seq_loss)

D, V, E, H = 4, 6, 3, 5


def _params(backend, cell, seed=1):
    p = init_vec2seq(D, V, E, H, cell, seed=seed)
    rng = np.random.default_rng(seed)
    return {k: backend.asarray(rng.normal(0.0, 0.7, a.shape)) for k, a in p.items()}


def _data(backend, B=3, T=4, seed=0):
    rng = np.random.default_rng(seed)
    return backend.asarray(rng.normal(size=(B, D))), backend.asarray(rng.integers(2, V, (T, B)))


@pytest.mark.parametrize("cell", ["elman", "gru", "lstm"])
def test_gradcheck(backend, cell):
    if backend.name != "numpy" and cell != "gru":
        pytest.skip("array-api-strict: checked for the GRU only, to keep the suite quick")
    p = _params(backend, cell)
    v, tgt = _data(backend)
    loss, grads, logits = vec2seq_loss(v, tgt, p, BOS, cell, tgt_lengths=[4, 2, 3])
    assert sorted(grads) == sorted(p) and tuple(logits.shape) == (4, 3, V)
    assert all(backend.on_this_device(g) for g in grads.values())
    labrnn.gradcheck(lambda q: vec2seq_loss(v, tgt, q, BOS, cell, [4, 2, 3])[0], p,
                    grads).assert_ok(1e-6)


def test_padding_after_eos_changes_nothing():
    from conftest import make_backend
    b = make_backend("numpy")
    p = _params(b, "gru")
    v, tgt = _data(b)
    loss1, g1, _ = vec2seq_loss(v, tgt, p, BOS, "gru", [4, 2, 3])
    tgt2 = tgt.copy()
    tgt2[2:, 1] = 5
    tgt2[3:, 2] = 4
    loss2, g2, _ = vec2seq_loss(v, tgt2, p, BOS, "gru", [4, 2, 3])
    assert float(loss1) == float(loss2)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_step_fn_reproduces_teacher_forcing(cell):
    from conftest import make_backend
    b = make_backend("numpy")
    p = _params(b, cell)
    v, tgt = _data(b, B=1)
    logits, _ = vec2seq_forward(v, np.concatenate([[[BOS]], tgt[:-1]]), p, cell)
    step = make_step_fn(p, cell)
    state, _ = vec2seq_encode(v, p, cell)
    assert isinstance(state, tuple) and len(state) == (2 if cell == "lstm" else 1)
    assert state[0].shape == (1, H)
    if cell == "lstm":                              # the pair (h_0, 0)
        assert np.all(state[1] == 0.0)
    token = BOS
    for t in range(tgt.shape[0]):
        lp, state = step(state, token)
        np.testing.assert_allclose(lp[0], labrnn.log_softmax(logits[t, 0]), rtol=1e-12)
        token = int(tgt[t, 0])
    # greedy decoding's log-probability equals the teacher-forced score of its own output
    state, _ = vec2seq_encode(v, p, cell)
    hyp = greedy_decode(step, state, BOS, EOS, 6)
    assert hyp.tokens[-1] == EOS or len(hyp.tokens) == 6
    score = sequence_log_probs(v, [list(hyp.tokens)], p, BOS, cell)
    np.testing.assert_allclose(score[0, 0], hyp.log_prob, rtol=1e-12)


def test_sequence_log_probs_sum_to_one_over_all_sequences():
    """Over every sequence of length <= 2 ending with EOS and every unfinished one, mass is 1."""
    from conftest import make_backend
    b = make_backend("numpy")
    p = _params(b, "gru")
    v, _ = _data(b, B=2)
    ended = [[EOS]] + [[a, EOS] for a in range(V) if a != EOS]
    open_ = [[a, c] for a in range(V) if a != EOS for c in range(V) if c != EOS]
    total = np.exp(sequence_log_probs(v, ended + open_, p, BOS, "gru")).sum(axis=1)
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    # beam search as wide as every prefix is exhaustive: it finds the best finished name
    step = make_step_fn(p, "gru")
    state, _ = vec2seq_encode(v[:1], p, "gru")
    best = beam_search(step, state, BOS, EOS, 2, beam_width=V * V, alpha=0.0)[0]
    scores = sequence_log_probs(v[:1], ended + open_, p, BOS, "gru")[0]
    assert np.isclose(best.log_prob, scores.max(), rtol=1e-12)


def test_encode_errors(backend):
    p = _params(backend, "gru")
    with pytest.raises(labrnn.ShapeError, match=r"v must have shape \(B, D=4\), received \(2, 3\)"):
        vec2seq_encode(backend.asarray(np.zeros((2, 3))), p)
    with pytest.raises(ValueError, match="unknown cell 'rnn'"):
        init_vec2seq(D, V, E, H, "rnn")


def test_digit_names_round_trip():
    assert len(NAME_VOCAB) == 17 and NAME_VOCAB[:2] == ("<bos>", "<eos>")
    tgt, lengths = encode_names(np.arange(10))
    assert tgt.shape == (6, 10) and lengths.tolist() == [len(n) + 1 for n in DIGIT_NAMES]
    for k, name in enumerate(DIGIT_NAMES):
        assert decode_name(tgt[:, k]) == name and tgt[lengths[k] - 1, k] == EOS
    assert name_tokens("six")[-1] == EOS
    with pytest.raises(ValueError, match="labels must be a 1-d array of digits 0..9"):
        encode_names(np.array([3, 10]))
    with pytest.raises(ValueError, match="name must be a non-empty string .* received 'ten!'"):
        name_tokens("ten!")


def test_digits_split_is_stratified_and_disjoint():
    d = load_split()
    assert d["X_train"].shape == (1257, 64) and d["X_test"].shape == (540, 64)
    assert 0.0 == d["X_train"].min() and d["X_train"].max() == 1.0
    counts = np.bincount(d["y_test"], minlength=10)
    assert counts.min() >= 52 and counts.max() <= 55            # 30 % of each class
    train_rows = {r.tobytes() for r in d["X_train"]}
    assert sum(r.tobytes() in train_rows for r in d["X_test"]) < 10   # (a few duplicate images exist)
