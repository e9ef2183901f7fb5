"""Forecast baselines, the linear autoregression and the errors by horizon, against explicit loops."""

import math

import numpy as np
import pytest

from labrnn.errors import ShapeError
from labrnn.lab.forecast import (errors_by_horizon, fit_linear_ar, forecast_targets,
                             last_value_forecast, linear_ar_forecast, seasonal_naive_forecast)


def _series(n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 300 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, n)


def test_naive_forecasts_match_loops(backend):
    y = _series()
    origins, K = [11, 20, 40], 15
    yb = backend.asarray(y)
    last = backend.to_numpy(last_value_forecast(yb, origins, K))
    seas = seasonal_naive_forecast(yb, origins, K)
    assert backend.on_this_device(seas)
    seas = backend.to_numpy(seas)
    for i, o in enumerate(origins):
        for h in range(1, K + 1):
            assert last[i, h - 1] == y[o]
            k = 1 if h <= 12 else 2                       # latest observation of the same month
            assert seas[i, h - 1] == y[o + h - 12 * k] and o + h - 12 * k <= o


def test_targets_are_nan_outside_the_period(backend):
    y = _series(30)
    tr = backend.to_numpy(forecast_targets(backend.asarray(y), [20, 25], 6, end=28))
    for i, o in enumerate([20, 25]):
        for h in range(1, 7):
            if o + h < 28:
                assert tr[i, h - 1] == y[o + h]
            else:
                assert math.isnan(tr[i, h - 1])


def test_linear_ar_recovers_a_noiseless_model(backend):
    # y[t] = c + b t/12 + phi_1 y[t-1] + phi_2 y[t-2], generated exactly
    c, b, phi = 1.5, 0.2, np.array([0.6, 0.3])
    y = np.zeros(80)
    y[:2] = [10.0, 11.0]
    for t in range(2, 80):
        y[t] = c + b * t / 12 + phi[0] * y[t - 1] + phi[1] * y[t - 2]
    w = backend.to_numpy(fit_linear_ar(backend.asarray(y), 2))
    np.testing.assert_allclose(w, [c, b, *phi], rtol=1e-7)


def test_linear_ar_equals_numpy_lstsq_and_the_recursive_loop(backend):
    y = _series(90, seed=3)
    p = 4
    w = backend.to_numpy(fit_linear_ar(backend.asarray(y), p))
    X = np.array([[1.0, t / 12] + [y[t - i] for i in range(1, p + 1)] for t in range(p, 90)])
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y[p:], rcond=None)[0], rtol=1e-8)
    origins, K = [10, 50], 7
    got = backend.to_numpy(linear_ar_forecast(backend.asarray(w), backend.asarray(y), origins, K))
    for i, o in enumerate(origins):
        hist = list(y[:o + 1])
        for h in range(1, K + 1):
            t = o + h
            pred = w[0] + w[1] * t / 12 + sum(w[1 + j] * hist[t - j] for j in range(1, p + 1))
            hist.append(pred)
            assert got[i, h - 1] == pytest.approx(pred, rel=1e-12)


def test_errors_by_horizon_by_hand(backend):
    f = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]])
    t = np.array([[2.0, 2.0], [1.0, np.nan], [0.0, 4.0]])
    rmse, mae, n = (backend.to_numpy(a) for a in errors_by_horizon(backend.asarray(f),
                                                                   backend.asarray(t)))
    np.testing.assert_allclose(rmse, [math.sqrt((1 + 4 + 0) / 3), math.sqrt((0 + 9) / 2)])
    np.testing.assert_allclose(mae, [(1 + 2 + 0) / 3, (0 + 3) / 2])
    np.testing.assert_array_equal(n, [3, 2])


def test_errors_name_the_argument(backend):
    y = backend.asarray(_series(30))
    with pytest.raises(ValueError, match=r"origins must lie in \[11, 29\]"):
        seasonal_naive_forecast(y, [5], 3)
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        last_value_forecast(y, [5], 0)
    with pytest.raises(ShapeError, match=r"y must be a 1-d series \(N,\), received shape \(30, 1\)"):
        last_value_forecast(backend.asarray(_series(30)[:, None]), [5], 2)
    with pytest.raises(ValueError, match="p must be an integer >= 1"):
        fit_linear_ar(y, 0)
    with pytest.raises(ValueError, match="too few to fit"):
        fit_linear_ar(y, 20)
    with pytest.raises(ShapeError, match=r"forecast and truth must both have shape \(N, K\)"):
        errors_by_horizon(backend.asarray(np.zeros((2, 3))), backend.asarray(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="no target inside the evaluated period"):
        errors_by_horizon(backend.asarray(np.zeros((1, 2))),
                          backend.asarray(np.array([[1.0, np.nan]])))


def test_origins_may_be_an_array_of_the_backend(backend):
    y = backend.asarray(_series(40))
    o = backend.asarray(np.array([12, 20]))
    np.testing.assert_array_equal(backend.to_numpy(seasonal_naive_forecast(y, o, 3)),
                                  backend.to_numpy(seasonal_naive_forecast(y, [12, 20], 3)))
    with pytest.raises(ValueError, match="origins must be a non-empty 1-d list of integer"):
        last_value_forecast(y, [1.5], 2)
