"""labrnn.training.batching: padding, bucketing by length and the count of padded positions."""

import numpy as np
import pytest

from labrnn.training.batching import make_batches, pad_sequences, padding_cost


def test_pad_sequences_by_hand():
    ids, lengths = pad_sequences([[1, 2, 3], [4], [5, 6]], pad=0)
    np.testing.assert_array_equal(ids, [[1, 4, 5], [2, 0, 6], [3, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])


@pytest.mark.parametrize("bucket", [False, True])
def test_batches_partition_the_indices(bucket):
    lengths = np.random.default_rng(0).integers(1, 50, size=103)
    batches = make_batches(lengths, 10, seed=1, bucket=bucket)
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    assert sorted(len(b) for b in batches) == [3] + [10] * 10
    assert [b.tolist() for b in make_batches(lengths, 10, seed=1, bucket=bucket)] == \
        [b.tolist() for b in batches]                                  # seeded


def test_padding_cost_by_hand_and_bucketing_saves():
    lengths = np.array([1, 5, 2, 6])
    assert padding_cost(lengths, [np.array([0, 1]), np.array([2, 3])]) == (14, 4 + 4)
    assert padding_cost(lengths, [np.array([0, 2]), np.array([1, 3])]) == (14, 1 + 1)
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 80, size=500)
    rand = padding_cost(lengths, make_batches(lengths, 16, seed=0))
    buck = padding_cost(lengths, make_batches(lengths, 16, seed=0, bucket=True))
    assert rand[0] == buck[0] == lengths.sum()
    assert buck[1] < rand[1] / 5
    # sorted batches are optimal for contiguous cuts: each batch's spread is small
    assert buck[1] <= padding_cost(np.sort(lengths), [np.arange(i, min(i + 16, 500))
                                                      for i in range(0, 500, 16)])[1]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="seqs must be a non-empty list"):
        pad_sequences([])
    with pytest.raises(ValueError, match=r"seqs\[1\] must be a non-empty 1-d sequence, received shape \(0,\)"):
        pad_sequences([[1], []])
    with pytest.raises(ValueError, match="every length must be >= 1, found 0"):
        make_batches([3, 0], 2, seed=0)
    with pytest.raises(ValueError, match="B must be an integer >= 1, received 0"):
        make_batches([3, 1], 0, seed=0)
    with pytest.raises(ValueError, match="lengths must be a non-empty 1-d array of integers"):
        padding_cost(np.array([1.5, 2.0]), [])
