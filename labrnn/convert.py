"""Converters between labrnn parameters and PyTorch / Keras weight layouts (chapters 6, 7).

Every function takes and returns plain NumPy arrays (labrnn parameters on any
backend or device are copied to the host first; move the result back with
:func:`labrnn.move`). Nothing here imports torch or keras.

PyTorch (one layer, one direction, ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``;
``state_dict()`` tensors are accepted as they are; several layers and two
directions below)::

    weight_ih_l0 (kH, D)   weight_hh_l0 (kH, H)   bias_ih_l0 (kH,)   bias_hh_l0 (kH,)
    k = 1 (RNN), 4 in gate order i, f, g, o (LSTM), 3 in gate order r, z, n (GRU)

Keras (``layer.get_weights()`` / ``layer.set_weights(...)``, a list in this order;
a dict with these keys is accepted too)::

    kernel (D, kH)   recurrent_kernel (H, kH)   bias (kH,)  or, GRU reset_after=True, (2, 3H)
    gate order i, f, c, o (LSTM, same as labrnn) and z, r, h (GRU: permuted to r, z, n)

The orientation differs: PyTorch stores ``(out, in)`` like labrnn (``W_x`` is
``weight_ih_l0``), Keras ``(in, out)`` (``W_x`` is ``kernel.T``).

**Biases.** PyTorch and Keras ``reset_after=True`` carry two bias vectors (one
added to ``x W_ih^T``, one to ``h W_hh^T``) because cuDNN does. Wherever only
their sum enters the equations (Elman, every LSTM gate, the GRU's r and z)
labrnn keeps one bias, the sum, since the split is not identifiable from the
model's behaviour: no data can tell ``(b_ih, b_hh)`` from ``(b_ih + b_hh, 0)``.
The GRU candidate with ``reset="after"`` genuinely needs both, kept as ``b``'s
n block (= ``b_in``) and ``b_hn``. Consequences:

* labrnn -> PyTorch/Keras -> labrnn is exact (``np.array_equal``): the
  redundant recurrent bias is written as zeros and added back as ``+ 0``.
* PyTorch/Keras -> labrnn -> PyTorch/Keras returns the same network with the
  redundant biases moved: ``(b_ih, b_hh) -> (b_ih + b_hh, 0)``; it is exact for
  weights in that canonical form, and ``b_ih + b_hh`` is preserved in every case.

**Several layers, two directions.** PyTorch's ``nn.RNN/LSTM/GRU(num_layers=L,
bidirectional=True)`` keeps layer ``l``'s forward direction under ``*_l{l}`` and its
backward direction under ``*_l{l}_reverse``; layer ``l + 1`` reads the
concatenation ``[forward ; backward]`` of layer ``l`` (``2H`` features), which is
labrnn's ``merge="concat"`` (equations ``deep-stack`` and ``bidir-merge``)::

    PyTorch state dict                      labrnn (stacked_forward)   (bidirectional_forward)
    weight_ih_l{l}, weight_hh_l{l}, ...     "l{l}.W_x", "l{l}.W_h", ...      (bidirectional=False)
    weight_ih_l{l}, ...                     "l{l}.fw.W_x", ...           "fw.W_x", ...  (l = 0)
    weight_ih_l{l}_reverse, ...             "l{l}.bw.W_x", ...           "bw.W_x", ...  (l = 0)
    h_n, c_n (L * num_directions, B, H)     the list `states` (states_from_torch / states_to_torch)

labrnn has a stacked bidirectional layer (``stacked_forward(..., bidirectional=True)``),
so every PyTorch layout maps onto one labrnn call: :func:`stacked_from_torch` /
:func:`stacked_to_torch` for any ``num_layers`` and either direction setting,
:func:`bidirectional_from_torch` / :func:`bidirectional_to_torch` for one
bidirectional layer. Keras has no multi-layer recurrent layer: a stack is a list of
layers, and ``Bidirectional(layer).get_weights()`` is the forward layer's list then the
backward layer's; :func:`bidirectional_from_keras`, :func:`stacked_from_keras` and
their inverses convert those. The bias rule above applies to every layer and each
direction alike; the backward (``_reverse``) direction is an ordinary parameter set
read in the other order, so its round trip is exact in the same cases and loses the
same thing: only the split of the redundant biases. What a labrnn stack can be and
PyTorch cannot (different hidden sizes per layer, ``merge="sum"`` between
bidirectional layers, mixed uni- and bidirectional layers) raises, naming the layer.
Matched against PyTorch 2.13's float64 outputs, final states and gradients to
``1e-10`` (``tests/test_reference_torch_multi.py``; measured below ``1e-15``).

labrnn's sigmoid is the logistic function: Keras layers must use
``recurrent_activation="sigmoid"`` (the default since Keras 2.3; older Keras
defaulted to ``"hard_sigmoid"``). PyTorch and Keras have no peephole LSTM and
PyTorch has no ``reset="before"`` GRU: converting those raises.
"""

from __future__ import annotations

import re

import numpy as np

from .backend import to_numpy
from .errors import ShapeError
from .validate import check_shape
from .cells import get_cell
from .cells.elman import ELMAN
from .cells.gru import check_gru_params, check_reset
from .cells.lstm import PEEPHOLE_PARAMS, check_lstm_params
from .models.stacked import count_layers
from .paramtree import subparams, with_prefix

TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
KERAS_KEYS = ("kernel", "recurrent_kernel", "bias")
_KERAS_GRU = ("z", "r", "n")        # Keras' order (it calls the candidate h)
_LABRNN_GRU = ("r", "z", "n")


def _host(params):
    return {k: np.array(to_numpy(v), dtype=to_numpy(v).dtype, copy=True) for k, v in params.items()}


def _reorder(a, src, dst, axis=0):
    """Permute the gate blocks of ``a`` along ``axis`` from order ``src`` to order ``dst``."""
    H = a.shape[axis] // len(src)
    blocks = {g: np.take(a, np.arange(k * H, (k + 1) * H), axis=axis) for k, g in enumerate(src)}
    return np.concatenate([blocks[g] for g in dst], axis=axis)


# ---------------------------------------------------------------- PyTorch
def _read_torch_layer(sd, suffix, k, gates, has_bias, D=("D", None), H=None):
    """``[W_ih, W_hh, b_ih, b_hh]`` of one layer and direction (keys ending in ``suffix``).

    Checks every shape, naming the key; biases absent (``bias=False``) become zeros.
    """
    hh, ih = f"weight_hh{suffix}", f"weight_ih{suffix}"
    if H is None:
        check_shape(f"state_dict[{hh!r}]", sd[hh], ((gates, None), ("H", None)))
        H = sd[hh].shape[1]
    kH = (gates, k * H)
    check_shape(f"state_dict[{hh!r}]", sd[hh], (kH, ("H", H)))
    check_shape(f"state_dict[{ih!r}]", sd[ih], (kH, D))
    biases = []
    for key in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        b = sd[key] if has_bias else np.zeros(k * H, dtype=sd[hh].dtype)
        check_shape(f"state_dict[{key!r}]", b, (kH,))
        biases.append(b)
    return [np.array(a, copy=True) for a in (sd[ih], sd[hh], *biases)]


def _from_torch(state_dict, k, gates, cell):
    if not hasattr(state_dict, "keys"):
        raise TypeError(f"state_dict must be a dict (e.g. module.state_dict()), received "
                        f"{type(state_dict).__name__}")
    extra = sorted(set(state_dict) - set(TORCH_KEYS))
    if extra:
        raise ValueError(f"state_dict has keys {extra} beyond {list(TORCH_KEYS)}: only single-layer, "
                         f"unidirectional {cell} modules convert here (num_layers=1, "
                         "bidirectional=False); use stacked_from_torch or "
                         "bidirectional_from_torch for the others")
    missing = [key for key in TORCH_KEYS[:2] if key not in state_dict]
    has_bias = [key in state_dict for key in TORCH_KEYS[2:]]
    if missing or has_bias[0] != has_bias[1]:
        missing += [key for key in TORCH_KEYS[2:] if key not in state_dict and any(has_bias)]
        raise KeyError(f"state_dict is missing {missing}; a {cell} state dict has {list(TORCH_KEYS)}")
    sd = {key: to_numpy(v) for key, v in state_dict.items()}
    return _read_torch_layer(sd, "_l0", k, gates, has_bias[0])


def _torch_dict(W_ih, W_hh, b_ih, b_hh):
    return dict(zip(TORCH_KEYS, (np.array(a, copy=True) for a in (W_ih, W_hh, b_ih, b_hh))))


def elman_to_torch(params):
    """labrnn Elman ``W_xh, W_hh, b_h`` -> ``nn.RNN`` state dict (``bias_hh_l0`` = 0)."""
    ELMAN.check(params)
    p = _host(params)
    return _torch_dict(p["W_xh"], p["W_hh"], p["b_h"], np.zeros_like(p["b_h"]))


def elman_from_torch(state_dict):
    """``nn.RNN`` state dict -> labrnn ``W_xh, W_hh, b_h`` with ``b_h = bias_ih + bias_hh``."""
    return _cell_from_torch("elman", *_from_torch(state_dict, 1, "H", "nn.RNN"))


def _no_peepholes(params, target):
    present = [k for k in PEEPHOLE_PARAMS if k in params]
    if present:
        raise ValueError(f"{target} has no peephole connections; params holds {present}. "
                         "Only a plain LSTM (peephole=False) converts")


def lstm_to_torch(params):
    """labrnn LSTM ``W_x, W_h, b`` (gates i, f, g, o) -> ``nn.LSTM`` state dict (``bias_hh_l0`` = 0)."""
    _no_peepholes(params, "PyTorch nn.LSTM")
    check_lstm_params(params, peephole=False)
    p = _host(params)
    return _torch_dict(p["W_x"], p["W_h"], p["b"], np.zeros_like(p["b"]))


def lstm_from_torch(state_dict):
    """``nn.LSTM`` state dict -> labrnn ``W_x, W_h, b`` with ``b = bias_ih + bias_hh``.

    Both use gate order i, f, g, o, so the weights are copied unchanged.
    """
    return _cell_from_torch("lstm", *_from_torch(state_dict, 4, "4H", "nn.LSTM"))


def gru_to_torch(params):
    """labrnn GRU (``reset="after"``: ``W_x, W_h, b, b_hn``) -> ``nn.GRU`` state dict.

    ``bias_ih_l0 = b``; ``bias_hh_l0 = [0, 0, b_hn]`` (r, z, n).
    """
    if isinstance(params, dict) and "b_hn" not in params:
        raise ValueError("PyTorch nn.GRU implements only the reset='after' variant (with the "
                         "bias b_hn inside the reset); these params have no 'b_hn', so they are "
                         "a reset='before' GRU, which has no PyTorch equivalent")
    check_gru_params(params, "after")
    p = _host(params)
    H = p["b_hn"].shape[0]
    b_hh = np.concatenate([np.zeros(2 * H, dtype=p["b"].dtype), p["b_hn"]])
    return _torch_dict(p["W_x"], p["W_h"], p["b"], b_hh)


def gru_from_torch(state_dict):
    """``nn.GRU`` state dict -> labrnn ``reset="after"`` GRU ``W_x, W_h, b, b_hn``.

    Gate order r, z, n in both. ``b = [b_ir + b_hr, b_iz + b_hz, b_in]``, ``b_hn = b_hn``.
    """
    return _cell_from_torch("gru", *_from_torch(state_dict, 3, "3H", "nn.GRU"))


# ---------------------------------------------------------------- Keras
def _from_keras(weights, k, gates, cell, bias_rows=None):
    if isinstance(weights, dict):
        missing = [key for key in KERAS_KEYS[:2] if key not in weights]
        if missing:
            raise KeyError(f"weights is missing {missing}; a Keras {cell} has {list(KERAS_KEYS)}")
        w = {key: weights[key] for key in KERAS_KEYS if key in weights}
    elif isinstance(weights, (list, tuple)):
        if len(weights) not in (2, 3):
            raise ValueError(f"weights must be the list [kernel, recurrent_kernel, bias] of "
                             f"layer.get_weights(), received {len(weights)} arrays")
        w = dict(zip(KERAS_KEYS, weights))
    else:
        raise TypeError(f"weights must be a list [kernel, recurrent_kernel, bias] (as returned by "
                        f"layer.get_weights()) or a dict, received {type(weights).__name__}")
    w = {key: np.array(to_numpy(v), copy=True) for key, v in w.items()}
    check_shape("weights['recurrent_kernel']", w["recurrent_kernel"], (("H", None), (gates, None)))
    H = w["recurrent_kernel"].shape[0]
    kH = (gates, k * H)
    check_shape("weights['recurrent_kernel']", w["recurrent_kernel"], (("H", H), kH))
    check_shape("weights['kernel']", w["kernel"], (("D", None), kH))
    if "bias" not in w:             # use_bias=False
        w["bias"] = np.zeros((bias_rows, k * H) if bias_rows else k * H, w["kernel"].dtype)
    try:
        check_shape("weights['bias']", w["bias"], ((("rows", 2),) if bias_rows else ()) + (kH,))
    except ShapeError as exc:
        if cell.startswith("GRU"):
            other = "before" if bias_rows else "after"
            raise ShapeError(f"{exc} for a Keras {cell}; weights of a GRU(reset_after="
                             f"{not bias_rows}) convert with reset={other!r}") from None
        raise
    return w["kernel"], w["recurrent_kernel"], w["bias"]


def elman_to_keras(params):
    """labrnn Elman -> Keras ``SimpleRNN`` weights.

    Returns ``[kernel (D, H), recurrent_kernel (H, H), bias (H,)]``, for ``layer.set_weights``.
    """
    ELMAN.check(params)
    p = _host(params)
    return [p["W_xh"].T.copy(), p["W_hh"].T.copy(), p["b_h"]]


def elman_from_keras(weights):
    """Keras ``SimpleRNN`` weights -> labrnn ``W_xh = kernel.T``, ``W_hh = recurrent_kernel.T``,
    ``b_h = bias``."""
    kernel, rec, bias = _from_keras(weights, 1, "H", "SimpleRNN")
    return {"W_xh": kernel.T.copy(), "W_hh": rec.T.copy(), "b_h": bias}


def lstm_to_keras(params):
    """labrnn LSTM -> Keras ``LSTM`` weights ``[kernel (D, 4H), recurrent_kernel (H, 4H), bias]``.

    Keras' gate order i, f, c, o is labrnn's i, f, g, o: only a transpose.
    """
    _no_peepholes(params, "Keras LSTM")
    check_lstm_params(params, peephole=False)
    p = _host(params)
    return [p["W_x"].T.copy(), p["W_h"].T.copy(), p["b"]]


def lstm_from_keras(weights):
    """Keras ``LSTM`` weights -> labrnn ``W_x = kernel.T, W_h = recurrent_kernel.T, b = bias``."""
    kernel, rec, bias = _from_keras(weights, 4, "4H", "LSTM")
    return {"W_x": kernel.T.copy(), "W_h": rec.T.copy(), "b": bias}


def gru_to_keras(params, reset="after"):
    """labrnn GRU -> Keras ``GRU`` weights; gate blocks permuted from r, z, n to z, r, h.

    ``reset="after"`` gives ``GRU(reset_after=True)`` weights with ``bias (2, 3H)``:
    row 0 the input bias ``b``, row 1 the recurrent bias ``[0, 0, b_hn]``
    (Keras order z, r, h). ``reset="before"`` gives ``reset_after=False``
    weights with ``bias (3H,)``.
    """
    check_gru_params(params, check_reset(reset))
    p = _host(params)
    perm = lambda a, axis=0: _reorder(a, _LABRNN_GRU, _KERAS_GRU, axis)   # noqa: E731
    kernel, rec = perm(p["W_x"]).T.copy(), perm(p["W_h"]).T.copy()
    if reset == "before":
        return [kernel, rec, perm(p["b"])]
    H = p["b_hn"].shape[0]
    b_rec = np.concatenate([np.zeros(2 * H, dtype=p["b"].dtype), p["b_hn"]])
    return [kernel, rec, np.stack([perm(p["b"]), perm(b_rec)], axis=0)]


def gru_from_keras(weights, reset="after"):
    """Keras ``GRU`` weights -> labrnn GRU; ``reset="after"`` for ``reset_after=True`` (bias (2, 3H)),
    ``reset="before"`` for ``reset_after=False`` (bias (3H,)).

    With ``reset_after=True``: ``b = input bias + [recurrent r, z biases, 0]``,
    ``b_hn`` = the recurrent bias of the candidate (Keras' h block).
    """
    check_reset(reset)
    kernel, rec, bias = _from_keras(weights, 3, "3H", f"GRU(reset_after={reset == 'after'})",
                                    bias_rows=2 if reset == "after" else None)
    perm = lambda a, axis=0: _reorder(a, _KERAS_GRU, _LABRNN_GRU, axis)   # noqa: E731
    p = {"W_x": perm(kernel, 1).T.copy(), "W_h": perm(rec, 1).T.copy()}
    if reset == "before":
        p["b"] = perm(bias)
        return p
    H = rec.shape[0]
    b_in, b_rec = perm(bias[0]), perm(bias[1])
    p["b"] = np.concatenate([b_in[:2 * H] + b_rec[:2 * H], b_in[2 * H:]])
    p["b_hn"] = b_rec[2 * H:].copy()
    return p


# ---------------------------------------------------------------- several layers, two directions
# PyTorch: nn.RNN / nn.LSTM / nn.GRU(num_layers=L, bidirectional=...) state dicts.
# labrnn:  one flat dict for labrnn.stacked_forward, layer l under "l{l}." (then "fw." /
#          "bw."), or for labrnn.bidirectional_forward, "fw." / "bw." (see labrnn.paramtree).
TORCH_CELLS = {"elman": (1, "H", "nn.RNN"), "lstm": (4, "4H", "nn.LSTM"),
               "gru": (3, "3H", "nn.GRU")}
KERAS_CELLS = {"elman": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
DIRECTIONS = (("fw.", ""), ("bw.", "_reverse"))       # labrnn prefix, PyTorch key suffix
_TORCH_KEY = re.compile(r"^(weight|bias)_(ih|hh)_l(\d+)(_reverse)?$")


def _check_cell_name(cell, table, library):
    if not isinstance(cell, str) or cell not in table:
        raise ValueError(f"cell must be one of {list(table)} to convert to or from {library}, "
                         f"received {cell!r}")
    return cell


def _labelled(label, fn, *args, **kw):
    """Call ``fn``; an error it raises is raised again, same type, prefixed with ``label``."""
    try:
        return fn(*args, **kw)
    except (ValueError, TypeError, KeyError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise type(exc)(f"{label}: {msg}") from None


def torch_keys(num_layers, bidirectional=False, bias=True):
    """The state-dict keys of ``nn.RNN/LSTM/GRU(num_layers, bidirectional=..., bias=...)``,
    in PyTorch's order (per layer: forward, then ``_reverse``; each ``weight_ih, weight_hh,
    bias_ih, bias_hh``)."""
    names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
    return [f"{n}_l{l}{suffix}" for l in range(num_layers)
            for _, suffix in DIRECTIONS[:1 + bool(bidirectional)] for n in names]


def torch_layout(state_dict):
    """``(num_layers, bidirectional, bias)`` of a PyTorch recurrent module's state dict.

    Read from the keys and checked: every layer ``0 .. L-1`` complete, both
    directions in every layer or in none, biases in all or none. Errors name
    the keys missing or not understood, and what a state dict of that layout has.
    """
    if not hasattr(state_dict, "keys"):
        raise TypeError(f"state_dict must be a dict (e.g. module.state_dict()), received "
                        f"{type(state_dict).__name__}")
    unknown = sorted(k for k in state_dict if not _TORCH_KEY.match(str(k)))
    if unknown:
        hint = ("pass the recurrent module's own state_dict(), or strip the prefix of its keys"
                if any("." in str(k) for k in unknown) else
                "nn.LSTM(proj_size > 0) has no labrnn counterpart"
                if any(str(k).startswith("weight_hr") for k in unknown) else
                "keys are weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} "
                "(+ '_reverse')")
        raise ValueError(f"state_dict has keys {unknown} that are not parameters of an "
                         f"nn.RNN, nn.LSTM or nn.GRU; {hint}")
    found = [_TORCH_KEY.match(k) for k in state_dict]
    if not found:
        raise KeyError("state_dict is empty; a recurrent module's state dict has "
                       f"{torch_keys(1)} (and more for more layers)")
    L = 1 + max(int(m.group(3)) for m in found)
    bidirectional = any(m.group(4) for m in found)
    bias = any(m.group(1) == "bias" for m in found)
    expected = torch_keys(L, bidirectional, bias)
    missing = [k for k in expected if k not in state_dict]
    if missing:
        raise KeyError(f"state_dict is missing {missing}: its keys say num_layers={L}, "
                       f"bidirectional={bidirectional}, bias={bias}, and such a state dict has "
                       f"{expected}")
    return L, bidirectional, bias


def _torch_layers(state_dict, cell):
    """``{(l, prefix): [W_ih, W_hh, b_ih, b_hh]}`` of every layer and direction, checked."""
    k, gates, module = TORCH_CELLS[_check_cell_name(cell, TORCH_CELLS, "PyTorch")]
    L, bi, bias = torch_layout(state_dict)
    sd = {key: to_numpy(v) for key, v in state_dict.items()}
    out, D, H = {}, ("D", None), None
    for l in range(L):
        for prefix, suffix in DIRECTIONS[:1 + bi]:
            arrays = _read_torch_layer(sd, f"_l{l}{suffix}", k, gates, bias, D, H)
            H = arrays[1].shape[1]
            if l == 0 and D[1] is None:
                D = ("D", arrays[0].shape[1])
            out[l, prefix] = arrays
        D = ("2H" if bi else "H", (1 + bi) * H)    # what layer l + 1 reads: PyTorch concatenates
    return out, L, bi


def _cell_from_torch(cell, W_ih, W_hh, b_ih, b_hh):
    if cell == "elman":
        return {"W_xh": W_ih, "W_hh": W_hh, "b_h": b_ih + b_hh}
    if cell == "lstm":
        return {"W_x": W_ih, "W_h": W_hh, "b": b_ih + b_hh}
    H = W_hh.shape[1]
    b = np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]])
    return {"W_x": W_ih, "W_h": W_hh, "b": b, "b_hn": np.array(b_hh[2 * H:], copy=True)}


_TO_TORCH = {"elman": elman_to_torch, "lstm": lstm_to_torch, "gru": gru_to_torch}
_TO_KERAS = {"elman": elman_to_keras, "lstm": lstm_to_keras,
             "gru": lambda p: gru_to_keras(p, reset="after" if "b_hn" in p else "before")}
_FROM_KERAS = {"elman": lambda w, reset: elman_from_keras(w),
               "lstm": lambda w, reset: lstm_from_keras(w),
               "gru": lambda w, reset: gru_from_keras(w, reset=reset)}


def stacked_from_torch(state_dict, cell):
    """PyTorch ``nn.RNN/LSTM/GRU(num_layers=L, bidirectional=...)`` -> ``stacked_forward`` params.

    ``cell`` is labrnn's name: ``"elman"`` (``nn.RNN``; pass its ``nonlinearity``
    as ``activation=`` to :func:`~labrnn.stacked_forward`), ``"lstm"`` or ``"gru"``
    (``reset="after"``). The layout is read from the keys (:func:`torch_layout`):
    layer ``l``'s ``weight_ih_l{l}`` etc. become ``"l{l}.W_x"`` etc., and with
    ``bidirectional=True`` the forward keys go to ``"l{l}.fw.*"``, the
    ``*_l{l}_reverse`` keys to ``"l{l}.bw.*"``. Run the result with
    ``stacked_forward(x, params, cell=cell, bidirectional=<as the module>,
    merge="concat")``: PyTorch feeds layer ``l + 1`` the concatenation
    ``[forward ; backward]`` of layer ``l`` (equation ``bidir-merge``), which
    is ``merge="concat"``. Biases as in :func:`elman_from_torch` etc.: the
    two PyTorch biases are summed wherever only their sum matters, in each
    layer and each direction alike.

    ``stacked_forward`` starts from zero states and has no dropout at test
    time, like the module in ``eval()`` mode called without ``h0``;
    :func:`states_from_torch` turns ``h_n`` (and ``c_n``) into its ``states``.
    With ``lengths=`` it computes what the module computes on a
    ``pack_padded_sequence`` batch: the backward direction starts at each
    sequence's own end, padded outputs are zero, ``h_n`` is each sequence's
    state at its end (tested against PyTorch, ``L2_bi_len`` reference files).
    For example, with ``module = torch.nn.LSTM(D, H, num_layers=2, bidirectional=True)``::

        params = stacked_from_torch(module.state_dict(), "lstm")
        y, states, _ = stacked_forward(x, params, cell="lstm", bidirectional=True,
                                       return_state=True)
        # y is module(x)[0]; states_to_torch(states, "lstm", bidirectional=True) is module(x)[1]
    """
    layers, L, bi = _torch_layers(state_dict, cell)
    params = {}
    for (l, prefix), arrays in layers.items():
        params.update(with_prefix(f"l{l}." + (prefix if bi else ""),
                                  _cell_from_torch(cell, *arrays)))
    return params


def bidirectional_from_torch(state_dict, cell):
    """PyTorch ``nn.RNN/LSTM/GRU(bidirectional=True)``, one layer -> ``bidirectional_forward`` params.

    ``*_l0`` keys go to ``"fw.*"``, ``*_l0_reverse`` keys to ``"bw.*"``; PyTorch
    concatenates the two directions' outputs ``[forward ; backward]``, which is
    ``merge="concat"``. For ``num_layers > 1`` use :func:`stacked_from_torch`.
    """
    layers, L, bi = _torch_layers(state_dict, cell)
    if L != 1 or not bi:
        raise ValueError(f"bidirectional_from_torch needs the state dict of a one-layer "
                         f"bidirectional module, received num_layers={L}, bidirectional={bi}; "
                         "use stacked_from_torch for it")
    return {**with_prefix("fw.", _cell_from_torch(cell, *layers[0, "fw."])),
            **with_prefix("bw.", _cell_from_torch(cell, *layers[0, "bw."]))}


def _directions(params, where):
    """``[("fw.", ..), ("bw.", ..)]`` for a bidirectional layer's params, else ``[("", params)]``."""
    if any(k.startswith("fw.") for k in params):
        if not any(k.startswith("bw.") for k in params):
            raise KeyError(f"{where} has forward parameters 'fw.*' but no backward ones 'bw.*'")
        return [(prefix, subparams(params, prefix)) for prefix, _ in DIRECTIONS]
    return [("", params)]


def _layers(params):
    """``[[(prefix, cell params), ...] per layer]`` and whether the layers are bidirectional."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    layers = [_directions(subparams(params, f"l{l}."), f"layer {l} (params 'l{l}.*')")
              for l in range(count_layers(params))]
    kinds = {len(d) for d in layers}
    if len(kinds) > 1:
        raise ValueError("params mixes bidirectional and unidirectional layers; "
                         "labrnn.stacked_forward runs either kind, not both")
    return layers, kinds == {2}


def stacked_to_torch(params, cell):
    """``stacked_forward`` params -> PyTorch ``nn.RNN/LSTM/GRU(num_layers=L, bidirectional=...)``.

    The inverse of :func:`stacked_from_torch`, keys in PyTorch's order
    (:func:`torch_keys`); bidirectional when the layers hold ``fw.*``/``bw.*``.
    The redundant recurrent biases are written as zeros, so labrnn -> PyTorch ->
    labrnn is exact. Raises for what PyTorch cannot hold: layers of different
    hidden sizes (PyTorch has one ``hidden_size``), a bidirectional stack built
    for ``merge="sum"`` (PyTorch concatenates), peepholes, the ``reset="before"`` GRU.
    """
    _check_cell_name(cell, TORCH_CELLS, "PyTorch")
    layers, bi = _layers(params)
    sd, H = {}, None
    for l, directions in enumerate(layers):
        for prefix, p in directions:
            label = f"layer {l}" + (f", direction {prefix[:-1]!r}" if bi else "") + \
                    f" (params 'l{l}.{prefix}*')"
            one = _labelled(label, _TO_TORCH[cell], p)
            h = one["weight_hh_l0"].shape[1]
            H = h if H is None else H
            if h != H:
                raise ValueError(f"{label}: hidden size {h}, but layer 0 has {H}; a PyTorch "
                                 "recurrent module has one hidden_size for every layer")
            d_in = one["weight_ih_l0"].shape[1]
            if l > 0 and d_in != (1 + bi) * H:
                raise ValueError(f"{label}: reads {d_in} features, but PyTorch feeds layer {l} "
                                 f"the {'concatenated ' if bi else ''}outputs of layer {l - 1}, "
                                 f"{(1 + bi) * H} features"
                                 + ("; these params are a merge='sum' stack" if bi and d_in == H
                                    else ""))
            suffix = dict(DIRECTIONS)[prefix] if bi else ""
            sd.update({key.replace("_l0", f"_l{l}{suffix}"): v for key, v in one.items()})
    return {key: sd[key] for key in torch_keys(len(layers), bi)}


def bidirectional_to_torch(params, cell):
    """``bidirectional_forward`` params (``fw.*``, ``bw.*``) -> PyTorch ``bidirectional=True`` state dict.

    The forward direction's keys ``*_l0``, the backward's ``*_l0_reverse``;
    only ``merge="concat"`` matches PyTorch's output, the weights are the same
    for either merge. Exact round trip as :func:`stacked_to_torch`.
    """
    return stacked_to_torch(with_prefix("l0.", _require_bidirectional(params)), cell)


def _require_bidirectional(params):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    missing = [p for p, _ in DIRECTIONS if not any(k.startswith(p) for k in params)]
    if missing:
        raise KeyError(f"params must hold a bidirectional layer's 'fw.*' and 'bw.*' entries; "
                       f"none under {missing}; its keys are {sorted(params)}")
    return params


def states_from_torch(h_n, c_n=None, *, bidirectional=False):
    """PyTorch's final states -> the ``states`` list of :func:`labrnn.stacked_forward`.

    ``h_n`` (and, for ``nn.LSTM``, ``c_n``) have shape ``(num_layers *
    num_directions, B, H)``, rows ordered layer 0 forward, layer 0 backward,
    layer 1 forward, ... The result has one entry per layer: the state in the
    cell's form (an array ``(B, H)``, or the pair ``(h, c)`` for an LSTM), or
    for a bidirectional module the pair ``(forward, backward)`` of those. Its
    first entry is also the ``h0`` that :func:`labrnn.bidirectional_forward` takes.
    """
    h = to_numpy(h_n)
    dirs = 2 if bidirectional else 1
    check_shape("h_n", h, (("num_layers*num_directions", None), ("B", None), ("H", None)))
    if h.shape[0] % dirs:
        raise ShapeError(f"h_n has {h.shape[0]} rows, not a multiple of num_directions=2 "
                         "(bidirectional=True)")
    c = None if c_n is None else to_numpy(c_n)
    if c is not None:
        check_shape("c_n", c, tuple(zip(("num_layers*num_directions", "B", "H"), h.shape)))

    def one(i):
        return (h[i].copy(), c[i].copy()) if c is not None else (h[i].copy(),)
    return [(one(dirs * l), one(dirs * l + 1)) if bidirectional else one(l)
            for l in range(h.shape[0] // dirs)]


def states_to_torch(states, cell, *, bidirectional=False):
    """The ``states`` of :func:`labrnn.stacked_forward` -> PyTorch's ``h_n`` or ``(h_n, c_n)``.

    ``h_n`` for ``nn.RNN`` and ``nn.GRU``, the pair for ``nn.LSTM``, each of
    shape ``(num_layers * num_directions, B, H)``.

    The inverse of :func:`states_from_torch`, e.g. to pass labrnn's final
    states to a PyTorch module as its initial ones.
    """
    _check_cell_name(cell, TORCH_CELLS, "PyTorch")
    if not isinstance(states, (list, tuple)) or not states:
        raise TypeError(f"states must be the non-empty list that stacked_forward returns, one "
                        f"entry per layer; received {type(states).__name__}")
    rows = []
    for l, st in enumerate(states):
        per_dir = st if bidirectional else (st,)
        if len(per_dir) != (2 if bidirectional else 1):
            raise ValueError(f"states[{l}] must be the pair (forward, backward) of a "
                             f"bidirectional layer, received {len(per_dir)} entries")
        n = len(get_cell(cell).state_names)
        for s in per_dir:
            if not (isinstance(s, (tuple, list)) and len(s) == n):
                raise TypeError(f"states[{l}] must hold the state tuple of {cell!r} per "
                                f"direction ({n} array(s)), received {type(s).__name__}")
            rows.append(tuple(to_numpy(a) for a in s))
    out = tuple(np.stack([r[i] for r in rows], axis=0) for i in range(len(rows[0])))
    return out if len(out) == 2 else out[0]


# ---------------------------------------------------------------- Keras: Bidirectional, stacks
def _keras_arrays(weights, n_ok, what):
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"weights must be {what}, received {type(weights).__name__}")
    if len(weights) not in n_ok:
        raise ValueError(f"weights must be {what}: {' or '.join(map(str, n_ok))} arrays, "
                         f"received {len(weights)}")
    return list(weights)


_BIDIR_WHAT = ("the list Bidirectional(layer).get_weights(): the forward layer's kernel, "
               "recurrent_kernel, bias, then the backward layer's (without the biases when "
               "use_bias=False)")


def bidirectional_to_keras(params, cell):
    """:func:`labrnn.bidirectional_forward` params -> Keras ``Bidirectional(layer)`` weights.

    One list for ``layer.set_weights``: the forward layer's
    ``[kernel, recurrent_kernel, bias]`` (``fw.*``) then the backward layer's
    (``bw.*``), each as :func:`elman_to_keras` / :func:`lstm_to_keras` /
    :func:`gru_to_keras` write it (``cell`` ``"elman"`` is ``SimpleRNN``; a GRU's
    variant is read from its keys). Keras' backward layer reads the sequence
    reversed (``go_backwards=True``) and its outputs are flipped back before
    the merge, as in equation ``bidir-merge``; ``merge_mode="concat"`` and
    ``"sum"`` are labrnn's ``merge`` of that name. Exact round trip.
    """
    _check_cell_name(cell, KERAS_CELLS, "Keras")
    out = []
    for prefix, p in _directions(_require_bidirectional(params), "params"):
        out += _labelled(f"direction {prefix[:-1]!r} (params '{prefix}*')", _TO_KERAS[cell], p)
    return out


def bidirectional_from_keras(weights, cell, reset="after"):
    """Keras ``Bidirectional(layer).get_weights()`` -> :func:`labrnn.bidirectional_forward` params.

    ``weights``: 6 arrays, the forward layer's then the backward layer's
    ``[kernel, recurrent_kernel, bias]`` (4 with ``use_bias=False``). ``reset``
    as in :func:`gru_from_keras` (GRU only). Biases as in the one-layer converters.
    """
    _check_cell_name(cell, KERAS_CELLS, "Keras")
    w = _keras_arrays(weights, (6, 4), _BIDIR_WHAT)
    n = len(w) // 2
    return {**with_prefix("fw.", _labelled(f"forward layer (weights[0:{n}])", _FROM_KERAS[cell],
                                           w[:n], reset)),
            **with_prefix("bw.", _labelled(f"backward layer (weights[{n}:{2 * n}])",
                                           _FROM_KERAS[cell], w[n:], reset))}


def stacked_to_keras(params, cell):
    """:func:`labrnn.stacked_forward` params -> one weight list per Keras layer of a stack.

    For a stack ``Sequential([L_0(return_sequences=True), ..., L_{L-1}])``:
    entry ``l`` is ``L_l.get_weights()``'s layout, ``[kernel, recurrent_kernel,
    bias]`` for a plain layer and :func:`bidirectional_to_keras`'s six arrays
    for a ``Bidirectional`` one. Set them with ``for layer, w in zip(layers,
    out): layer.set_weights(w)``. Exact round trip with :func:`stacked_from_keras`.
    """
    _check_cell_name(cell, KERAS_CELLS, "Keras")
    layers, bi = _layers(params)
    out = []
    for l, directions in enumerate(layers):
        label = f"layer {l}"
        if bi:
            out.append(_labelled(label, bidirectional_to_keras,
                                 subparams(params, f"l{l}."), cell))
        else:
            out.append(_labelled(f"{label} (params 'l{l}.*')", _TO_KERAS[cell], directions[0][1]))
    return out


def stacked_from_keras(layers, cell, reset="after"):
    """One ``get_weights()`` list per Keras layer of a stack -> ``stacked_forward`` params.

    ``layers[l]`` is layer ``l``'s ``[kernel, recurrent_kernel, bias]`` (2 or 3
    arrays) or a ``Bidirectional`` layer's 6 (or 4) arrays; all layers of one
    kind (``stacked_forward`` runs either). Hidden sizes may differ per layer.
    Layer ``l + 1`` must read what layer ``l`` outputs: ``H_l`` features, or for
    bidirectional layers ``2 H_l`` (``merge_mode="concat"``: run with
    ``merge="concat"``) or ``H_l`` (``merge_mode="sum"``: ``merge="sum"``).
    """
    _check_cell_name(cell, KERAS_CELLS, "Keras")
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError("layers must be a non-empty list with one get_weights() list per Keras "
                        f"layer, received {type(layers).__name__}")
    bidirectional = None
    params, prev_H = {}, None
    for l, w in enumerate(layers):
        label = f"layers[{l}]"
        if not isinstance(w, (list, tuple)) or len(w) not in (2, 3, 4, 6):
            raise ValueError(f"{label} must be one layer's get_weights() list: 3 arrays (2 with "
                             "use_bias=False), or 6 (4) for a Bidirectional layer; received "
                             + (f"{len(w)} arrays" if isinstance(w, (list, tuple))
                                else type(w).__name__))
        bi = len(w) in (4, 6)
        if bidirectional is None:
            bidirectional = bi
        elif bi != bidirectional:
            raise ValueError(f"{label} is {'a Bidirectional' if bi else 'a unidirectional'} "
                             f"layer but layers[0] is {'' if bidirectional else 'not '}"
                             "Bidirectional; labrnn.stacked_forward runs stacks of one kind")
        if bi:
            p = _labelled(label, bidirectional_from_keras, w, cell, reset)
        else:
            p = _labelled(label, _FROM_KERAS[cell], w, reset)
        c, pre = get_cell(cell), "fw." if bi else ""
        first = p[pre + c.input_weights[0]]
        H = p[pre + c.recurrent_weight].shape[1]
        D = first.shape[1]
        if prev_H is not None:
            ok = (2 * prev_H, prev_H) if bi else (prev_H,)
            if D not in ok:
                raise ShapeError(f"{label}: its kernel reads D={D} features, but layers[{l - 1}] "
                                 f"outputs {' or '.join(map(str, ok))}"
                                 + (" (merge_mode 'concat' or 'sum')" if bi else ""))
        prev_H = H
        params.update(with_prefix(f"l{l}.", p))
    return params
