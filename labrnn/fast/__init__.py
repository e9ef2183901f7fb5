"""Fast paths: the time loop of the common cells, specialised for NumPy (book chapter 21).

The generic loop of :mod:`labrnn.cells.base` is the readable reference the book derives:
it runs any cell on any array namespace, one array call per operation, a new array per
result. For NumPy arrays of the common cells :func:`labrnn.cells.base.run_forward` hands
the loop to a *fast path* instead: the same equations (``lstm-gates`` to ``lstm-hidden``,
``gru-gates`` to ``gru-update``, ``rnn-state``; BPTT ``bptt-da``/``bptt-dh``), with

* every state, gate and gradient written into buffers allocated once per sequence
  (``out=`` arguments): nothing is allocated per step;
* the gates from one ``exp`` call on the whole ``(B, 4H)`` block of the LSTM (the r and z
  blocks of the GRU): ``sigma(a) = 1 / (1 + exp(-a))`` and ``tanh(a) = 2 sigma(2a) - 1``,
  the signs and factors folded into the weights once per sequence (exact);
* for small batches (``B * H <= SMALL``), where a step costs more in Python calls than
  in arithmetic, the whole time loop compiled with numba (:mod:`labrnn.fast.compiled`),
  when numba is installed (``pip install labrnn[fast]``); the NumPy kernel otherwise.

A fast path computes the same numbers as the generic loop up to rounding (the sigmoid is
written differently and the compiled loop sums its products in another order);
``tests/test_fast_paths.py`` checks outputs, final states and every gradient against the
generic loop, float64, for every kernel, cell and option.

**Which cells.** The LSTM without peepholes, the GRU with ``reset="after"`` and the Elman
cell with ``tanh``, ``relu`` or ``identity``; float32 or float64 NumPy arrays; without a
variational ``h_mask``; a padded batch (``lengths``) of a bounded cell (the run-on layout
of :func:`~labrnn.cells.base.run_forward`). Everything else (other backends such as CuPy
and array-api-strict, the peephole LSTM, the ``reset="before"`` GRU, the ln-LSTM, a
sigmoid Elman cell, a padded ReLU batch) runs the generic loop.

**Choosing.** :func:`set_fast_paths` or the context manager :func:`fast_paths` select
``"auto"`` (the default: compiled for small batches when numba is there, NumPy
otherwise), ``"numpy"``, ``"compiled"`` (an error without numba) or ``"off"`` (the
generic loop everywhere, e.g. to time the reference or to follow the book's code).
:func:`fast_path_for` says which kernel a call would run.
"""

from __future__ import annotations

import contextlib

from .compiled import HAVE_NUMBA
from . import elman, gru, lstm

__all__ = ["MODES", "SMALL", "HAVE_NUMBA", "set_fast_paths", "get_fast_paths", "fast_paths",
           "fast_path_for", "loop_for"]

#: the modes of :func:`set_fast_paths`
MODES = ("auto", "numpy", "compiled", "off")
#: ``B * H`` up to which ``"auto"`` runs the compiled loop (measured crossover, chapter 21)
SMALL = 1024

_LOOPS = {"lstm": lstm, "gru": gru, "elman": elman}
_mode = "auto"


def _check_mode(mode):
    if mode is True:
        mode = "auto"
    elif mode is False or mode is None:
        mode = "off"
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)} (or True/False), received {mode!r}")
    if mode == "compiled" and not HAVE_NUMBA:
        raise ImportError("mode='compiled' needs numba, which is not installed; "
                          "pip install 'labrnn[fast]' (or numba), or use mode='numpy'")
    return mode


def set_fast_paths(mode):
    """Select the fast paths for every later call: ``"auto"``, ``"numpy"``, ``"compiled"`` or
    ``"off"`` (``True``/``False`` mean ``"auto"``/``"off"``). Returns the previous mode."""
    global _mode
    previous, _mode = _mode, _check_mode(mode)
    return previous


def get_fast_paths():
    """The current mode (see :func:`set_fast_paths`)."""
    return _mode


@contextlib.contextmanager
def fast_paths(mode):
    """``with fast_paths("off"): ...`` runs the block in ``mode`` and restores the previous one."""
    previous = set_fast_paths(mode)
    try:
        yield
    finally:
        set_fast_paths(previous)


def _module(cell, v):
    mod = _LOOPS.get(cell.name)
    # a user's cell registered under a built-in name does not get the built-in's kernel
    if mod is None or not type(cell).__module__.startswith("labrnn.cells.") or not mod.supports(v):
        return None
    return mod


def fast_path_for(cell, v, x, B, H):
    """The kernel the loop over ``x`` would run: ``"compiled"``, ``"numpy"`` or ``None`` (generic).

    ``cell`` a :class:`~labrnn.cells.Cell`, ``v`` its variant, ``x`` an array of the pass
    (its library and dtype decide), ``B``, ``H`` the batch and state sizes.
    """
    import numpy as np
    if _mode == "off" or type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64):
        return None
    if _module(cell, v) is None:
        return None
    if _mode == "compiled" or (_mode == "auto" and HAVE_NUMBA and B * H <= SMALL):
        return "compiled"
    return "numpy"


def loop_for(cell, v, x, B, H):
    """The fast loop object for this pass, or ``None`` for the generic loop.

    The object has ``forward(ax, s0, params) -> (states, store)`` and
    ``backward(dout, dstate_T, ends, store, params) -> (dax, dstate0, grads)``
    (:mod:`labrnn.fast.lstm` documents them).
    """
    kind = fast_path_for(cell, v, x, B, H)
    if kind is None:
        return None
    return _module(cell, v).Loop(v, compiled=kind == "compiled")
