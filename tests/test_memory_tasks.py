"""labrnn.lab.memory_tasks: flip-flop and associative recall, checked against brute-force loops."""

import numpy as np
import pytest

from labrnn.errors import ShapeError
from labrnn.lab.memory_tasks import flipflop_accuracy, flipflop_task, recall_task


def test_flipflop_targets_hold_the_last_pulse():
    x, y = flipflop_task(60, 5, seed=0, bits=3, p=0.1)
    assert x.shape == y.shape == (60, 5, 3)
    assert set(np.unique(x)) <= {-1.0, 0.0, 1.0} and set(np.unique(y)) == {-1.0, 1.0}
    assert np.all(x[0] != 0)                                  # every channel pulses at t = 0
    for b in range(5):
        for k in range(3):
            held = None
            for t in range(60):                              # the definition, step by step
                if x[t, b, k] != 0:
                    held = x[t, b, k]
                assert y[t, b, k] == held
    assert 0.05 < np.mean(x[1:] != 0) < 0.15                   # pulses at rate p
    x2, y2 = flipflop_task(60, 5, seed=0, bits=3, p=0.1)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)    # seeded


def test_flipflop_accuracy():
    y = np.array([[[1.0, -1.0]], [[1.0, 1.0]]])
    assert flipflop_accuracy(np.array([[[0.3, -2.0]], [[0.1, -0.1]]]), y) == 0.75
    with pytest.raises(ShapeError, match=r"out must have the targets' shape \(2, 1, 2\)"):
        flipflop_accuracy(np.zeros((2, 2)), y)


def test_flipflop_errors():
    with pytest.raises(ValueError, match="p must be a probability in \\(0, 1\\), received 1.5"):
        flipflop_task(5, 2, 0, p=1.5)
    with pytest.raises(ValueError, match="bits must be an integer >= 1, received 0"):
        flipflop_task(5, 2, 0, bits=0)


def test_recall_task_target_is_the_stored_value():
    P, nk, nv = 3, 5, 4
    x, y = recall_task(P, 50, seed=1, n_keys=nk, n_values=nv)
    D = nk + nv + 1
    assert x.shape == (2 * P + 2, 50, D) and y.shape == (50,) and y.dtype == np.int64
    assert np.all(x.sum(-1) == 1)                             # one-hot
    tok = x.argmax(-1)
    for b in range(50):
        keys, vals = tok[0:2 * P:2, b], tok[1:2 * P:2, b] - nk
        assert len(set(keys)) == P and np.all(keys < nk) and np.all((vals >= 0) & (vals < nv))
        assert tok[2 * P, b] == D - 1                          # the query marker
        q = tok[2 * P + 1, b]
        assert q in keys and y[b] == vals[list(keys).index(q)]


def test_recall_task_errors():
    with pytest.raises(ValueError, match=r"P must be an integer in \[1, 8\], received 9"):
        recall_task(9, 2, 0)
    with pytest.raises(ValueError, match="n_values must be an integer >= 2"):
        recall_task(2, 2, 0, n_values=1)
