"""Decoding strategies over a generic step_fn (chapter 10)."""

import itertools

import numpy as np
import pytest

import labrnn
from labrnn.models.decoding import (beam_search, greedy_decode, length_normalized, sample_decode)

V, H, BOS, EOS = 4, 5, 0, 1     # token 0 doubles as BOS (never produced), token 1 is EOS


def _decoder(backend=None, seed=0):
    """A tiny Elman language model as step_fn: one-hot token -> h -> log-softmax."""
    kw = {} if backend is None else dict(xp=backend.xp, device=backend.device)
    p = labrnn.init_elman(V, H, V, seed=seed, gain=2.0, **kw)
    p["b_y"] = labrnn.from_numpy(np.random.default_rng(seed).normal(0, 1.0, V), like=p["W_hy"])
    eye = labrnn.from_numpy(np.eye(V), like=p["W_hy"])

    def step_fn(h, token):
        h, _ = labrnn.rnn_step_forward(eye[token:token + 1, :], h, p)
        logits, _ = labrnn.affine_forward(h, p["W_hy"], p["b_y"])
        return labrnn.log_softmax(logits)[0, :], h

    h0 = labrnn.from_numpy(np.zeros((1, H)), like=p["W_hy"])
    return step_fn, h0


def _exhaustive(step_fn, h0, max_len, alpha):
    hyps = []
    for L in range(1, max_len + 1):
        for toks in itertools.product(range(V), repeat=L):
            if EOS in toks[:-1] or (L < max_len and toks[-1] != EOS):
                continue
            h, total, prev = h0, 0.0, BOS
            for t in toks:
                lp, h = step_fn(h, prev)
                total += float(labrnn.to_numpy(lp)[t])
                prev = t
            hyps.append((length_normalized(total, L, alpha), toks, total))
    hyps.sort(key=lambda x: -x[0])
    return hyps


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_equals_exhaustive_search(alpha):
    step_fn, h0 = _decoder()
    max_len = 3
    best = beam_search(step_fn, h0, BOS, EOS, max_len, beam_width=V ** max_len, n_best=3,
                       alpha=alpha)
    ref = _exhaustive(step_fn, h0, max_len, alpha)[:3]
    assert [h.tokens for h in best] == [r[1] for r in ref]
    for h, r in zip(best, ref):
        assert h.score == pytest.approx(r[0], rel=1e-12)
        assert h.log_prob == pytest.approx(r[2], rel=1e-12)
    assert best[0].score >= best[1].score >= best[2].score


def test_beam_width_one_is_greedy(backend):
    step_fn, h0 = _decoder(backend, seed=2)
    g = greedy_decode(step_fn, h0, BOS, EOS, max_len=6)
    b = beam_search(step_fn, h0, BOS, EOS, max_len=6, beam_width=1)[0]
    assert b.tokens == g.tokens
    assert b.log_prob == pytest.approx(g.log_prob, rel=1e-13)
    assert g.tokens[-1] == EOS or len(g.tokens) == 6


def test_sampling_is_reproducible_and_low_temperature_is_greedy():
    step_fn, h0 = _decoder(seed=3)
    runs = [sample_decode(step_fn, h0, BOS, EOS, 8, seed=s) for s in (11, 11, 12)]
    assert runs[0] == runs[1]
    many = {sample_decode(step_fn, h0, BOS, EOS, 8, seed=s).tokens for s in range(20)}
    assert len(many) > 1
    g = greedy_decode(step_fn, h0, BOS, EOS, 8)
    for s in range(5):
        assert sample_decode(step_fn, h0, BOS, EOS, 8, seed=s, temperature=1e-6).tokens == g.tokens
        assert sample_decode(step_fn, h0, BOS, EOS, 8, seed=s, top_k=1).tokens == g.tokens


def test_top_k_only_draws_among_the_k_best():
    lp = np.log(np.array([0.05, 0.05, 0.5, 0.4]))

    def step_fn(state, token):
        return lp, state

    toks = set()
    for s in range(30):
        toks |= set(sample_decode(step_fn, None, BOS, EOS, 5, seed=s, top_k=2).tokens)
    assert toks <= {2, 3}


def test_errors():
    step_fn, h0 = _decoder()
    with pytest.raises(ValueError, match="beam_width must be at least 1, received 0: an empty"):
        beam_search(step_fn, h0, BOS, EOS, 3, beam_width=0)
    with pytest.raises(ValueError, match="beam_width must be an integer >= 1, received 2.5"):
        beam_search(step_fn, h0, BOS, EOS, 3, beam_width=2.5)
    with pytest.raises(ValueError, match="max_len must be an integer >= 1"):
        greedy_decode(step_fn, h0, BOS, EOS, 0)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        sample_decode(step_fn, h0, BOS, EOS, 3, seed=0, temperature=0)
    with pytest.raises(TypeError, match="must return the pair"):
        greedy_decode(lambda s, t: np.zeros(V), h0, BOS, EOS, 3)
    with pytest.raises(ValueError, match="log-probabilities"):
        greedy_decode(lambda s, t: (np.ones(V), s), h0, BOS, EOS, 3)
