"""labrnn.lab.experiments: the training loop, evaluation and small helpers of chapters 4-5."""

import math
import warnings

import numpy as np
import pytest

import labrnn
from labrnn.lab.data import adding_problem
from labrnn.lab.experiments import History, delayed_copy, evaluate, moving_average, train


def _adding(T=6, B=4):
    return lambda step: adding_problem(T, B, seed=step)


def test_train_records_every_step_and_updates_params_in_place(backend):
    p = backend.params(2, 5, 1, seed=0)
    before = backend.to_numpy(p["W_hh"]).copy()
    hist = train(p, _adding(), labrnn.Adam(1e-2), loss="mse", many_to_one=True, steps=5)
    assert isinstance(hist, History)
    assert hist.steps == 5 and len(hist.grad_norm) == 5 and not hist.diverged
    assert all(math.isfinite(v) for v in hist.loss + hist.grad_norm)
    assert not np.array_equal(backend.to_numpy(p["W_hh"]), before)
    assert backend.on_this_device(p["W_hh"])


def test_train_lowers_the_loss_and_is_reproducible():
    runs = []
    for _ in range(2):
        p = labrnn.init_elman(2, 8, 1, seed=3, W_hh="identity")
        runs.append(train(p, _adding(T=4, B=16), labrnn.Adam(1e-2), loss="mse",
                          activation="relu", many_to_one=True, steps=150, max_norm=1.0))
    a, b = runs
    assert a.loss == b.loss                       # seeded data and weights: identical runs
    assert a.final(20) < 0.5 * np.mean(a.loss[:20])
    assert a.final(20) < 0.167                    # below the constant-prediction baseline


def test_the_first_loss_is_the_loss_before_any_update():
    p = labrnn.init_elman(2, 5, 1, seed=0)
    x, y = adding_problem(6, 4, seed=0)
    expected = evaluate(p, x, y, "mse", many_to_one=True)
    hist = train(p, _adding(), labrnn.SGD(0.1), loss="mse", many_to_one=True, steps=1)
    assert hist.loss[0] == pytest.approx(expected, rel=1e-12)


def test_global_norm_clipping_bounds_the_update():
    p = labrnn.init_elman(2, 5, 1, seed=0)
    before = {k: v.copy() for k, v in p.items()}
    hist = train(p, _adding(), labrnn.SGD(1.0), loss="mse", many_to_one=True, steps=1, max_norm=1e-3)
    assert hist.grad_norm[0] > 1e-3                # the recorded norm is the one before clipping
    step = math.sqrt(sum(float(np.sum((p[k] - before[k]) ** 2)) for k in p))
    assert step == pytest.approx(1e-3, rel=1e-6)


def test_value_clipping_bounds_every_entry_of_the_update():
    p = labrnn.init_elman(2, 5, 1, seed=0)
    before = {k: v.copy() for k, v in p.items()}
    train(p, _adding(), labrnn.SGD(1.0), loss="mse", many_to_one=True, steps=1, clip_value=1e-4)
    assert max(float(np.max(np.abs(p[k] - before[k]))) for k in p) <= 1e-4 + 1e-15


def _exploding():
    # ReLU with spectral radius 3: the states grow like 3^t and overflow float64
    return labrnn.init_elman(2, 4, 1, seed=0, W_hh="orthogonal", W_hh_scale=3.0)


def test_an_overflow_stops_the_run_and_is_recorded_without_warnings():
    p = _exploding()
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # NumPy overflow warnings would fail here
        hist = train(p, _adding(T=800, B=2), labrnn.SGD(0.1), loss="mse", activation="relu",
                     many_to_one=True, steps=3, on_nonfinite="stop")
    assert hist.diverged and hist.steps == 0
    assert hist.error.startswith("step 0: ") and "clip" in hist.error
    assert math.isnan(hist.final())


def test_an_overflow_raises_by_default():
    with pytest.raises(labrnn.NonFiniteError, match="clip"):
        with np.errstate(over="ignore", invalid="ignore"):
            train(_exploding(), _adding(T=800, B=2), labrnn.SGD(0.1), loss="mse",
                  activation="relu", many_to_one=True, steps=1)


def test_batches_may_be_an_iterator():
    data = iter([adding_problem(5, 3, seed=s) for s in range(3)])
    hist = train(labrnn.init_elman(2, 4, 1, seed=0), data, labrnn.SGD(0.01), loss="mse",
                 many_to_one=True, steps=3)
    assert hist.steps == 3


def test_sequence_labelling_with_cross_entropy():
    p = labrnn.init_elman(2, 8, 2, seed=0)
    hist = train(p, lambda s: delayed_copy(12, 8, 1, seed=s), labrnn.Adam(3e-2),
                 loss="cross_entropy", steps=60)
    assert hist.final(10) < 0.3 < math.log(2)


def test_bad_arguments_are_refused():
    p = labrnn.init_elman(2, 4, 1, seed=0)
    with pytest.raises(ValueError, match="on_nonfinite"):
        train(p, _adding(), labrnn.SGD(0.1), on_nonfinite="ignore")
    with pytest.raises(ValueError, match="steps"):
        train(p, _adding(), labrnn.SGD(0.1), steps=-1)


def test_evaluate_leaves_the_parameters_alone(backend):
    p = backend.params(2, 5, 1, seed=1)
    x, y = adding_problem(7, 3, seed=0)
    before = {k: backend.to_numpy(v).copy() for k, v in p.items()}
    value = evaluate(p, x, y, "mse", many_to_one=True)
    ref, _, _, _ = labrnn.sequence_loss_and_grads(p, backend.asarray(x), backend.asarray(y), "mse",
                                                  many_to_one=True)
    assert value == pytest.approx(ref, rel=1e-12)
    assert all(np.array_equal(backend.to_numpy(p[k]), before[k]) for k in p)


def test_moving_average():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(moving_average([1.0, 5.0], 1), [1.0, 5.0])
    # a diverged run spans many orders of magnitude; the small values must survive
    np.testing.assert_allclose(moving_average([1e17, 0.1, 0.2, 0.3], 2)[1:], [0.15, 0.25])
    with pytest.raises(ValueError, match="window"):
        moving_average([1, 2], 3)
    with pytest.raises(ValueError, match="window"):
        moving_average([1, 2], 0)


def test_delayed_copy():
    x, y = delayed_copy(20, 3, 4, seed=0)
    assert x.shape == (20, 3, 2) and y.shape == (20, 3)
    bits = np.argmax(x, axis=-1)
    np.testing.assert_array_equal(x.sum(-1), 1.0)           # one-hot
    np.testing.assert_array_equal(y[4:], bits[:-4])
    np.testing.assert_array_equal(y[:4], 0)
    x2, y2 = delayed_copy(20, 3, 4, seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    with pytest.raises(ValueError, match="delay"):
        delayed_copy(5, 1, 5, seed=0)
