"""Train the CO2 forecasters of book chapter 16 (Mauna Loa, monthly means).

::

    python -m labrnn.apps.co2 train --model diff --seeds 0 1 2       # one step ahead, rolled out
    python -m labrnn.apps.co2 train --model direct --seeds 0 1 2     # 1..24 months at once
    python -m labrnn.apps.co2 train --model levels --seeds 0 1 2     # the same GRU on normalised levels
    python -m labrnn.apps.co2 evaluate checkpoints/co2/diff_s0

Three GRU forecasters (:mod:`labrnn.cells`, equations ``gru-gates`` to ``gru-update``, with an
affine output layer), each reading a window of ``L`` months, the features of month
``t`` being ``x_t = [u_t, sin(2 pi m_t / 12), cos(2 pi m_t / 12)]`` (``m_t`` the
calendar month):

* ``diff``: ``u_t = (dy_t - mu) / sigma`` with ``dy_t = y_t - y_{t-1}``, the
  monthly change, normalised by its training mean and standard deviation
  (equation ``fc-diff``); trained to predict ``u_{t+1}`` at every step. One step
  ahead: ``yhat(o + 1) = y_o + mu + sigma * uhat``. Many steps ahead: the
  forecast is fed back as the next input (**recursive rollout**).
* ``direct``: the same inputs, read to the end of the window (many-to-one),
  and 24 outputs at once (**direct multi-output**): output ``h`` predicts
  ``(y_{o+h} - y_o - h mu) / sigma``.
* ``levels``: ``u_t = (y_t - m) / s``, the level normalised by the training mean
  and standard deviation, predicting ``u_{t+1}`` (the chapter's example of
  what goes wrong with a trending series).

Training draws random windows from the training years (up to 2010) with a seeded
generator, Adam with clipping; every ``--eval-every`` steps the validation error
(2011-2017; one-step RMSE, or the mean RMSE over the 24 horizons for ``direct``)
decides which parameters are kept. The kept parameters are scored once on the test
years (2018 on) and saved with :func:`labrnn.training.checkpoint.save_checkpoint` under
``checkpoints/co2/<model>_s<seed>`` with a JSON log of the curves.
Everything here is NumPy on the host (a training script).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..cells import cell_forward, init_cell
from ..datasets.co2 import chronological_split, co2_path, load_co2
from ..lab.experiments import train_cell
from ..lab.forecast import errors_by_horizon, forecast_targets
from ..layers.affine import affine_forward
from ..training.optim import Adam

__all__ = ["MODELS", "WINDOW", "HORIZON", "Setup", "setup", "features", "onestep_forecast",
           "rollout_forecast", "direct_forecast", "model_forecast", "split_origins",
           "evaluate_params", "train", "main"]

MODELS = ("diff", "direct", "levels")
WINDOW = 36                  # months of history each forecast reads
HORIZON = 24                 # months ahead


class Setup:
    """The series, its split and the normalisation statistics (training years only).

    ``y`` (N,) ppm; ``month`` (N,); ``split`` (slices); ``mu``, ``sigma`` of the
    monthly change and ``m``, ``s`` of the level, over the training years.
    """

    def __init__(self, series):
        self.y = np.asarray(series.co2, dtype=np.float64)
        self.month = np.asarray(series.month)
        self.split = chronological_split(series)
        tr = self.split["train"]
        dy = np.diff(self.y[tr])
        self.mu, self.sigma = float(dy.mean()), float(dy.std())
        self.m, self.s = float(self.y[tr].mean()), float(self.y[tr].std())


def setup():
    """:class:`Setup` of the committed Mauna Loa file."""
    return Setup(load_co2())


def features(st, model, y=None):
    """Input features ``(N, 3)`` of every month (row 0 of ``diff``/``direct`` has ``u = 0``)."""
    y = st.y if y is None else y
    ang = 2 * np.pi * st.month / 12.0
    if model == "levels":
        u = (y - st.m) / st.s
    else:
        u = np.concatenate([[0.0], (np.diff(y) - st.mu) / st.sigma])
    return np.stack([u, np.sin(ang), np.cos(ang)], axis=1)


def _windows(F, origins, L=WINDOW):
    idx = np.asarray(origins)[None, :] + np.arange(-L + 1, 1)[:, None]      # (L, N)
    return F[idx]                                                            # (L, N, 3)


def _readout(params, h):
    return affine_forward(h, params["W_hy"], params["b_y"])[0]


def onestep_forecast(params, st, model, origins):
    """One-step forecasts ``yhat(o + 1)`` (N,) of a ``diff`` or ``levels`` model."""
    x = _windows(features(st, model), origins)
    h, _, _ = cell_forward("gru", x, params)
    u = _readout(params, h[-1])[:, 0]
    o = np.asarray(origins)
    return u * st.s + st.m if model == "levels" else st.y[o] + st.mu + st.sigma * u


def rollout_forecast(params, st, model, origins, horizon=HORIZON):
    """Recursive forecasts ``(N, K)``: each one-step forecast is fed back as the next input."""
    o = np.asarray(origins)
    x = _windows(features(st, model), o)
    h, state, _ = cell_forward("gru", x, params)
    last = st.y[o]
    out = []
    for k in range(1, horizon + 1):
        u = _readout(params, state[0])[:, 0]
        yhat = u * st.s + st.m if model == "levels" else last + st.mu + st.sigma * u
        out.append(yhat)
        if k == horizon:
            break
        ang = 2 * np.pi * st.month[0] / 12.0 + 2 * np.pi * (o + k) / 12.0
        uin = u if model == "levels" else (yhat - last - st.mu) / st.sigma
        xin = np.stack([uin, np.sin(ang), np.cos(ang)], axis=1)[None, ...]
        _, state, _ = cell_forward("gru", xin, params, state0=state)
        last = yhat
    return np.stack(out, axis=1)


def direct_forecast(params, st, origins, horizon=HORIZON):
    """Direct multi-output forecasts ``(N, K)`` of a ``direct`` model."""
    o = np.asarray(origins)
    h, _, _ = cell_forward("gru", _windows(features(st, "direct"), o), params)
    z = _readout(params, h[-1])[:, :horizon]
    return st.y[o][:, None] + st.mu * np.arange(1, horizon + 1)[None, :] + st.sigma * z


def model_forecast(params, st, model, origins, horizon=HORIZON):
    """Forecasts ``(N, K)`` of any model: the rollout for ``diff``/``levels``, the outputs for ``direct``."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, received {model!r}")
    if model == "direct":
        return direct_forecast(params, st, origins, horizon)
    return rollout_forecast(params, st, model, origins, horizon)


def split_origins(st, part):
    """Origins and end index of the validation or test period: every month before it and in it, except the last."""
    sl = st.split[part]
    return np.arange(sl.start - 1, sl.stop - 1), sl.stop


def evaluate_params(params, st, model, part):
    """``{"rmse": [...], "mae": [...]}`` by horizon 1..24 on ``part`` (``"valid"`` or ``"test"``)."""
    o, end = split_origins(st, part)
    truth = forecast_targets(st.y, o, HORIZON, end)
    rmse, mae, _ = errors_by_horizon(model_forecast(params, st, model, o), truth)
    return {"rmse": [float(v) for v in rmse], "mae": [float(v) for v in mae]}


def _score(params, st, model, part):
    """The selection score: one-step RMSE, or the mean RMSE over horizons for ``direct``."""
    if model == "direct":
        return float(np.mean(evaluate_params(params, st, model, part)["rmse"]))
    o, end = split_origins(st, part)
    err = onestep_forecast(params, st, model, o) - st.y[o + 1]
    return float(np.sqrt(np.mean(err ** 2)))


def _batches(st, model, B, L, rng):
    F = features(st, model)
    tr_end = st.split["train"].stop
    if model == "direct":
        lo, hi = L, tr_end - HORIZON                     # origins whose 24 targets are in training
        idx = np.arange(1, HORIZON + 1)

        def draw(_):
            o = rng.integers(lo, hi, size=B)
            z = (st.y[o[:, None] + idx] - st.y[o][:, None] - st.mu * idx) / st.sigma
            return _windows(F, o, L), z
    else:
        lo, hi = L, tr_end - 1

        def draw(_):
            o = rng.integers(lo, hi, size=B)             # window ends at o, targets one later
            return _windows(F, o, L), _windows(F, o + 1, L)[..., :1]
    return draw


def train(model="diff", H=32, steps=2000, batch=32, lr=3e-3, max_norm=1.0, seed=0,
          eval_every=100, out=None, progress=True):
    """Train one forecaster; returns ``(params, log)`` and writes checkpoint and log if ``out`` is given."""
    from tqdm.auto import tqdm

    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, received {model!r}")
    start = time.perf_counter()
    st = setup()
    O = HORIZON if model == "direct" else 1
    params = init_cell("gru", 3, H, O, seed=seed)
    opt = Adam(lr)
    draw = _batches(st, model, batch, WINDOW, np.random.default_rng(seed))
    log = {"loss": [], "valid": []}
    best, best_score = dict(params), np.inf
    bar = tqdm(total=steps, disable=not progress, desc=f"co2 {model} seed {seed}")
    done = 0
    while done < steps:
        n = min(eval_every, steps - done)
        hist = train_cell("gru", params, draw, opt, loss="mse", many_to_one=(model == "direct"),
                          steps=n, max_norm=max_norm)
        done += n
        log["loss"].extend(round(v, 6) for v in hist.loss)
        score = _score(params, st, model, "valid")
        log["valid"].append([done, score])
        if score < best_score:
            best, best_score = dict(params), score
        bar.update(n)
        bar.set_postfix(loss=f"{hist.final():.4f}", valid=f"{score:.3f}")
    bar.close()
    metrics = {"valid_score": best_score, "test": evaluate_params(best, st, model, "test"),
               "valid": evaluate_params(best, st, model, "valid")}
    if model != "direct":
        metrics["test_onestep_rmse"] = _score(best, st, model, "test")
    wall = time.perf_counter() - start
    log["wall_time_s"] = round(wall, 1)
    if out is not None:
        from ..training.checkpoint import save_checkpoint
        config = {"model": model, "H": H, "steps": steps, "batch": batch, "lr": lr,
                  "max_norm": max_norm, "seed": seed, "eval_every": eval_every,
                  "window": WINDOW, "horizon": HORIZON}
        save_checkpoint(out, best, config=config, metrics=metrics, data_files=[co2_path()],
                        wall_time_s=wall,
                        extra={"command": " ".join(["python -m labrnn.apps.co2"] + sys.argv[1:])})
        Path(str(out) + ".log.json").write_text(json.dumps(log) + "\n")
    return best, log


def main(argv=None):
    """Command-line entry point: ``train`` or ``evaluate`` (see ``--help``)."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.co2", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a model for each seed, write checkpoints and logs")
    t.add_argument("--model", choices=MODELS, default="diff")
    t.add_argument("--hidden", type=int, default=32)
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    t.add_argument("--eval-every", type=int, default=100)
    t.add_argument("--out-dir", default="checkpoints/co2")
    e = sub.add_parser("evaluate", help="recompute a checkpoint's test errors")
    e.add_argument("path")
    a = ap.parse_args(argv)
    if a.cmd == "train":
        for seed in a.seeds:
            _, log = train(a.model, a.hidden, a.steps, a.batch, a.lr, seed=seed,
                           eval_every=a.eval_every, out=Path(a.out_dir) / f"{a.model}_s{seed}")
            print(f"{a.model} seed {seed}: best validation {min(v for _, v in log['valid']):.4f}, "
                  f"{log['wall_time_s']} s")
    else:
        from ..training.checkpoint import load_checkpoint
        params, meta = load_checkpoint(a.path)
        m = evaluate_params(params, setup(), meta["config"]["model"], "test")
        print(json.dumps({"rmse_h1": m["rmse"][0], "rmse_h12": m["rmse"][11],
                          "rmse_h24": m["rmse"][23]}))


if __name__ == "__main__":
    main()
