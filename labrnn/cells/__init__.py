"""The recurrent cells, each described once, and the registry that names them (chapters 2-8).

=============  ===================================================  ============  =====
name           cell (module)                                        state         gates
=============  ===================================================  ============  =====
``"elman"``    Elman RNN, ``activation`` tanh/ReLU/... (elman)      ``(h,)``      1
``"lstm"``     LSTM, peepholes if ``w_ci`` in params (lstm)         ``(h, c)``    4
``"gru"``      GRU, reset after if ``b_hn`` in params (gru)         ``(h,)``      3
``"lnlstm"``   layer-normalised LSTM (lnlstm)                       ``(h, c)``    4
=============  ===================================================  ============  =====

Every cell is a :class:`~labrnn.cells.base.Cell` with the one signature of every
sequence pass in the package::

    cell = labrnn.cells.get_cell("lstm")
    out, final_state, cache = cell.forward(x, params, state0=None, lengths=None)
    dx, dstate0, grads      = cell.backward(dout, cache, dstate_T=None)

and the layers and models (:mod:`labrnn.models`) reach a cell only through this
registry, so a new cell is one new module and one :func:`register_cell` line
(the API appendix shows a toy cell). The functions below are the registry's
name-based shortcuts: :func:`init_cell`, :func:`cell_forward`,
:func:`cell_backward`, :func:`cell_param_count`, :func:`cell_variant`.
"""

from __future__ import annotations

from ..backend import from_numpy, host_rng
from ..layers.init import glorot_uniform
from .base import Cell, SequenceCache, as_state, run_backward, run_forward
from .elman import ELMAN
from .gru import GRU
from .lnlstm import LNLSTM
from .lstm import LSTM
from .recompute import CheckpointCache

__all__ = ["Cell", "SequenceCache", "CheckpointCache", "CELLS", "register_cell", "get_cell",
           "init_cell", "cell_forward", "cell_backward", "cell_param_count", "cell_variant",
           "run_forward", "run_backward", "as_state"]

CELLS = {}


def register_cell(cell, replace=False):
    """Add ``cell`` (a :class:`Cell` instance) to the registry under ``cell.name``."""
    if not isinstance(cell, Cell):
        raise TypeError(f"cell must be an instance of labrnn.cells.Cell, received "
                        f"{type(cell).__name__}")
    if not isinstance(cell.name, str) or not cell.name:
        raise ValueError(f"a cell needs a non-empty string name, received {cell.name!r}")
    if cell.name in CELLS and not replace:
        raise ValueError(f"a cell named {cell.name!r} is already registered; pass "
                         "replace=True to replace it")
    CELLS[cell.name] = cell
    return cell


def unregister_cell(name):
    """Remove a cell from the registry (tests that register a toy cell clean up with it)."""
    CELLS.pop(name, None)


def get_cell(cell):
    """The registered :class:`Cell` named ``cell`` (a Cell instance passes through)."""
    if isinstance(cell, Cell):
        return cell
    if not isinstance(cell, str) or cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {list(CELLS)}")
    return CELLS[cell]


for _c in (ELMAN, LSTM, GRU, LNLSTM):
    register_cell(_c)


def cell_variant(cell, params):
    """The variant options a cell's parameters imply.

    ``{}`` for ``"elman"`` and ``"lnlstm"``; ``{"peephole": bool}`` for ``"lstm"``
    (True when ``params`` holds ``w_ci``); ``{"reset": "after" | "before"}`` for
    ``"gru"`` (``"after"`` when ``params`` holds ``b_hn``).
    """
    c = get_cell(cell)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    return c.variant_of(params)


def init_cell(cell, D, H, O=None, seed=0, xp=None, device=None, dtype="float64", **init_kw):
    """Parameters of a ``cell`` with ``D`` inputs and ``H`` hidden units, plus an output layer if ``O``.

    ``init_kw`` go to the cell's own initialiser: :func:`labrnn.init_elman`
    (``W_hh``, ``gain``, ``W_hh_scale``), :func:`labrnn.init_lstm`
    (``forget_bias``, ``peephole``, ``W_h``), :func:`labrnn.init_gru`
    (``reset``, ``W_h``) or :func:`labrnn.init_lnlstm` (``forget_bias``, ``W_h``).
    The output layer ``W_hy (O, H)`` is Glorot-uniform and ``b_y`` zero, drawn from
    a stream of its own (for the Elman cell it is :func:`labrnn.init_elman`'s own).
    Every number is drawn on the host from ``seed``.
    """
    c = get_cell(cell)
    kw = dict(seed=seed, xp=xp, device=device, dtype=dtype, **init_kw)
    if c.name == "elman":
        return c.init(D, H, O=O, **kw)
    params = c.init(D, H, **kw)
    if O:
        rng = host_rng([seed, 1])            # a stream of its own: the cell's weights do not move
        params["W_hy"] = from_numpy(glorot_uniform((O, H), rng), xp=xp, device=device, dtype=dtype)
        params["b_y"] = from_numpy([0.0] * O, xp=xp, device=device, dtype=dtype)
    return params


def cell_forward(cell, x, params, state0=None, lengths=None, **options):
    """``get_cell(cell).forward(x, params, state0, lengths, **options)``: ``(out, state, cache)``.

    Extra keys in ``params`` (such as an output layer's ``W_hy``) are ignored.
    """
    return get_cell(cell).forward(x, params, state0, lengths, **options)


def cell_backward(dout, cache, dstate_T=None):
    """Backward of :func:`cell_forward`: ``(dx, dstate0, grads)`` (the cache names its cell)."""
    if not isinstance(cache, (SequenceCache, CheckpointCache)):
        raise TypeError(f"cache must be the third value returned by cell_forward, received "
                        f"a {type(cache).__name__}")
    return cache.cell.backward(dout, cache, dstate_T)


def cell_param_count(cell, D, H, O=0, **variant):
    """Number of parameters of ``cell`` (plus ``O*H + O`` for an output layer).

    ``variant``: ``peephole=`` for the LSTM, ``reset=`` for the GRU (default
    ``"after"``, with its extra bias ``b_hn``); none for ``"elman"`` and ``"lnlstm"``.
    """
    c = get_cell(cell)
    names = set(c.param_names.__code__.co_varnames[1:c.param_names.__code__.co_argcount])
    unknown = sorted(set(variant) - names)
    if unknown:
        raise TypeError(f"the {c.name} cell has no variant option {unknown[0]!r}")
    return c.param_count(D, H, **variant) + (O * H + O if O else 0)
