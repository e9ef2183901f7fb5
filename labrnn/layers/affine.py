"""The affine (dense) layer ``y = W h + b`` (book eq. ``rnn-output``), and views of fused gates.

Works on any number of leading axes: ``h`` of shape ``(..., H)`` gives ``y`` of
shape ``(..., O)`` with ``W: (O, H)`` and ``b: (O,)``.
"""

from __future__ import annotations

from ..backend import namespace
from ..errors import ShapeError
from ..validate import check_array, check_float, check_shape

# The fused-gate layouts: gate letters -> (cell, keys only that cell has, keys it never has).
_LAYOUTS = {
    "ifgo": ("LSTM", ("w_ci", "w_cf", "w_co"), ("b_hn",)),
    "rzn": ("GRU", ("b_hn",), ("w_ci", "w_cf", "w_co")),
}


def affine_forward(h, W, b):
    """``y = h @ W.T + b``; returns ``(y, cache)``."""
    check_array("h", h, "a float array (..., H)")
    check_array("W", W, "a float matrix (O, H)")
    check_array("b", b, "a float vector (O,)")
    xp = namespace(h, W, b, names=["h", "W", "b"])
    check_float("W", W)
    check_float("h", h, W.dtype)
    check_float("b", b, W.dtype)
    O, H = check_shape("W", W, (("O", None), ("H", None)))
    check_shape("b", b, (("O", O),))
    if h.shape[-1] != H:
        check_shape("h", h, tuple(("·", None) for _ in h.shape[:-1]) + (("H", H),))
    y = xp.matmul(h, xp.matrix_transpose(W)) + b
    return y, (h, W)


def affine_backward(dy, cache):
    """Gradients of :func:`affine_forward`: returns ``(dh, dW, db)``.

    ``dW`` and ``db`` sum over every leading axis (time and batch), because one
    weight matrix serves every position.
    """
    h, W = cache
    check_array("dy", dy, "a float array (..., O)")
    xp = namespace(dy, W, names=["dy", "W"])
    check_shape("dy", dy, tuple(("·", s) for s in h.shape[:-1]) + (("O", W.shape[0]),))
    dh = xp.matmul(dy, W)
    H, O = h.shape[-1], dy.shape[-1]
    h2 = xp.reshape(h, (-1, H))
    dy2 = xp.reshape(dy, (-1, O))
    dW = xp.matmul(xp.matrix_transpose(dy2), h2)
    db = xp.sum(dy2, axis=0)
    return dh, dW, db


def gate_views(params, gates):
    """The per-gate blocks of fused gate weights, as slices (views on NumPy).

    ``params`` holds ``W_x (kH, D)``, ``W_h (kH, H)`` and ``b (kH,)`` with the
    ``k = len(gates)`` gate blocks stacked in the order ``gates``; returns
    ``{"W_x<g>": (H, D), "W_h<g>": (H, H), "b_<g>": (H,)}`` for every gate ``g``.
    The LSTM (``"ifgo"``) and the GRU (``"rzn"``) store their gates this way.

    The parameters must be of the cell whose gates are asked for: ``W_h`` must have
    ``k * H`` rows (4H for the LSTM, 3H for the GRU) and ``params`` must not hold a
    key only the other cell has (``b_hn``: GRU; ``w_ci``, ``w_cf``, ``w_co``: LSTM
    peepholes), else :class:`~labrnn.errors.ShapeError` or ``ValueError`` says which
    cell the parameters look like.
    """
    gates = "".join(gates)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    missing = [k for k in ("W_x", "W_h", "b") if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; fused gate parameters hold W_x, W_h and b, "
                       f"these have {sorted(params)}")
    cell, _, foreign = _LAYOUTS.get(gates, (f"a {len(gates)}-gate cell", (), ()))
    for key in foreign:
        if key in params:
            other = next(c for g, (c, own, _) in _LAYOUTS.items() if key in own)
            raise ValueError(f"params hold {key!r}, a parameter of the {other}, not of the "
                             f"{cell} (gates {gates!r}); use the {other}'s gate views")
    k = len(gates)
    H = check_shape("params['W_h']", params["W_h"], (("kH", None), ("H", None)))[1]
    rows = {name: params[name].shape[0] for name in ("W_x", "W_h", "b")}
    if any(r != k * H for r in rows.values()):
        found = rows["W_h"] / H if H else float("nan")
        guess = {3: "the GRU's (3 gates)", 4: "the LSTM's (4 gates)", 1: "an Elman RNN's (1 block)"}
        looks = guess.get(int(found), f"{found:g} gate blocks") if found == int(found) else \
            f"{found:g} gate blocks"
        raise ShapeError(f"the {cell} has {k} gates ({gates!r}) and needs W_x, W_h and b with "
                         f"{k}H = {k * H} rows (H={H}), received {rows['W_x']}, {rows['W_h']} and "
                         f"{rows['b']} rows: these look like {looks} parameters")
    views = {}
    for j, gate in enumerate(gates):
        block = slice(j * H, (j + 1) * H)
        views[f"W_x{gate}"] = params["W_x"][block, :]
        views[f"W_h{gate}"] = params["W_h"][block, :]
        views[f"b_{gate}"] = params["b"][block]
    return views
