"""Learning-rate schedules (book chapter 12): the rate as a function of the update number.

A schedule is a plain function of the update index ``step = 0, 1, 2, ...``; the training
loop sets ``optimizer.lr = schedule(step)`` before each update, so every optimiser of
:mod:`labrnn.training.optim` works with every schedule. Equation ``lr-warmup-cosine``::

    lr(s) = base_lr * (s + 1) / warmup                                    s < warmup
    lr(s) = final_lr + (base_lr - final_lr) * (1 + cos(pi * p)) / 2       p = (s - warmup) / (total - warmup)

and ``lr(s) = final_lr`` for ``s >= total``. ``step_decay`` multiplies the rate by
``factor`` every ``every`` updates.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["warmup_cosine", "step_decay"]


def _check_count(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, received {value!r}")
    return int(value)


def _check_rate(name, value, allow_zero=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        need = "a finite number >= 0" if allow_zero else "a positive finite number"
        raise ValueError(f"{name} must be {need}, received {value!r}")
    return float(value)


def warmup_cosine(step, *, base_lr, total_steps, warmup_steps=0, final_lr=0.0):
    """Linear warm-up to ``base_lr`` over ``warmup_steps`` updates, then a cosine decay
    to ``final_lr`` at ``total_steps`` (equation ``lr-warmup-cosine``); a float."""
    step = _check_count("step", step, 0)
    base_lr = _check_rate("base_lr", base_lr)
    final_lr = _check_rate("final_lr", final_lr, allow_zero=True)
    total_steps = _check_count("total_steps", total_steps, 1)
    warmup_steps = _check_count("warmup_steps", warmup_steps, 0)
    if warmup_steps >= total_steps:
        raise ValueError(f"warmup_steps must be below total_steps={total_steps}, "
                         f"received {warmup_steps}")
    if final_lr > base_lr:
        raise ValueError(f"final_lr must not exceed base_lr={base_lr}, received {final_lr}")
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return final_lr
    p = (step - warmup_steps) / (total_steps - warmup_steps)
    return final_lr + (base_lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * p))


def step_decay(step, *, base_lr, every, factor=0.5):
    """``base_lr * factor ** (step // every)``: the rate drops by ``factor`` every ``every`` updates."""
    step = _check_count("step", step, 0)
    base_lr = _check_rate("base_lr", base_lr)
    every = _check_count("every", every, 1)
    if not (isinstance(factor, numbers.Real) and 0 < factor <= 1):
        raise ValueError(f"factor must lie in (0, 1], received {factor!r}")
    return base_lr * factor ** (step // every)
