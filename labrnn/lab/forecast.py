"""Forecasting a series: baselines, a linear autoregression and errors by horizon (book chapter 16).

A forecast is made at an **origin** ``o`` (the last observed index) for the
horizons ``h = 1 .. K``: ``yhat[i, h - 1]`` forecasts ``y[o_i + h]``.
Forecasts of many origins form a matrix ``(N, K)``; :func:`forecast_targets`
gives the matching truth (``NaN`` where ``o + h`` lies beyond ``end``, the
end of the evaluated period), and :func:`errors_by_horizon` scores each
column over its real targets, equation ``fc-errors``::

    RMSE_h = sqrt(mean_i (y[o_i + h] - yhat[i, h - 1])^2),    MAE_h = mean_i |y[o_i + h] - yhat[i, h - 1]|

The baselines, equations ``fc-naive`` and ``fc-seasonal``::

    last value:       yhat(o + h) = y[o]
    seasonal naive:   yhat(o + h) = y[o + h - s * ceil(h / s)]       (s = 12: the same month a year before)

and the **linear autoregression with a trend**, equation ``fc-ar``, fitted by
least squares (:func:`fit_linear_ar`) and rolled out recursively, each
forecast feeding the next (:func:`linear_ar_forecast`)::

    y[t] = c + b * t / 12 + sum_{i=1..p} phi_i y[t - i] + e[t]

Every function takes arrays of any array-API library (``y`` 1-d, ``origins``
integer 1-d) and returns arrays of ``y``'s library and device.
"""

from __future__ import annotations

import numpy as np

from ..backend import device_of, from_numpy, namespace, to_numpy
from ..errors import ShapeError

__all__ = ["forecast_targets", "last_value_forecast", "seasonal_naive_forecast",
           "fit_linear_ar", "linear_ar_forecast", "errors_by_horizon"]


def _series(y, name="y"):
    xp = namespace(y)
    if y.ndim != 1:
        raise ShapeError(f"{name} must be a 1-d series (N,), received shape {tuple(y.shape)}")
    if not xp.isdtype(y.dtype, "real floating"):
        raise TypeError(f"{name} must be a floating-point series, received dtype {y.dtype}")
    return xp


def _origins(origins, y, low, horizon=None):
    if isinstance(origins, (list, tuple, range, np.ndarray)):
        host = np.asarray(origins)
    else:
        host = np.asarray(to_numpy(origins))              # indices, so a host copy is cheap
    if host.ndim != 1 or host.size == 0 or not np.issubdtype(host.dtype, np.integer):
        raise ValueError(f"origins must be a non-empty 1-d list of integer indices, received "
                         f"{origins!r}")
    N = y.shape[0]
    if host.min() < low or host.max() >= N:
        raise ValueError(f"origins must lie in [{low}, {N - 1}] (enough history for the model, "
                         f"and inside the series of length {N}), found values in "
                         f"[{host.min()}, {host.max()}]")
    return host


def _horizon(horizon):
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1 (months ahead), received {horizon!r}")
    return int(horizon)


def forecast_targets(y, origins, horizon, end=None):
    """The truth ``y[o + h]`` (N, K) of each origin and horizon, ``NaN`` where ``o + h >= end``.

    ``end`` (default ``len(y)``) is one past the last index of the evaluated
    period, so targets outside it do not count.
    """
    xp = _series(y)
    K = _horizon(horizon)
    o = _origins(origins, y, 0)
    end = y.shape[0] if end is None else int(end)
    if not 0 < end <= y.shape[0]:
        raise ValueError(f"end must lie in [1, {y.shape[0]}], received {end}")
    idx = o[:, None] + np.arange(1, K + 1)[None, :]
    ok = idx < end
    vals = xp.take(y, from_numpy(np.where(ok, idx, 0).reshape(-1), like=y), axis=0)
    vals = xp.reshape(vals, idx.shape)
    nan = xp.asarray(float("nan"), dtype=y.dtype, device=device_of(y))
    return xp.where(from_numpy(ok, like=y), vals, nan)


def last_value_forecast(y, origins, horizon):
    """Equation ``fc-naive``: every horizon forecast by the last observation, ``(N, K)``."""
    xp = _series(y)
    K = _horizon(horizon)
    o = _origins(origins, y, 0)
    last = xp.take(y, from_numpy(o, like=y), axis=0)
    return xp.broadcast_to(last[:, None], (o.size, K)) * 1.0


def seasonal_naive_forecast(y, origins, horizon, season=12):
    """Equation ``fc-seasonal``: ``y[o + h - s ceil(h/s)]``, the latest observation of the same season, ``(N, K)``."""
    xp = _series(y)
    K = _horizon(horizon)
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ValueError(f"season must be an integer >= 1 (steps per cycle), received {season!r}")
    o = _origins(origins, y, season - 1)
    h = np.arange(1, K + 1)
    idx = o[:, None] + h[None, :] - season * np.ceil(h / season).astype(int)[None, :]
    vals = xp.take(y, from_numpy(idx.reshape(-1), like=y), axis=0)
    return xp.reshape(vals, idx.shape)


def _ar_design(y, p, xp):
    N = y.shape[0]
    t = xp.arange(p, N, dtype=y.dtype, device=device_of(y)) / 12.0
    cols = [xp.ones_like(t), t] + [y[p - i:N - i] for i in range(1, p + 1)]
    return xp.stack(cols, axis=1), y[p:]


def fit_linear_ar(y, p):
    """Least-squares coefficients ``w = [c, b, phi_1 .. phi_p]`` of equation ``fc-ar`` on ``y`` (N,).

    Solved through a QR factorisation of the design matrix (``N - p`` rows,
    ``p + 2`` columns; ``t`` in years so the columns have similar scales).
    """
    xp = _series(y)
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be an integer >= 1 (the number of lags), received {p!r}")
    if y.shape[0] < 2 * p + 2:
        raise ValueError(f"y has {y.shape[0]} values, too few to fit {p + 2} coefficients "
                         f"(need at least {2 * p + 2})")
    X, target = _ar_design(y, int(p), xp)
    Q, R = xp.linalg.qr(X)
    rhs = xp.matmul(xp.matrix_transpose(Q), target[:, None])
    return xp.linalg.solve(R, rhs)[:, 0]


def linear_ar_forecast(w, y, origins, horizon):
    """Recursive forecasts ``(N, K)`` of equation ``fc-ar`` with coefficients ``w`` from :func:`fit_linear_ar`.

    From each origin the model forecasts ``y[o + 1]`` from the last ``p``
    observations, appends the forecast to the history and repeats ``K`` times.
    """
    xp = _series(y)
    K = _horizon(horizon)
    p = w.shape[0] - 2
    if w.ndim != 1 or p < 1:
        raise ShapeError(f"w must have shape (p + 2,) = [c, b, phi_1..phi_p], received "
                         f"{tuple(w.shape)}")
    o = _origins(origins, y, p - 1)
    idx = o[:, None] - np.arange(p)[None, :]                   # column i holds y[o - i]
    hist = xp.reshape(xp.take(y, from_numpy(idx.reshape(-1), like=y), axis=0), idx.shape)
    ot = from_numpy(o.astype(np.float64), like=y)
    c, b, phi = w[0], w[1], w[2:]
    out = []
    for h in range(1, K + 1):
        pred = c + b * (ot + h) / 12.0 + xp.matmul(hist, phi[:, None])[:, 0]
        out.append(pred)
        hist = xp.concat([pred[:, None], hist[:, :-1]], axis=1)
    return xp.stack(out, axis=1)


def errors_by_horizon(forecast, truth):
    """Equation ``fc-errors``: ``(rmse (K,), mae (K,), count (K,))`` over the non-NaN entries of ``truth`` (N, K)."""
    xp = namespace(forecast, truth, names=["forecast", "truth"])
    if forecast.ndim != 2 or tuple(forecast.shape) != tuple(truth.shape):
        raise ShapeError(f"forecast and truth must both have shape (N, K), received "
                         f"{tuple(forecast.shape)} and {tuple(truth.shape)}")
    ok = ~xp.isnan(truth)
    count = xp.sum(xp.astype(ok, forecast.dtype), axis=0)
    if bool(xp.any(count == 0)):
        raise ValueError("some horizon has no target inside the evaluated period; "
                         "use fewer horizons or more origins")
    err = xp.where(ok, forecast - xp.where(ok, truth, xp.zeros_like(truth)),
                   xp.zeros_like(truth))
    rmse = xp.sqrt(xp.sum(err * err, axis=0) / count)
    mae = xp.sum(xp.abs(err), axis=0) / count
    return rmse, mae, count
