"""Synthetic memory tasks of chapter 20: the 3-bit flip-flop and associative recall.

Both generators are seeded and return host NumPy arrays in the time-major
convention (move them with :func:`labrnn.from_numpy`).

* **Flip-flop** (Sussillo & Barak 2013), equation ``flipflop-target``: ``K``
  independent input channels receive rare pulses of ``+1`` or ``-1``; output
  channel ``k`` must hold the sign of the last pulse seen on input ``k``::

      x_{t,k} in {-1, 0, +1},      y_{t,k} = x_{s,k}  with  s = max{s <= t : x_{s,k} != 0}

  Every channel gets a pulse at ``t = 0``, so the target is always defined.
  A network that solves it must keep ``2^K`` states apart: it is a ``K``-bit memory.
* **Associative recall**, equation ``recall-task``: ``P`` key-value pairs are
  shown one token at a time (``k_1 v_1 k_2 v_2 ... k_P v_P``), then a query
  marker and one of the keys; the target is the value stored with that key.
  Keys within a sequence are distinct.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..backend import host_rng, to_numpy
from ..errors import ShapeError

__all__ = ["flipflop_task", "flipflop_accuracy", "recall_task", "RECALL_QUERY"]


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low \
            or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {rng}, received {value!r}")
    return int(value)


def flipflop_task(T, B, seed, bits=3, p=0.05):
    """A batch of the ``bits``-bit flip-flop task (equation ``flipflop-target``).

    Parameters
    ----------
    T, B : int
        Steps and sequences.
    seed : int or numpy Generator
    bits : int
        Number of independent channels ``K`` (3 in the book).
    p : float in (0, 1)
        Probability of a pulse on a channel at a step after the first.

    Returns
    -------
    x : float64 (T, B, K), entries -1, 0, +1 (the pulses; all channels pulse at t = 0)
    y : float64 (T, B, K), entries -1 or +1 (the sign of the last pulse so far)
    """
    T = _check_int("T", T, 1)
    B = _check_int("B", B, 1)
    bits = _check_int("bits", bits, 1)
    if not (isinstance(p, numbers.Real) and 0 < p < 1):
        raise ValueError(f"p must be a probability in (0, 1), received {p!r}")
    rng = host_rng(seed)
    pulse = rng.random((T, B, bits)) < p
    pulse[0] = True
    signs = rng.choice(np.array([-1.0, 1.0]), size=(T, B, bits))
    x = np.where(pulse, signs, 0.0)
    # the index of the last pulse so far, per channel: a running maximum of pulse times
    last = np.maximum.accumulate(np.where(pulse, np.arange(T)[:, None, None], 0), axis=0)
    y = np.take_along_axis(x, last, axis=0)
    return x, y


def flipflop_accuracy(out, y):
    """Fraction of outputs with the target's sign: ``mean(sign(out) == y)`` over (T, B, K).

    ``out`` the network's outputs, ``y`` the targets of :func:`flipflop_task`
    (any array library; compared on the host). Returns a float.
    """
    o, t = np.asarray(to_numpy(out), dtype=float), np.asarray(to_numpy(y), dtype=float)
    if o.shape != t.shape:
        raise ShapeError(f"out must have the targets' shape {t.shape}, received {o.shape}")
    return float(np.mean(np.sign(o) == t))


RECALL_QUERY = "?"


def recall_task(P, B, seed, n_keys=8, n_values=8):
    """A batch of associative recall with ``P`` stored pairs (equation ``recall-task``).

    The input is one-hot over ``n_keys + n_values + 1`` symbols (keys first,
    then values, then the query marker), ``2P + 2`` steps long::

        k_1, v_1, ..., k_P, v_P, ?, k_q           ->  target: the value of k_q

    Keys of one sequence are distinct (``P <= n_keys``); values are drawn with
    replacement; the queried pair is uniform over the ``P``.

    Returns
    -------
    x : float64 (2P + 2, B, n_keys + n_values + 1)
    y : int64 (B,), the value index in ``[0, n_values)``
    """
    n_keys = _check_int("n_keys", n_keys, 1)
    n_values = _check_int("n_values", n_values, 2)
    P = _check_int("P", P, 1, n_keys)
    B = _check_int("B", B, 1)
    rng = host_rng(seed)
    keys = np.argsort(rng.random((B, n_keys)), axis=1)[:, :P]          # distinct keys
    values = rng.integers(0, n_values, size=(B, P))
    q = rng.integers(0, P, size=B)
    D = n_keys + n_values + 1
    tokens = np.empty((2 * P + 2, B), dtype=np.int64)
    tokens[0:2 * P:2] = keys.T
    tokens[1:2 * P:2] = n_keys + values.T
    tokens[2 * P] = D - 1
    tokens[2 * P + 1] = keys[np.arange(B), q]
    x = np.eye(D)[tokens]
    y = values[np.arange(B), q].astype(np.int64)
    return x, y

