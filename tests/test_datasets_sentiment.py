"""labrnn.datasets.sentiment: the loader, the split, the negation probe and the augmentation."""

import collections

import numpy as np
import pytest

from labrnn.datasets import sentiment as S


def _write(tmp_path, text):
    p = tmp_path / "s.txt"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_sentences_reads_the_shipped_files():
    for source in S.SOURCES:
        sentences, labels = S.load_sentences(source)
        assert len(sentences) == 1000 and collections.Counter(labels) == {0: 500, 1: 500}


def test_load_sentences_keeps_nel_inside_a_line(tmp_path):
    p = _write(tmp_path, "good\u0085 film\t1\nbad\t0\n")          # U+0085 is not a line break here
    sentences, labels = S.load_sentences("imdb", path=p)
    assert labels == [1, 0] and "\u0085" in sentences[0]


@pytest.mark.parametrize("text, message", [
    ("fine\t1\nno label here\n", r"line 2: expected 2 tab-separated fields .* found 1"),
    ("fine\t1\nextra\t0\t1\n", r"line 2: expected 2 .* found 3"),
    ("fine\t2\n", r"line 1: the label must be 0 or 1, found '2'"),
    ("\t1\n", r"line 1: the sentence is empty"),
    ("\n\n", r"holds no sentences"),
])
def test_load_sentences_malformed(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        S.load_sentences("yelp", path=_write(tmp_path, text))


def test_load_sentences_unknown_source():
    with pytest.raises(ValueError, match=r"source must be one of \['amazon', 'imdb', 'yelp'\], received 'x'"):
        S.load_sentences("x")


def test_tokenize():
    assert S.tokenize("I didn't like it, and it CAN'T work!") == [
        "i", "did", "not", "like", "it", ",", "and", "it", "can", "not", "work", "!"]
    assert S.tokenize("It's \"great\" - won't") == ["it's", "great", "will", "not"]
    with pytest.raises(TypeError, match="sentence must be a str, received int"):
        S.tokenize(3)


def test_split_is_stratified_disjoint_and_fixed():
    sp = S.load_splits()
    assert [len(sp[k][0]) for k in ("train", "valid", "test")] == [2100, 300, 600]
    for name, n in (("train", 350), ("valid", 50), ("test", 100)):
        _, labels, sources = sp[name]
        counts = collections.Counter(zip(sources, labels))
        assert set(counts.values()) == {n}, (name, counts)
    index = S.split_sentences({s: S.load_sentences(s)[1] for s in S.SOURCES})
    seen = [pair for part in index.values() for pair in part]
    assert len(seen) == len(set(seen)) == 3000
    assert index == S.split_sentences({s: S.load_sentences(s)[1] for s in S.SOURCES})
    with pytest.raises(ValueError, match="fractions must be three positive numbers"):
        S.split_sentences({"a": [0, 1]}, fractions=(0.5, 0.5))


def test_probe_pairs_hold_the_same_words_with_opposite_labels():
    tokens, labels, pairs = S.negation_probe()
    assert len(tokens) == 400 and sum(labels) == 200
    by_pair = collections.defaultdict(list)
    for t, y, k in zip(tokens, labels, pairs):
        by_pair[k].append((t, y))
    assert len(by_pair) == 200
    for (a, ya), (b, yb) in by_pair.values():
        assert sorted(a) == sorted(b) and a != b and ya != yb
    assert len({tuple(t) for t in tokens}) == 400
    with pytest.raises(ValueError, match=r"n_pairs must lie in \[1, "):
        S.negation_probe(n_pairs=0)


def test_any_bag_of_words_scores_exactly_half_of_the_probe():
    tokens, labels, _ = S.negation_probe()
    rng = np.random.default_rng(0)
    vocab = sorted({w for t in tokens for w in t})
    for _ in range(20):                     # random linear models on the word counts
        w = dict(zip(vocab, rng.normal(size=len(vocab))))
        bias = rng.normal()
        score = [sum(w[x] for x in t) + bias for t in tokens]
        correct = sum((s > 0) == (y == 1) for s, y in zip(score, labels))
        assert correct == 200


@pytest.mark.parametrize("forms", [("not",), S.NEGATION_FORMS], ids=["not", "all"])
def test_probe_never_occurs_in_the_training_data_or_the_augmentation(forms):
    sp = S.load_splits()
    probe = {tuple(t) for t in S.negation_probe()[0]}
    aug, _ = S.negate_augment(sp["train"][0], sp["train"][1], exclude=list(probe), forms=forms)
    assert not probe & {tuple(t) for t in sp["train"][0] + aug}
    # nor does any augmented sentence equal a held-out sentence
    assert not {tuple(t) for t in aug} & {tuple(t) for n in ("valid", "test") for t in sp[n][0]}


def test_no_augmented_sentence_has_the_shape_of_a_probe_template():
    # Each probe sentence becomes a pattern: its sentiment words and its noun (the word
    # after "the") match any single word. No augmented sentence, with any filling, may
    # match one of these patterns, even without exclude=.
    sp = S.load_splits()
    polar = set(S.POSITIVE_WORDS) | set(S.NEGATIVE_WORDS)
    patterns = set()
    for t in S.negation_probe()[0]:
        patterns.add(tuple(None if w in polar or (k and t[k - 1] == "the") else w
                           for k, w in enumerate(t)))
    assert len(patterns) == 5                            # the five templates

    def fits(sentence, pattern):
        return len(sentence) == len(pattern) and all(
            p is None or p == w for w, p in zip(sentence, pattern))

    aug, _ = S.negate_augment(sp["train"][0], sp["train"][1], forms=S.NEGATION_FORMS)
    assert len(aug) > 2000
    assert not [a for a in aug for p in patterns if fits(a, p)]
    # the matcher does recognise every probe sentence, and a template filled anew
    assert all(any(fits(t, p) for p in patterns) for t in S.negation_probe()[0])
    assert any(fits("the cake was yummy , not dull".split(), p) for p in patterns)


def test_negate_augment_forms():
    s = [["the", "food", "was", "good", "."], ["i", "loved", "it", "."],
         ["we", "would", "not", "really", "recommend", "it"], ["i", "did", "not", "like", "it"],
         ["i", "like", "it"]]
    new, y = S.negate_augment(s, [1, 1, 0, 0, 0], seed=0, forms=S.NEGATION_FORMS)
    got = dict(zip(map(" ".join, new), y))
    base = S.negate_augment(s, [1, 1, 0, 0, 0], seed=0)
    assert base == (new[:3], y[:3])          # the basic rule comes first, unchanged
    swapped = new[1][3]                      # the negative word drawn for the swap
    assert swapped in S.NEGATIVE_WORDS
    assert got["the food was never good ."] == 0
    assert got[f"the food was never {swapped} ."] == 1
    assert got["the food was not good at all ."] == 0
    assert got[f"the food was not {swapped} at all ."] == 1
    framed = [(t, label) for t, label in zip(new, y) if t[-4:] == ["food", "was", "good", "."]
              and len(t) > 5]
    assert len(framed) == 2                  # one frame, affirmative and negated
    (yes, y_yes), (no, y_no) = framed
    assert "not" not in yes and y_yes == 1 and ("not" in no or "never" in no) and y_no == 0
    assert got["i did not love it ."] == 0                   # verb: negated, label flipped
    assert got["we would really recommend it"] == 1          # un-negated
    assert got["i liked it"] == 1
    assert "i do not like it" not in got     # "i like it" labelled 0: the label disagrees
    assert len(new) == 3 + 2 * 4 + 3
    assert S.negate_augment(s, [1, 1, 0, 0, 0], seed=0, forms=S.NEGATION_FORMS) == (new, y)
    with pytest.raises(ValueError, match=r"forms must include 'not' and be among \[.*\], "
                                         r"received \['not', 'nope'\]"):
        S.negate_augment(s, [1, 1, 0, 0, 0], forms=("not", "nope"))
    with pytest.raises(ValueError, match=r"received \['never'\]"):
        S.negate_augment(s, [1, 1, 0, 0, 0], forms=("never",))


def test_negate_augment_rules():
    s = [["the", "food", "was", "good", "."], ["it", "was", "not", "bad"], ["meh", "."]]
    new, y = S.negate_augment(s, [1, 1, 0], seed=0)
    assert new[0] == ["the", "food", "was", "not", "good", "."] and y[0] == 0
    assert new[1][:2] == ["the", "food"] and new[1][3] in S.NEGATIVE_WORDS and y[1] == 0
    assert new[2] == ["the", "food", "was", "not", new[1][3], "."] and y[2] == 1
    assert new[3] == ["it", "was", "bad"] and y[3] == 0                 # "not" deleted
    assert new[4][3] in S.POSITIVE_WORDS and y[4] == 0                  # "not good"
    assert new[5] == ["it", "was", new[4][3]] and y[5] == 1
    assert len(new) == 6                                                 # "meh ." has no match
    # a label that disagrees with the word's polarity: no rule applies
    assert S.negate_augment([["it", "was", "good"]], [0]) == ([], [])
    assert S.negate_augment(s, [1, 1, 0], seed=0) == (new, y)            # seeded
    excluded, _ = S.negate_augment(s[:1], [1], exclude=[new[0]])
    assert new[0] not in excluded and len(excluded) == 2
    with pytest.raises(ValueError, match="same length, received 3 and 2"):
        S.negate_augment(s, [1, 1])


def test_vocabulary():
    v = S.Vocabulary([["a", "b", "a"], ["c", "a"]], min_count=2)
    assert v.words == ["<pad>", "<unk>", "a"] and v.ids(["a", "b", "zz"]) == [2, 1, 1]
    assert S.Vocabulary.from_words(v.words).ids(["a"]) == [2]
    with pytest.raises(ValueError, match="starts with '<pad>', '<unk>'"):
        S.Vocabulary.from_words(["a"])
