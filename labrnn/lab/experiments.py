"""A small training loop for the book's experiments (chapters 4 and 5).

The chapters compare training runs that differ in one thing only: the
initialisation, the activation, gradient clipping or the learning rate. This
module keeps that loop in one tested place, so a notebook cell reads::

    hist = train(params, lambda s: adding_problem(30, 32, seed=s), Adam(1e-2),
                 loss="mse", many_to_one=True, max_norm=1.0, steps=500)
    hist.final()          # mean training loss of the last 50 steps

Every step draws a batch, runs the forward pass and full BPTT
(:func:`labrnn.sequence_loss_and_grads`), optionally clips the gradients, and
lets the optimiser update ``params`` in place (the dict is rebound entry by
entry). A run that overflows stops cleanly: the :class:`labrnn.NonFiniteError`
raised by the loss, the clipping or the optimiser is recorded in
:attr:`History.error` together with the step where it happened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..backend import from_numpy, host_rng, namespace, to_numpy
from ..cells import cell_backward, cell_forward
from ..layers.affine import affine_backward, affine_forward
from ..errors import NonFiniteError
from ..training.optim import clip_by_global_norm, clip_by_value, global_norm
from ..training.loops import loss_function, sequence_loss_and_grads

__all__ = ["History", "train", "evaluate", "moving_average", "delayed_copy"]


@dataclass
class History:
    """What a training run leaves behind.

    Attributes
    ----------
    loss : list of float
        Training loss of every completed step.
    grad_norm : list of float
        Global gradient norm of every completed step, *before* clipping.
    error : str or None
        ``None`` if every step finished; otherwise ``"step k: <message>"`` of the
        :class:`labrnn.NonFiniteError` that stopped the run at step ``k``.
    """

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    error: str | None = None

    @property
    def diverged(self):
        """True if the run stopped on an inf or NaN."""
        return self.error is not None

    @property
    def steps(self):
        """Number of completed steps."""
        return len(self.loss)

    def final(self, last=50):
        """Mean training loss over the last ``last`` completed steps (``nan`` if none)."""
        if not self.loss:
            return math.nan
        return float(np.mean(self.loss[-last:]))


def _batch(batches, step):
    if callable(batches):
        return batches(step)
    return next(batches)


def train(params, batches, optimizer, loss="mse", activation="tanh", many_to_one=False,
          steps=100, max_norm=None, clip_value=None, on_nonfinite="raise"):
    """Train an Elman network with full BPTT for ``steps`` steps.

    Parameters
    ----------
    params : dict
        ``W_xh, W_hh, b_h, W_hy, b_y`` (e.g. from ``init_elman(D, H, O, ...)``);
        updated in place by the optimiser.
    batches : callable or iterator
        ``batches(step) -> (x, targets)`` or an iterator of such pairs. Host
        NumPy data is moved to the parameters' array library and device.
    optimizer : object with ``step(params, grads)``, e.g. :class:`labrnn.SGD`.
    loss, activation, many_to_one
        As in :func:`labrnn.sequence_loss_and_grads`.
    steps : int
        Number of updates.
    max_norm : float, optional
        Clip the gradients by their global norm (:func:`labrnn.clip_by_global_norm`).
    clip_value : float, optional
        Clip every gradient entry to ``[-clip_value, clip_value]``
        (:func:`labrnn.clip_by_value`); applied after ``max_norm`` if both are given.
    on_nonfinite : {"raise", "stop"}
        What to do when a :class:`labrnn.NonFiniteError` occurs: raise it again
        with the step prepended (default), or stop and record the same message
        in :attr:`History.error`.

    Returns
    -------
    History
    """
    return _fit(lambda x, y: sequence_loss_and_grads(params, x, y, loss, activation=activation,
                                                      many_to_one=many_to_one)[:2],
                params, params["W_xh"], batches, optimizer, steps, max_norm, clip_value,
                on_nonfinite)


def _fit(loss_and_grads, params, like, batches, optimizer, steps, max_norm, clip_value,
         on_nonfinite):
    """The training loop shared by :func:`train` and :func:`train_cell`."""
    if on_nonfinite not in ("raise", "stop"):
        raise ValueError(f"on_nonfinite must be 'raise' or 'stop', received {on_nonfinite!r}")
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative int, received {steps!r}")
    hist = History()
    # An overflow is reported once, as a NonFiniteError naming the step; NumPy's
    # own RuntimeWarnings about it would only repeat that (errstate is NumPy's
    # setting and leaves other array libraries alone).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(steps):
            x, targets = _batch(batches, step)
            x, targets = from_numpy(x, like=like), from_numpy(targets, like=like)
            try:
                value, grads = loss_and_grads(x, targets)
                norm = global_norm(grads)
                if not math.isfinite(value):
                    raise NonFiniteError(f"the loss is {value}; lower the learning rate or "
                                         "clip the gradients (labrnn.clip_by_global_norm)")
                if max_norm is not None:
                    grads, _ = clip_by_global_norm(grads, max_norm)
                if clip_value is not None:
                    grads = clip_by_value(grads, clip_value)
                optimizer.step(params, grads)
            except NonFiniteError as exc:
                hist.error = f"step {step}: {exc}"
                if on_nonfinite == "raise":
                    raise NonFiniteError(hist.error) from exc
                break
            hist.loss.append(value)
            hist.grad_norm.append(norm)
    return hist


def evaluate(params, x, targets, loss="mse", activation="tanh", many_to_one=False):
    """Loss of ``params`` on one (held-out) batch, as a float; no parameter changes."""
    like = params["W_xh"]
    value, _, _, _ = sequence_loss_and_grads(params, from_numpy(x, like=like),
                                             from_numpy(targets, like=like), loss,
                                             activation=activation, many_to_one=many_to_one)
    return value


def moving_average(values, window):
    """Mean of every ``window`` consecutive values (length ``len(values) - window + 1``).

    Smooths a noisy per-step loss for plotting; a NumPy array on the host.
    """
    v = np.asarray(values, dtype=float)
    if not (isinstance(window, int) and 1 <= window <= len(v)):
        raise ValueError(f"window must be an int in [1, {len(v)}] (the number of values), "
                         f"received {window!r}")
    # a direct sum per window (np.convolve), not differences of a cumulative sum: a loss
    # curve can span 1e-2 to 1e17, and the differences would lose the small values
    return np.convolve(v, np.full(window, 1.0 / window), mode="valid")


def delayed_copy(T, B, delay, seed):
    """A stream of random bits whose target is the bit seen ``delay`` steps earlier.

    A memory task with a dependency of exactly ``delay`` steps (chapter 4 trains
    it with truncated BPTT). Returns host arrays ``x`` one-hot ``(T, B, 2)``
    and integer targets ``y (T, B)`` with ``y[t] = bit[t - delay]``; the first
    ``delay`` targets, which have no source yet, are 0. Guessing gives a
    cross-entropy of ``ln 2 ~ 0.693``.
    """
    if not (isinstance(delay, int) and 1 <= delay < T):
        raise ValueError(f"delay must be an int in [1, T={T}), received {delay!r}")
    rng = host_rng(seed)
    bits = rng.integers(0, 2, size=(T, B))
    y = np.zeros_like(bits)
    y[delay:] = bits[:-delay]
    return np.eye(2)[bits], y


# ---- Part II (chapters 6 and 7): the same loop for every cell ----------------------------

__all__ += ["cell_loss_and_grads", "train_cell", "evaluate_cell", "seconds_per_step"]


def cell_loss_and_grads(cell, params, x, targets, loss="mse", activation=None,
                        many_to_one=False):
    """Forward, loss and full BPTT for any cell of :mod:`labrnn.cells` with an output layer.

    ``params`` holds the cell's parameters and ``W_hy (O, H), b_y (O,)``
    (e.g. from ``init_cell(cell, D, H, O)``); ``loss`` and ``many_to_one`` as
    in :func:`labrnn.sequence_loss_and_grads`. Returns ``(loss, grads, z)``:
    the loss as a float, a gradient for every parameter, and the output
    pre-activations ``z`` ((B, O) with ``many_to_one``, else (T, B, O)).
    """
    lossf = loss_function(loss)
    if "W_hy" not in params or "b_y" not in params:
        raise KeyError(f"params needs an output layer (W_hy, b_y): create it with "
                       f"init_cell({cell!r}, D, H, O, ...)")
    h, _, cache = cell_forward(cell, x, params, activation=activation)
    xp = namespace(h)
    read = h[-1, ...] if many_to_one else h
    z, out_cache = affine_forward(read, params["W_hy"], params["b_y"])
    value, dz = lossf(z, targets)
    dread, dW_hy, db_y = affine_backward(dz, out_cache)
    if many_to_one:
        dh = xp.concat([xp.zeros_like(h[:-1, ...]), dread[None, ...]], axis=0)
    else:
        dh = dread
    _, _, grads = cell_backward(dh, cache)
    grads["W_hy"], grads["b_y"] = dW_hy, db_y
    return float(value), grads, z


def train_cell(cell, params, batches, optimizer, loss="mse", activation=None,
               many_to_one=False, steps=100, max_norm=None, on_nonfinite="raise"):
    """:func:`train` for any cell: ``"elman"``, ``"lstm"`` or ``"gru"`` (chapters 6, 7).

    ``params`` from ``init_cell(cell, D, H, O, ...)``, updated in place; the
    other arguments as in :func:`train` (clipping by global norm only). For
    ``cell="elman"`` it takes exactly the steps :func:`train` takes. Returns a
    :class:`History`.
    """
    return _fit(lambda x, y: cell_loss_and_grads(cell, params, x, y, loss, activation,
                                                  many_to_one)[:2],
                params, params["W_hy"], batches, optimizer, steps, max_norm, None, on_nonfinite)


def evaluate_cell(cell, params, x, targets, loss="mse", activation=None, many_to_one=False):
    """Loss and outputs of a trained cell on one (held-out) batch; no parameter changes.

    Returns ``(loss, z)`` with ``z`` the output pre-activations as a host NumPy
    array (take ``z.argmax(-1)`` for class predictions).
    """
    like = params["W_hy"]
    value, _, z = cell_loss_and_grads(cell, params, from_numpy(x, like=like),
                                      from_numpy(targets, like=like), loss, activation,
                                      many_to_one)
    return value, to_numpy(z)


def seconds_per_step(cell, params, x, repeats=5, activation=None):
    """Wall-clock seconds per time step of one forward and backward pass over ``x`` (T, B, D).

    The best of ``repeats`` runs of :func:`labrnn.cells.cell_forward` and
    :func:`labrnn.cells.cell_backward`, divided by ``T``. A measurement, not a
    result: it changes from machine to machine and run to run, so the book
    only ever shows it in a figure.
    """
    import time

    if not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats must be a positive int, received {repeats!r}")
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        h, _, cache = cell_forward(cell, x, params, activation=activation)
        cell_backward(namespace(h).ones_like(h), cache)
        best = min(best, time.perf_counter() - start)
    return best / x.shape[0]
