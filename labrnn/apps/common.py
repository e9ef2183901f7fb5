"""What every training script of :mod:`labrnn.apps` shares: where checkpoints go,
a training loop with a progress bar, the JSON log of a run, writing a run, and the
``train``/``evaluate`` command line of the small scripts."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from ..errors import NonFiniteError
from ..training.checkpoint import save_checkpoint
from ..training.optim import clip_by_global_norm

__all__ = ["checkpoint_dir", "fit", "write_log", "save_run", "train_cli", "loss_went_down"]


def checkpoint_dir(name, out=None) -> Path:
    """``out`` if given, else ``<repository>/checkpoints/<name>`` (next to ``labrnn/``)."""
    return Path(out) if out is not None else Path(__file__).resolve().parents[2] / "checkpoints" / name


def fit(loss_and_grads, params, optimizer, steps, max_norm=None, desc="train", progress=True,
        on_step=None):
    """Run ``steps`` updates: ``loss, grads = loss_and_grads(step)``, clip, ``optimizer.step``.

    ``params`` is updated in place. ``on_step(step, loss)`` is called after every
    update (for validation curves). A non-finite loss raises
    :class:`labrnn.NonFiniteError` naming the step. Returns ``(losses, seconds)``:
    the training loss of every step (7 decimals) and the wall time.
    """
    from tqdm.auto import tqdm

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, received {steps!r}")
    losses = []
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=1.0)
    for step in bar:
        loss, grads = loss_and_grads(step)
        loss = float(loss)
        if not math.isfinite(loss):
            raise NonFiniteError(f"step {step}: the loss is {loss}; lower the learning rate")
        if max_norm is not None:
            grads, _ = clip_by_global_norm(grads, max_norm)
        optimizer.step(params, grads)
        losses.append(round(loss, 7))
        if on_step is not None:
            on_step(step, loss)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss:.4g}")
    return losses, time.perf_counter() - start


def write_log(path, record):
    """Write the JSON log ``record`` (a dict: config, curves, metrics) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return path


def save_run(name, stem, params, record, out=None):
    """Write a run: the checkpoint ``<out>/<stem>.npz|.json`` (the record's config and
    metrics) and the log ``<out>/log.json``; ``out`` defaults to ``checkpoints/<name>``."""
    d = checkpoint_dir(name, out)
    save_checkpoint(d / stem, params, config=record["config"], metrics=record["metrics"],
                    wall_time_s=record["wall_time_s"])
    write_log(d / "log.json", record)
    return d


def train_cli(name, doc, argv, config, train, load, evaluate_checkpoint):
    """The command line of a small training script ``python -m labrnn.apps.<name>``:
    ``train [--steps N] [--seed S] [--out DIR]`` runs ``train(steps, seed, out)``;
    ``evaluate [--path P]`` prints ``evaluate_checkpoint(params, meta)`` of ``load(P)``
    beside the stored metrics. ``config`` gives the defaults, ``doc`` the description."""
    ap = argparse.ArgumentParser(prog=f"python -m labrnn.apps.{name}", description=doc.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train and write the checkpoint")
    t.add_argument("--steps", type=int, default=config["steps"])
    t.add_argument("--seed", type=int, default=config["seed"])
    t.add_argument("--out", default=None, help=f"folder (default checkpoints/{name})")
    e = sub.add_parser("evaluate", help="recompute the test metrics of a checkpoint")
    e.add_argument("--path", default=None)
    a = ap.parse_args(argv)
    if a.cmd == "train":
        _, rec = train(a.steps, a.seed, a.out)
        print(rec["metrics"], f"wall time {rec['wall_time_s']} s")
    else:
        params, meta = load(a.path)
        print(evaluate_checkpoint(params, meta), "stored:", meta["metrics"])
    return 0


def loss_went_down(losses, window=5):
    """True when the mean of the last ``window`` losses is below that of the first ``window``."""
    if len(losses) < 2 * window:
        raise ValueError(f"need at least {2 * window} losses to compare, received {len(losses)}")
    first = sum(losses[:window]) / window
    last = sum(losses[-window:]) / window
    return last < first
