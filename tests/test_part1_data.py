"""Tests of the Part I synthetic tasks in labrnn.lab.data (chapter 3)."""

import itertools

import numpy as np
import pytest

from labrnn.lab.data import (contains_run_task, reverse_task, running_parity_task,
                         sine_from_phase_task)


def _has_run(bits, k):
    return any(all(bits[i:i + k]) for i in range(len(bits) - k + 1))


def test_contains_run_shapes_labels_and_balance():
    x, y = contains_run_task(10, 4000, seed=0)
    assert x.shape == (10, 4000, 1) and y.shape == (4000, 1)
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert set(np.unique(x)) <= {0.0, 1.0}
    for b in range(200):
        assert y[b, 0] == float(_has_run(list(x[:, b, 0] == 1), 3))
    # exactly 520 of the 1024 sequences of length 10 contain 111
    exact = np.mean([_has_run(s, 3) for s in itertools.product([0, 1], repeat=10)])
    assert exact == pytest.approx(520 / 1024)
    assert abs(y.mean() - exact) < 0.03


def test_contains_run_other_length():
    x, y = contains_run_task(6, 300, seed=1, run_length=1)
    np.testing.assert_array_equal(y[:, 0], (x[:, :, 0].sum(axis=0) > 0).astype(float))


def test_running_parity_is_the_xor_of_the_prefix():
    x, y = running_parity_task(7, 50, seed=2)
    assert x.shape == y.shape == (7, 50, 1)
    bits = x[..., 0].astype(int)
    acc = np.zeros(50, dtype=int)
    for t in range(7):
        acc ^= bits[t]
        np.testing.assert_array_equal(y[t, :, 0], acc)


def test_sine_from_phase():
    v, y = sine_from_phase_task(20, 30, seed=3, period=10.0)
    assert v.shape == (30, 2) and y.shape == (20, 30, 1)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0)
    phi = np.arctan2(v[:, 1], v[:, 0])
    np.testing.assert_allclose(y[0, :, 0], v[:, 1])                 # y_0 = sin(phi)
    np.testing.assert_allclose(y[10, :, 0], y[0, :, 0], atol=1e-12)  # period 10
    np.testing.assert_allclose(y[3, :, 0], np.sin(phi + 2 * np.pi * 3 / 10))


def test_reverse_task():
    x, y = reverse_task(5, 40, 3, seed=4)
    assert x.shape == (5, 40, 3) and y.shape == (5, 40)
    assert np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(x.sum(-1), 1.0)
    np.testing.assert_array_equal(y, x.argmax(-1)[::-1])


@pytest.mark.parametrize("make", [
    lambda s: contains_run_task(8, 4, s), lambda s: running_parity_task(8, 4, s),
    lambda s: sine_from_phase_task(8, 4, s), lambda s: reverse_task(4, 4, 3, s)])
def test_tasks_are_seeded(make):
    a, b, c = make(0), make(0), make(1)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(u, w) for u, w in zip(a, c))


@pytest.mark.parametrize("call,match", [
    (lambda: contains_run_task(0, 4, 0), "T must be an int >= 1"),
    (lambda: contains_run_task(5, 4, 0, run_length=0), "run_length must be an int >= 1"),
    (lambda: running_parity_task(5, 2.5, 0), "B must be an int >= 1"),
    (lambda: sine_from_phase_task(5, 4, 0, period=0), "period must be positive"),
    (lambda: reverse_task(3, 4, 1, 0), "V must be an int >= 2"),
    (lambda: reverse_task(True, 4, 3, 0), "L must be an int >= 1"),
])
def test_bad_sizes_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unseeded_is_refused():
    with pytest.raises(ValueError, match="pass a seed"):
        running_parity_task(4, 2, None)
