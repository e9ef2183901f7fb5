"""Converters between labrnn parameters and PyTorch / Keras weight layouts (chapters 6, 7).

Every function takes and returns plain NumPy arrays (labrnn parameters on any
backend or device are copied to the host first; move the result back with
:func:`labrnn.move`). Nothing here imports torch or keras.

PyTorch (single layer, unidirectional ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``;
``state_dict()`` tensors are accepted as they are)::

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

labrnn's sigmoid is the logistic function: Keras layers must use
``recurrent_activation="sigmoid"`` (the default since Keras 2.3; older Keras
defaulted to ``"hard_sigmoid"``). PyTorch and Keras have no peephole LSTM and
PyTorch has no ``reset="before"`` GRU: converting those raises.
"""

from __future__ import annotations

import numpy as np

from .backend import to_numpy
from .errors import ShapeError
from .validate import check_shape
from .cells.elman import ELMAN
from .cells.gru import check_gru_params, check_reset
from .cells.lstm import PEEPHOLE_PARAMS, check_lstm_params

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
def _from_torch(state_dict, k, gates, cell):
    if not hasattr(state_dict, "keys"):
        raise TypeError(f"state_dict must be a dict (e.g. module.state_dict()), received "
                        f"{type(state_dict).__name__}")
    extra = sorted(set(state_dict) - set(TORCH_KEYS))
    if extra:
        raise ValueError(f"state_dict has keys {extra} beyond {list(TORCH_KEYS)}: only single-layer, "
                         f"unidirectional {cell} modules convert (num_layers=1, bidirectional=False)")
    missing = [key for key in TORCH_KEYS[:2] if key not in state_dict]
    has_bias = [key in state_dict for key in TORCH_KEYS[2:]]
    if missing or has_bias[0] != has_bias[1]:
        missing += [key for key in TORCH_KEYS[2:] if key not in state_dict and any(has_bias)]
        raise KeyError(f"state_dict is missing {missing}; a {cell} state dict has {list(TORCH_KEYS)}")
    sd = {key: to_numpy(v) for key, v in state_dict.items()}
    check_shape("state_dict['weight_hh_l0']", sd["weight_hh_l0"], ((gates, None), ("H", None)))
    H = sd["weight_hh_l0"].shape[1]
    kH = (gates, k * H)
    check_shape("state_dict['weight_hh_l0']", sd["weight_hh_l0"], (kH, ("H", H)))
    check_shape("state_dict['weight_ih_l0']", sd["weight_ih_l0"], (kH, ("D", None)))
    if not has_bias[0]:             # nn.LSTM(bias=False) and friends
        sd["bias_ih_l0"] = sd["bias_hh_l0"] = np.zeros(k * H, dtype=sd["weight_hh_l0"].dtype)
    for key in TORCH_KEYS[2:]:
        check_shape(f"state_dict[{key!r}]", sd[key], (kH,))
    return [np.array(sd[key], copy=True) for key in TORCH_KEYS]


def _torch_dict(W_ih, W_hh, b_ih, b_hh):
    return dict(zip(TORCH_KEYS, (np.array(a, copy=True) for a in (W_ih, W_hh, b_ih, b_hh))))


def elman_to_torch(params):
    """labrnn Elman ``W_xh, W_hh, b_h`` -> ``nn.RNN`` state dict (``bias_hh_l0`` = 0)."""
    ELMAN.check(params)
    p = _host(params)
    return _torch_dict(p["W_xh"], p["W_hh"], p["b_h"], np.zeros_like(p["b_h"]))


def elman_from_torch(state_dict):
    """``nn.RNN`` state dict -> labrnn ``W_xh, W_hh, b_h`` with ``b_h = bias_ih + bias_hh``."""
    W_ih, W_hh, b_ih, b_hh = _from_torch(state_dict, 1, "H", "nn.RNN")
    return {"W_xh": W_ih, "W_hh": W_hh, "b_h": b_ih + b_hh}


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
    W_ih, W_hh, b_ih, b_hh = _from_torch(state_dict, 4, "4H", "nn.LSTM")
    return {"W_x": W_ih, "W_h": W_hh, "b": b_ih + b_hh}


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
    W_ih, W_hh, b_ih, b_hh = _from_torch(state_dict, 3, "3H", "nn.GRU")
    H = W_hh.shape[1]
    b = np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]])
    return {"W_x": W_ih, "W_h": W_hh, "b": b, "b_hn": np.array(b_hh[2 * H:], copy=True)}


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
