"""The n-gram baselines of chapter 13: exact counts, normalised distributions, clear errors."""

import math

import numpy as np
import pytest

from labrnn.lab.ngram import NGramLM


def _ids(text):
    return np.array([ord(c) - ord("a") for c in text])


TOY = _ids("abracadabra")          # V = 5 would not hold 'r'; use V = 18 (a..r)
V = 18


def test_counts_on_a_toy_text_are_exact():
    m = NGramLM(3, V, "kneser_ney").fit(TOY)
    # trigrams after "ab": "abr" twice
    c = m.counts(_ids("ab"))
    assert c[ord("r") - 97] == 2 and c.sum() == 2
    # after "ra": "rac", "rab"? text: a b r a c a d a b r a -> "rac" once, and "ra" ends the text
    c = m.counts(_ids("ra"))
    assert c[ord("c") - 97] == 1 and c.sum() == 1
    assert m.counts(_ids("zz"[:0] + "dd")).sum() == 0      # an unseen context


def test_add_k_matches_the_formula_by_hand():
    m = NGramLM(2, V, "add_k", k=0.5).fit(TOY)
    p = m.prob(_ids("a"))
    # after "a": b twice, c once, d once (the final "a" has no successor): c(a) = 4
    expect = np.full(V, 0.5) / (4 + 0.5 * V)
    for ch, n in (("b", 2), ("c", 1), ("d", 1)):
        expect[ord(ch) - 97] = (n + 0.5) / (4 + 0.5 * V)
    np.testing.assert_allclose(p, expect, rtol=0, atol=1e-15)


def test_kneser_ney_bigram_by_hand():
    """P(w|h) = max(c(hw)-D,0)/c(h) + D N(h)/c(h) P_1(w); P_1 from continuation counts."""
    ids = _ids("abab" + "ac")
    m = NGramLM(2, V, "kneser_ney").fit(ids)
    # bigrams: ab, ba, ab, ba, ac -> counts ab:2, ba:2, ac:1 -> n1=1, n2=2, D2 = 1/5
    D2 = 1 / (1 + 2 * 2)
    # continuation counts of unigrams (distinct left neighbours): b:{a}, a:{b}, c:{a} -> 1 each
    # n1 = 3, n2 = 0 -> D1 = 1; P_1(w) = max(1-1,0)/3 + 1*3/3 * 1/V = 1/V for every w
    P1 = np.full(V, 1 / V)
    c = np.zeros(V)
    c[1], c[2] = 2, 1                             # after "a": b twice, c once
    expect = np.maximum(c - D2, 0) / 3 + D2 * 2 / 3 * P1
    np.testing.assert_allclose(m.prob(_ids("a")), expect, rtol=1e-14)
    assert math.isclose(m.tables[2]["D"], D2) and math.isclose(m.tables[1]["D"], 1.0)


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_probabilities_sum_to_one_for_random_contexts(smoothing, order):
    rng = np.random.default_rng(order)
    text = rng.integers(0, 7, size=400)           # only 7 of the V = 10 tokens ever appear
    m = NGramLM(order, 10, smoothing).fit(text)
    for _ in range(30):
        ctx = rng.integers(0, 10, size=int(rng.integers(0, order + 2)))
        p = m.prob(ctx)
        assert p.shape == (10,) and np.all(p > 0)
        assert abs(p.sum() - 1.0) < 1e-12
    # contexts that occur in the text, too
    for t in range(order, 40):
        assert abs(m.prob(text[t - order + 1:t]).sum() - 1.0) < 1e-12


def test_cross_entropy_is_the_mean_negative_log_probability():
    rng = np.random.default_rng(3)
    text = rng.integers(0, 4, size=300)
    m = NGramLM(3, 4).fit(text[:200])
    test = text[200:]
    by_hand = -np.mean([math.log(m.prob(test[max(0, t - 2):t])[test[t]])
                        for t in range(1, test.size)])
    assert abs(m.cross_entropy(test) - by_hand) < 1e-12


def test_kneser_ney_learns_a_deterministic_pattern():
    text = np.tile(np.arange(5), 200)             # 0 1 2 3 4 0 1 2 ...
    m = NGramLM(3, 5).fit(text)
    assert m.cross_entropy(np.tile(np.arange(5), 10)) < 0.05
    assert NGramLM(1, 5).fit(text).cross_entropy(text) == pytest.approx(math.log(5), rel=1e-3)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"order must be an integer >= 1, received 0"):
        NGramLM(0, 5)
    with pytest.raises(ValueError, match=r"smoothing must be one of .* received 'witten'"):
        NGramLM(2, 5, "witten")
    with pytest.raises(ValueError, match=r"k must be a positive number, received 0"):
        NGramLM(2, 5, "add_k", k=0)
    m = NGramLM(2, 5)
    with pytest.raises(RuntimeError, match="call fit"):
        m.prob([1])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, V=5\), found values in \[0, 7\]"):
        m.fit(np.array([0, 7, 1]))
    with pytest.raises(ValueError, match="ids must be a 1-d array of integer token ids"):
        m.fit(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="at least order=2 tokens"):
        m.fit(np.array([1]))
    m.fit(np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"context must hold order - 1 = 1 tokens, received 2"):
        m.counts([1, 2])
