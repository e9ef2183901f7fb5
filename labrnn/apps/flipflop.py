"""Train an Elman network on the 3-bit flip-flop task (book chapter 20).

::

    python -m labrnn.apps.flipflop train            # 3 min on a busy shared 2-core machine
    python -m labrnn.apps.flipflop evaluate         # recompute the committed metric

The network (``H`` tanh units, equation ``rnn-state``, a linear read-out
``W_hy``) reads the pulses of :func:`labrnn.lab.memory_tasks.flipflop_task` and is
trained on the mean squared error to the held bits, with Adam and gradient
clipping. The checkpoint ``checkpoints/flipflop/elman`` holds the parameters;
its record the test accuracy (equation ``flipflop-target``: the fraction of
outputs with the target's sign) on a fixed, seeded test set that training
never sees (its seed stream differs), which :func:`evaluate` recomputes.
Chapter 20 loads it to find the network's fixed points.
"""

from __future__ import annotations

import sys

import numpy as np

from ..cells import cell_forward, init_cell
from ..training.checkpoint import load_checkpoint
from ..lab.experiments import cell_loss_and_grads, evaluate_cell
from ..lab.memory_tasks import flipflop_accuracy, flipflop_task
from ..training.optim import Adam
from .common import checkpoint_dir, fit, save_run, train_cli

__all__ = ["CONFIG", "test_set", "evaluate", "train", "main", "load", "hidden_states"]

CONFIG = {"H": 64, "bits": 3, "T": 100, "B": 32, "p": 0.05, "steps": 3000, "lr": 3e-3,
          "max_norm": 1.0, "seed": 0}
TEST = {"T": 200, "B": 256, "seed": [2, 0]}     # training batches use the stream [1, seed, step]


def test_set(bits=3, p=0.05):
    """The fixed test batch: ``flipflop_task(200, 256, seed=[2, 0])``, ``(x, y)``."""
    return flipflop_task(TEST["T"], TEST["B"], TEST["seed"], bits=bits, p=p)


def evaluate(params, bits=3, p=0.05):
    """Test accuracy and mean squared error of ``params`` on :func:`test_set`: a dict."""
    x, y = test_set(bits, p)
    mse, z = evaluate_cell("elman", params, x, y, loss="mse")
    return {"test_accuracy": flipflop_accuracy(z, y), "test_mse": float(mse)}


def hidden_states(params, x):
    """The network's hidden states ``h`` (T, B, H) on inputs ``x`` (T, B, K) (host NumPy)."""
    h, _, _ = cell_forward("elman", x, params)
    return np.asarray(h)


def train(steps=None, seed=None, out=None, progress=True, save=True, **overrides):
    """Train with :data:`CONFIG` (``steps``, ``seed`` and any key overridden); returns ``(params, record)``.

    With ``save=True`` writes ``<out>/elman.npz|.json`` and ``<out>/log.json``
    (``out`` defaults to ``checkpoints/flipflop``).
    """
    cfg = dict(CONFIG, **overrides)
    if steps is not None:
        cfg["steps"] = int(steps)
    if seed is not None:
        cfg["seed"] = int(seed)
    params = init_cell("elman", cfg["bits"], cfg["H"], cfg["bits"], seed=cfg["seed"])
    opt = Adam(cfg["lr"])
    curve = []

    def loss_and_grads(step):
        x, y = flipflop_task(cfg["T"], cfg["B"], [1, cfg["seed"], step], bits=cfg["bits"],
                             p=cfg["p"])
        loss, grads, _ = cell_loss_and_grads("elman", params, x, y, loss="mse")
        return loss, grads

    def on_step(step, loss):
        if (step + 1) % 500 == 0 or step + 1 == cfg["steps"]:
            curve.append({"step": step + 1, **evaluate(params, cfg["bits"], cfg["p"])})

    losses, seconds = fit(loss_and_grads, params, opt, cfg["steps"], cfg["max_norm"],
                          desc="flip-flop", progress=progress, on_step=on_step)
    metrics = evaluate(params, cfg["bits"], cfg["p"])
    record = {"config": cfg, "train_loss": losses, "test_curve": curve, "metrics": metrics,
              "wall_time_s": round(seconds, 1)}
    if save:
        save_run("flipflop", "elman", params, record, out)
    return params, record


def load(path=None):
    """The committed checkpoint: ``(params, meta)`` (default ``checkpoints/flipflop/elman``)."""
    return load_checkpoint(path or checkpoint_dir("flipflop") / "elman")


def main(argv=None):
    """Command line: ``train [--steps N] [--seed S] [--out DIR]`` or ``evaluate [--path P]``."""
    return train_cli("flipflop", __doc__, argv, CONFIG, train, load,
                     lambda params, meta: evaluate(params))


if __name__ == "__main__":
    sys.exit(main())
