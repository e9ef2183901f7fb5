"""One interface to the recurrent cells (book chapters 6 and 7).

Chapters 6 and 7 compare the Elman RNN, the LSTM and the GRU on the same
measurements and the same tasks. These four functions hide the differences
between :mod:`labrnn.elman`, :mod:`labrnn.lstm`, :mod:`labrnn.lnlstm` and
:mod:`labrnn.gru` that do not matter for such a comparison:

* :func:`init_cell` creates a cell's parameters, optionally with an affine
  output layer ``W_hy (O, H), b_y (O,)`` (book equation ``rnn-output``);
* :func:`cell_forward` runs a cell over a sequence and returns the hidden
  states ``h (T, B, H)``, which is what a layer above reads for every cell;
* :func:`cell_backward` is its backpropagation through time;
* :func:`cell_param_count` counts a cell's parameters.

``cell`` is one of ``"elman"``, ``"lstm"``, ``"gru"``, ``"lnlstm"`` (the
layer-normalised LSTM, whose state is the pair ``(h, c)`` like the LSTM's).
The variant of a gated cell is read from its parameters, so it cannot disagree with them: an LSTM
with ``w_ci, w_cf, w_co`` is a peephole LSTM, a GRU with ``b_hn`` is the
``reset="after"`` GRU and one without it the ``reset="before"`` GRU. The
Elman cell's nonlinearity is not stored in its parameters and is passed as
``activation``. Extra keys in ``params`` (such as the output layer's) are
ignored by the cell.
"""

from __future__ import annotations

from .backend import from_numpy, host_rng
from .elman import elman_param_count, init_elman, rnn_backward, rnn_forward
from .gru import gru_backward, gru_forward, gru_param_count, init_gru
from .init import glorot_uniform
from .lnlstm import init_lnlstm, lnlstm_backward, lnlstm_forward, lnlstm_param_count
from .lstm import init_lstm, lstm_backward, lstm_forward, lstm_param_count

__all__ = ["CELLS", "init_cell", "cell_forward", "cell_backward", "cell_param_count",
           "cell_variant"]

CELLS = ("elman", "lstm", "gru", "lnlstm")


def _check_cell(cell):
    if not isinstance(cell, str) or cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {list(CELLS)}")
    return cell


def cell_variant(cell, params):
    """The variant options a cell's parameters imply.

    ``{}`` for ``"elman"``; ``{"peephole": bool}`` for ``"lstm"`` (True when
    ``params`` holds ``w_ci``); ``{"reset": "after" | "before"}`` for ``"gru"``
    (``"after"`` when ``params`` holds ``b_hn``); ``{}`` for ``"lnlstm"``.
    """
    _check_cell(cell)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    if cell == "lstm":
        return {"peephole": "w_ci" in params}
    if cell == "gru":
        return {"reset": "after" if "b_hn" in params else "before"}
    return {}


def init_cell(cell, D, H, O=None, seed=0, xp=None, device=None, dtype="float64", **init_kw):
    """Parameters of a ``cell`` with ``D`` inputs and ``H`` hidden units, plus an output layer if ``O``.

    ``init_kw`` go to the cell's own initialiser: :func:`labrnn.init_elman`
    (``W_hh``, ``gain``, ``W_hh_scale``), :func:`labrnn.init_lstm`
    (``forget_bias``, ``peephole``, ``W_h``), :func:`labrnn.init_gru`
    (``reset``, ``W_h``) or :func:`labrnn.init_lnlstm` (``forget_bias``, ``W_h``).
    The output layer ``W_hy`` is Glorot-uniform and ``b_y`` zero; for the Elman cell it is :func:`labrnn.init_elman`'s own.
    Every number is drawn on the host from ``seed``.
    """
    _check_cell(cell)
    kw = dict(seed=seed, xp=xp, device=device, dtype=dtype, **init_kw)
    if cell == "elman":
        return init_elman(D, H, O, **kw)
    params = {"lstm": init_lstm, "gru": init_gru, "lnlstm": init_lnlstm}[cell](D, H, **kw)
    if O:
        rng = host_rng([seed, 1])            # a stream of its own: the cell's weights do not move
        params["W_hy"] = from_numpy(glorot_uniform((O, H), rng), xp=xp, device=device, dtype=dtype)
        params["b_y"] = from_numpy([0.0] * O, xp=xp, device=device, dtype=dtype)
    return params


def cell_forward(cell, x, params, state0=None, activation="tanh"):
    """Run ``cell`` over ``x`` (T, B, D). Returns ``(h, cache)``, ``h`` (T, B, H) the hidden states.

    ``state0`` is the initial state in the cell's own form: ``h0`` (B, H) for
    the Elman cell and the GRU, the pair ``(h0, c0)`` for the (ln-)LSTM; ``None``
    starts from zeros. ``activation`` is the Elman cell's ``f`` (ignored by
    the gated cells, whose nonlinearities are fixed).
    """
    variant = cell_variant(cell, params)
    if cell == "elman":
        h, cache = rnn_forward(x, params, state0, activation)
    elif cell == "lstm":
        h, _, cache = lstm_forward(x, params, state0, **variant)
    elif cell == "lnlstm":
        h, _, cache = lnlstm_forward(x, params, state0)
    else:
        h, cache = gru_forward(x, params, state0, **variant)
    return h, (cell, cache)


def cell_backward(dh, cache):
    """BPTT for :func:`cell_forward`: ``dh`` (T, B, H), the gradient of every hidden state from above.

    Returns ``(dx, dstate0, grads)``: ``dx`` (T, B, D), the gradient of the
    initial state in the cell's form (an array, or the pair ``(dh0, dc0)``
    for the LSTM and the ln-LSTM), and ``grads`` keyed like the cell's parameters.
    """
    if not (isinstance(cache, tuple) and len(cache) == 2 and cache[0] in CELLS):
        raise TypeError("cache must be the second value returned by cell_forward")
    cell, inner = cache
    backward = {"elman": rnn_backward, "lstm": lstm_backward, "gru": gru_backward,
                "lnlstm": lnlstm_backward}[cell]
    return backward(dh, inner)


def cell_param_count(cell, D, H, O=0, **variant):
    """Number of parameters of ``cell`` (plus ``O*H + O`` for an output layer).

    ``variant``: ``peephole=`` for the LSTM, ``reset=`` for the GRU (default
    ``"after"``, with its extra bias ``b_hn``); none for ``"lnlstm"``.
    """
    _check_cell(cell)
    count = {"elman": elman_param_count, "lstm": lstm_param_count,
             "gru": gru_param_count, "lnlstm": lnlstm_param_count}[cell](D, H, **variant)
    return count + (O * H + O if O else 0)
