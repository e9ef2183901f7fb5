"""What every training script of :mod:`labrnn.apps` shares: where checkpoints go,
a training loop with a progress bar, and the JSON log of a run."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from ..errors import NonFiniteError
from ..training.optim import clip_by_global_norm

__all__ = ["checkpoint_dir", "fit", "write_log", "loss_went_down"]


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


def loss_went_down(losses, window=5):
    """True when the mean of the last ``window`` losses is below that of the first ``window``."""
    if len(losses) < 2 * window:
        raise ValueError(f"need at least {2 * window} losses to compare, received {len(losses)}")
    first = sum(losses[:window]) / window
    last = sum(losses[-window:]) / window
    return last < first
