"""Learn the Lorenz system from trajectories with a GRU, then let it run free (book chapter 20).

::

    python -m labrnn.apps.lorenz train              # 26 min on a busy shared 2-core machine
    python -m labrnn.apps.lorenz evaluate

Data: :func:`labrnn.lab.dynamics.lorenz_trajectories` (RK4, ``dt = 0.01``, every
second state kept: spacing ``DT = 0.02``), 128 training trajectories of 1000
steps from seed 0, and 16 test trajectories from seed 1 that training never
sees. States are normalised, ``u = (x - MEAN) / SCALE``. The model is a GRU
(equations ``gru-gates``, ``gru-candidate``, ``gru-update``) with a linear
read-out that predicts the next increment, equation ``lorenz-model``::

    u_{t+1} = u_t + DSCALE * (W_hy h_t + b_y),       h_t = GRU(u_t, h_{t-1})

trained by teacher forcing (it reads the true ``u_t``) on the mean squared
error of the scaled increments over random windows of 50 steps. A **free
rollout** (:func:`rollout`) reads the true states for a warm-up, then its
own predictions. The checkpoint records the one-step test error and the
median time at which free rollouts leave the true trajectories
(:func:`labrnn.lab.dynamics.divergence_time`, threshold ``THRESHOLD``).
"""

from __future__ import annotations

import sys

import numpy as np

from ..backend import host_rng
from ..cells import init_cell
from ..training.checkpoint import load_checkpoint
from ..lab.dynamics import LORENZ_LYAPUNOV, divergence_time, lorenz_trajectories
from ..lab.experiments import cell_loss_and_grads
from ..layers.affine import affine_forward
from ..training.optim import Adam
from ..models.recurrent import recurrent_forward
from .common import checkpoint_dir, fit, save_run, train_cli

__all__ = ["CONFIG", "MEAN", "SCALE", "DSCALE", "DT", "THRESHOLD", "WARMUP", "HORIZON",
           "data", "normalise", "denormalise", "rollout", "one_step_rmse", "evaluate",
           "train", "load", "main"]

CONFIG = {"H": 64, "T": 50, "B": 32, "steps": 4000, "lr": 3e-3, "max_norm": 1.0, "seed": 0,
          "n_train": 128, "n_test": 16, "traj_steps": 2000}
MEAN = np.array([0.0, 0.0, 23.5])
SCALE = 8.0
DSCALE = 0.15
DT = 0.02            # time between kept states (dt = 0.01, every 2nd)
THRESHOLD = 5.0      # a rollout has diverged when ||x_pred - x_true|| > 5 (attractor std ~ 8.5)
WARMUP = 50          # true states read before running free
HORIZON = 500        # free steps (10 time units, ~9 Lyapunov times)


def data(split, n_train=128, n_test=16, traj_steps=2000):
    """Trajectories ``(traj_steps // 2 + 1, n, 3)`` of ``split`` in {"train", "test"} (seeds 0, 1)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', received {split!r}")
    n, seed = (n_train, 0) if split == "train" else (n_test, 1)
    return lorenz_trajectories(n, traj_steps, dt=0.01, every=2, seed=seed)


def normalise(x):
    """``u = (x - MEAN) / SCALE`` (host arrays)."""
    return (np.asarray(x) - MEAN) / SCALE


def denormalise(u):
    """Inverse of :func:`normalise`."""
    return np.asarray(u) * SCALE + MEAN


def _readout(params, h):
    z, _ = affine_forward(h, params["W_hy"], params["b_y"])
    return z


def rollout(params, warm, steps):
    """Teacher-forced warm-up on ``warm`` (W, B, 3), then ``steps`` free steps.

    Returns the free predictions ``(steps, B, 3)`` in the original
    coordinates: entry ``k`` predicts the state ``k + 1`` steps after the
    last warm-up state (equation ``lorenz-model`` applied to its own output).
    """
    u = normalise(warm)
    out, h, _ = recurrent_forward(u, params, cell="gru", return_state=True)
    u_next = u[-1] + DSCALE * np.asarray(_readout(params, out[-1]))
    preds = []
    for _ in range(int(steps)):
        preds.append(u_next)
        out, h, _ = recurrent_forward(u_next[None], params, h, cell="gru", return_state=True)
        u_next = u_next + DSCALE * np.asarray(_readout(params, out[-1]))
    return denormalise(np.stack(preds, axis=0))


def _windows(traj, T, B, rng):
    n = traj.shape[1]
    start = rng.integers(0, traj.shape[0] - T - 1, size=B)
    which = rng.integers(0, n, size=B)
    w = np.stack([traj[s:s + T + 1, j] for s, j in zip(start, which)], axis=1)   # (T+1, B, 3)
    u = normalise(w)
    return u[:-1], (u[1:] - u[:-1]) / DSCALE


def one_step_rmse(params, traj):
    """Teacher-forced one-step error on whole trajectories ``traj`` (T, B, 3): RMS of
    ``||x_pred - x_true||`` in the original coordinates."""
    u = normalise(traj)
    out, _ = recurrent_forward(u[:-1], params, cell="gru")
    pred = denormalise(u[:-1] + DSCALE * np.asarray(_readout(params, out)))
    return float(np.sqrt(np.mean(np.sum((pred - traj[1:]) ** 2, axis=-1))))


def evaluate(params, test=None):
    """One-step test RMSE, and free-rollout divergence times on the test trajectories.

    Returns a dict: ``one_step_rmse``, ``divergence_steps`` (one per test
    trajectory), ``median_divergence_lyapunov`` (median time in Lyapunov
    times ``lambda t``).
    """
    test = data("test") if test is None else test
    preds = rollout(params, test[:WARMUP], HORIZON)
    truth = test[WARMUP:WARMUP + HORIZON]
    steps = divergence_time(preds, truth, THRESHOLD) + 1      # steps after the warm-up
    return {"one_step_rmse": one_step_rmse(params, test),
            "divergence_steps": [int(s) for s in steps],
            "median_divergence_lyapunov": float(np.median(steps) * DT * LORENZ_LYAPUNOV)}


def train(steps=None, seed=None, out=None, progress=True, save=True, **overrides):
    """Train with :data:`CONFIG` (keys overridable); returns ``(params, record)``.

    With ``save=True`` writes ``<out>/gru.npz|.json`` and ``<out>/log.json``
    (``out`` defaults to ``checkpoints/lorenz``).
    """
    cfg = dict(CONFIG, **overrides)
    if steps is not None:
        cfg["steps"] = int(steps)
    if seed is not None:
        cfg["seed"] = int(seed)
    traj = data("train", cfg["n_train"], cfg["n_test"], cfg["traj_steps"])
    params = init_cell("gru", 3, cfg["H"], 3, seed=cfg["seed"])
    opt = Adam(cfg["lr"])
    rng = host_rng([1, cfg["seed"]])

    def loss_and_grads(step):
        x, y = _windows(traj, cfg["T"], cfg["B"], rng)
        loss, grads, _ = cell_loss_and_grads("gru", params, x, y, loss="mse")
        return loss, grads

    losses, seconds = fit(loss_and_grads, params, opt, cfg["steps"], cfg["max_norm"],
                          desc="lorenz", progress=progress)
    metrics = evaluate(params, data("test", cfg["n_train"], cfg["n_test"], cfg["traj_steps"]))
    record = {"config": cfg, "train_loss": losses, "metrics": metrics,
              "wall_time_s": round(seconds, 1)}
    if save:
        save_run("lorenz", "gru", params, record, out)
    return params, record


def load(path=None):
    """The committed checkpoint ``(params, meta)`` (default ``checkpoints/lorenz/gru``)."""
    return load_checkpoint(path or checkpoint_dir("lorenz") / "gru")


def main(argv=None):
    """Command line: ``train [--steps N] [--seed S] [--out DIR]`` or ``evaluate [--path P]``."""
    return train_cli("lorenz", __doc__, argv, CONFIG, train, load,
                     lambda params, meta: evaluate(params))


if __name__ == "__main__":
    sys.exit(main())
