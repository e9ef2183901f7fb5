"""labrnn.lab.data: character vocabularies, one-hot encoding and the adding problem."""

import numpy as np
import pytest

from labrnn.lab.data import CharVocab, adding_problem, next_char_batch, one_hot


def test_char_vocab_round_trip():
    v = CharVocab("hello world")
    assert v.chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert len(v) == 8 and repr(v) == "CharVocab(' dehlorw')"
    ids = v.encode("hello")
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [3, 2, 4, 4, 5])
    assert v.decode(ids) == "hello"
    assert v.decode(v.encode("world hello")) == "world hello"
    assert v.decode(np.array([[3], [2]])) == "he"


def test_char_vocab_errors():
    v = CharVocab("abc")
    with pytest.raises(ValueError, match=r"characters \['x', 'z'\] are not in the vocabulary \['a', 'b', 'c'\]"):
        v.encode("abzx")
    with pytest.raises(ValueError, match="empty text"):
        CharVocab("")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\), found \[-1, 2\]"):
        v.decode([2, -1])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\), found \[0, 3\]"):
        v.decode([0, 3])


def test_one_hot():
    out = one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(out[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(out.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(out.argmax(axis=-1), [[0, 2], [1, 1]])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\), found \[0, 3\]"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"found \[-2, 1\]"):
        one_hot(np.array([-2, 1]), 3)
    with pytest.raises(TypeError, match="ids must be integers, received dtype float64"):
        one_hot(np.array([0.0, 1.0]), 3)


def test_next_char_batch():
    x, y, v = next_char_batch("abcab")
    assert x.shape == (4, 1, 3) and y.shape == (4, 1)
    assert v.decode(x.argmax(axis=-1)) == "abca"
    assert v.decode(y) == "bcab"
    vocab = CharVocab("abcdef")
    x2, y2, v2 = next_char_batch("abcab", vocab)
    assert v2 is vocab and x2.shape == (4, 1, 6)
    with pytest.raises(ValueError, match="at least 2 characters"):
        next_char_batch("a")


@pytest.mark.parametrize("T", [2, 3, 10, 11])
def test_adding_problem(T):
    B = 64
    x, y = adding_problem(T, B, seed=3)
    assert x.shape == (T, B, 2) and y.shape == (B, 1)
    values, marks = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(marks)) <= {0.0, 1.0}
    np.testing.assert_array_equal(marks.sum(axis=0), 2.0)
    half = T // 2
    np.testing.assert_array_equal(marks[:half].sum(axis=0), 1.0)
    np.testing.assert_array_equal(marks[half:].sum(axis=0), 1.0)
    np.testing.assert_allclose(y[:, 0], (values * marks).sum(axis=0), rtol=1e-15)


def test_adding_problem_seeds():
    a, b = adding_problem(8, 5, seed=1), adding_problem(8, 5, seed=1)
    c = adding_problem(8, 5, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    g1, g2 = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(adding_problem(6, 3, g1)[0], adding_problem(6, 3, g2)[0])
    with pytest.raises(ValueError, match="needs T >= 2, received 1"):
        adding_problem(1, 3, seed=0)
    with pytest.raises(ValueError, match="pass a seed"):
        adding_problem(4, 3, seed=None)
