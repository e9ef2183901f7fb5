"""Associative recall with the Elman network, the LSTM and the GRU (book chapter 20).

::

    python -m labrnn.apps.recall train              # 18 short runs, 21 min on a busy shared machine
    python -m labrnn.apps.recall evaluate

For every cell in :data:`CELLS`, every number of stored pairs ``P`` in
:data:`PAIRS` and every seed in :data:`SEEDS`, a network (``H`` units, a
softmax read-out of the last state, many-to-one) is trained for the same
budget of ``steps`` Adam updates on :func:`labrnn.lab.memory_tasks.recall_task`
(8 keys, 8 values: chance is 1/8), and evaluated on a fixed test batch of
1000 sequences (seed ``[2, P]``, a stream training never draws from). Each
run's parameters are a checkpoint ``checkpoints/recall/<cell>-P<P>-s<seed>``
recording its test accuracy; ``log.json`` holds every run's loss curve.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..cells import init_cell
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..lab.experiments import cell_loss_and_grads, evaluate_cell
from ..lab.memory_tasks import recall_task
from ..training.optim import Adam
from .common import checkpoint_dir, fit, write_log

__all__ = ["CONFIG", "CELLS", "PAIRS", "SEEDS", "test_set", "accuracy", "train_one", "train",
           "run_name", "load", "main"]

CELLS = ("elman", "lstm", "gru")
PAIRS = (1, 2, 4)
SEEDS = (0, 1)
CONFIG = {"H": 32, "B": 64, "steps": 2000, "lr": 1e-2, "max_norm": 1.0, "n_keys": 8,
          "n_values": 8, "test_size": 1000}


def run_name(cell, P, seed):
    """The checkpoint name of one run: ``"<cell>-P<P>-s<seed>"``."""
    return f"{cell}-P{P}-s{seed}"


def test_set(P, n_keys=8, n_values=8, size=1000):
    """The fixed test batch for ``P`` pairs: ``recall_task(P, size, seed=[2, P])``."""
    return recall_task(P, size, [2, P], n_keys=n_keys, n_values=n_values)


def accuracy(cell, params, P, n_keys=8, n_values=8, size=1000):
    """Test accuracy (fraction of queries answered with the stored value) of one network."""
    x, y = test_set(P, n_keys, n_values, size)
    _, z = evaluate_cell(cell, params, x, y, loss="cross_entropy", many_to_one=True)
    return float(np.mean(z.argmax(-1) == y))


def train_one(cell, P, seed, progress=True, **overrides):
    """Train one network; returns ``(params, losses, seconds, test_accuracy)``."""
    cfg = dict(CONFIG, **overrides)
    D = cfg["n_keys"] + cfg["n_values"] + 1
    params = init_cell(cell, D, cfg["H"], cfg["n_values"], seed=seed)
    opt = Adam(cfg["lr"])

    def loss_and_grads(step):
        x, y = recall_task(P, cfg["B"], [1, seed, P, step], n_keys=cfg["n_keys"],
                           n_values=cfg["n_values"])
        loss, grads, _ = cell_loss_and_grads(cell, params, x, y, loss="cross_entropy",
                                             many_to_one=True)
        return loss, grads

    losses, seconds = fit(loss_and_grads, params, opt, cfg["steps"], cfg["max_norm"],
                          desc=run_name(cell, P, seed), progress=progress)
    acc = accuracy(cell, params, P, cfg["n_keys"], cfg["n_values"], cfg["test_size"])
    return params, losses, seconds, acc


def train(out=None, cells=CELLS, pairs=PAIRS, seeds=SEEDS, progress=True, save=True,
          **overrides):
    """Every run of the grid; returns the log record (a dict with one entry per run)."""
    cfg = dict(CONFIG, **overrides)
    d = checkpoint_dir("recall", out)
    runs = {}
    for cell in cells:
        for P in pairs:
            for seed in seeds:
                params, losses, seconds, acc = train_one(cell, P, seed, progress, **cfg)
                name = run_name(cell, P, seed)
                runs[name] = {"cell": cell, "P": P, "seed": seed, "test_accuracy": acc,
                              "wall_time_s": round(seconds, 1), "train_loss": losses[::10]}
                if save:
                    save_checkpoint(d / name, params, config={**cfg, "cell": cell, "P": P,
                                                              "seed": seed},
                                    metrics={"test_accuracy": acc}, wall_time_s=seconds)
    record = {"config": cfg, "runs": runs,
              "wall_time_s": round(sum(r["wall_time_s"] for r in runs.values()), 1)}
    if save:
        write_log(d / "log.json", record)
    return record


def load(cell, P, seed, folder=None):
    """One committed run: ``(params, meta)`` from ``checkpoints/recall/<cell>-P<P>-s<seed>``."""
    return load_checkpoint(checkpoint_dir("recall", folder) / run_name(cell, P, seed))


def main(argv=None):
    """Command line: ``train [--steps N] [--out DIR]`` or ``evaluate``."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.recall",
                                 description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train every run and write the checkpoints")
    t.add_argument("--steps", type=int, default=CONFIG["steps"])
    t.add_argument("--out", default=None, help="folder (default checkpoints/recall)")
    e = sub.add_parser("evaluate", help="recompute the test accuracy of every checkpoint")
    e.add_argument("--folder", default=None)
    a = ap.parse_args(argv)
    if a.cmd == "train":
        rec = train(a.out, steps=a.steps)
        for name, r in rec["runs"].items():
            print(name, r["test_accuracy"])
        print(f"wall time {rec['wall_time_s']} s")
    else:
        for cell in CELLS:
            for P in PAIRS:
                for seed in SEEDS:
                    params, meta = load(cell, P, seed, a.folder)
                    print(run_name(cell, P, seed), accuracy(cell, params, P),
                          "stored:", meta["metrics"]["test_accuracy"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
