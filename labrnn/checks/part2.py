"""Checks for the Part II exercises (assignment ``part2_gated``).

Weights are fused as in :mod:`labrnn.cells.lstm` and :mod:`labrnn.cells.gru`: for the LSTM
``W_x (4H, D)``, ``W_h (4H, H)``, ``b (4H,)`` with the gates in the order
**i, f, g, o** (rows ``0:H`` are the input gate, ``H:2H`` the forget gate, ...);
for the GRU ``W_x (3H, D)``, ``W_h (3H, H)``, ``b (3H,)`` in the order **r, z, n**
plus ``b_hn (H,)``, the variant ``reset="after"`` with ``z`` keeping the old state:
``h_t = (1 - z) * n + z * h_prev``.
"""

from __future__ import annotations

import numpy as np

from ..cells import gru, lstm
from ._harness import (DEFAULT_TIMEOUT, CheckFailed, call_args, call_or_blame_orientation, close,
                       compare, expect_array, expect_tuple, passed, rng_for)
from .part1 import _insensitive

__all__ = ["check_lstm_step_forward", "check_lstm_step_backward", "check_gru_step_forward"]


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _lstm_inputs(rng, B, D, H):
    x = rng.normal(size=(B, D))
    h_prev = np.tanh(rng.normal(size=(B, H)))
    c_prev = rng.normal(size=(B, H))
    W_x = rng.normal(scale=0.5, size=(4 * H, D))
    W_h = rng.normal(scale=0.5, size=(4 * H, H))
    b = rng.normal(scale=0.5, size=4 * H)
    return x, h_prev, c_prev, W_x, W_h, b


def _np_lstm(x, h_prev, c_prev, W_x, W_h, b, order="ifgo", g_act="tanh", no_i=False,
             no_f=False, h_mode="o*tanh(c)", b_zero=False):
    """An LSTM step with knobs reproducing the usual mistakes; returns (h, c, gates)."""
    H = h_prev.shape[-1]
    a = x @ W_x.T + h_prev @ W_h.T + (0.0 if b_zero else b)
    blocks = dict(zip(order, (a[:, k * H:(k + 1) * H] for k in range(4))))
    i, f, o = _sig(blocks["i"]), _sig(blocks["f"]), _sig(blocks["o"])
    g = np.tanh(blocks["g"]) if g_act == "tanh" else _sig(blocks["g"])
    c = (1.0 if no_f else f) * c_prev + (1.0 if no_i else i) * g
    h = {"o*tanh(c)": o * np.tanh(c), "o*c": o * c, "tanh(o*c)": np.tanh(o * c),
         "o*tanh(c_prev)": o * np.tanh(c_prev)}[h_mode]
    return h, c, (i, f, g, o)


def _lstm_variants(args, k):
    return [(_np_lstm(*args, **kw)[k], why) for kw, why in (
        ({"order": "figo"}, "it matches the result with the input and forget gates swapped: "
                            "the gate order is i, f, g, o, so rows 0:H of W_x, W_h and b belong "
                            "to the input gate i and rows H:2H to the forget gate f"),
        ({"order": "ifog"}, "it matches the result with g and o swapped: the gate order is "
                            "i, f, g, o (the candidate g is rows 2H:3H, the output gate o is "
                            "rows 3H:4H)"),
        ({"order": "iofg"}, "the gate blocks are taken in the wrong order: it is i, f, g, o"),
        ({"order": "igfo"}, "it matches the gate order i, g, f, o (TensorFlow/Keras store i, c, "
                            "f, o): this course, like labrnn and PyTorch, stores i, f, g, o, so "
                            "rows H:2H of W_x, W_h and b are the forget gate f and rows 2H:3H "
                            "the candidate g"),
        ({"b_zero": True}, "it matches the result without the bias: the pre-activation is "
                           "a = x_t @ W_x.T + h_prev @ W_h.T + b"),
        ({"g_act": "sigmoid"}, "the candidate g uses a sigmoid; it uses tanh "
                               "(g_t = tanh(a_g), values in (-1, 1))"),
        ({"no_i": True}, "the input gate is missing: c_t = f * c_prev + i * g"),
        ({"no_f": True}, "the forget gate is missing: c_t = f * c_prev + i * g"),
        ({"h_mode": "o*c"}, "h_t = o * c_t is missing the tanh: h_t = o * tanh(c_t)"),
        ({"h_mode": "tanh(o*c)"}, "it is tanh(o * c_t); the tanh applies to c_t alone: "
                                  "h_t = o * tanh(c_t)"),
        ({"h_mode": "o*tanh(c_prev)"}, "it uses c_prev; h_t = o * tanh(c_t) uses the NEW cell"),
    )]


# ================================================================== 7. LSTM step forward
def check_lstm_step_forward(lstm_step_forward, B=3, D=4, H=5, seed=None,
                            timeout=DEFAULT_TIMEOUT):
    """Check ``lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_t, c_t)``
    (book chapter 6, gate order i, f, g, o)."""
    name = "lstm_step_forward"
    fn = lstm_step_forward
    rng = rng_for(seed)
    args = _lstm_inputs(rng, B, D, H)
    x, h_prev, c_prev, W_x, W_h, b = args
    (h_ref, c_ref), _ = lstm.lstm_step_forward(x, (h_prev, c_prev), {"W_x": W_x, "W_h": W_h,
                                                                      "b": b})
    out = call_or_blame_orientation(
        name, fn, args, None if D == H else lambda: _lstm_inputs(rng, B, H, H),
        "a weight is used with the wrong orientation: a = x_t @ W_x.T + h_prev @ W_h.T + b "
        "has shape (B, 4H)", timeout)
    h_t, c_t = expect_tuple(name, out, ("h_t", "c_t"))
    c_t = expect_array("c_t", c_t, (B, H), "each of the four gate blocks is (B, H): "
                       "split a (B, 4H) into a[:, 0:H], a[:, H:2H], ...")
    h_t = expect_array("h_t", h_t, (B, H))
    if not close(c_t, c_ref) and _insensitive(name, fn, args, 2, rng, pick=lambda o: o[1]):
        raise CheckFailed("c_t does not change when c_prev changes: the cell keeps "
                          "f * c_prev (c_t = f * c_prev + i * g)")
    if not (close(c_t, c_ref) and close(h_t, h_ref)) and _insensitive(name, fn, args, 5, rng):
        raise CheckFailed("h_t and c_t do not change when b changes: is the bias added? "
                          "a = x_t @ W_x.T + h_prev @ W_h.T + b, then split a into the four "
                          "gate blocks")
    compare("c_t", c_t, c_ref, _lstm_variants(args, 1))
    compare("h_t", h_t, h_ref, _lstm_variants(args, 0))
    passed(f"{name} is correct: c_t and h_t match (gate order i, f, g, o; B={B}, D={D}, H={H}).")


# ================================================================== 8. LSTM step backward
def _np_lstm_backward(dh, dc, x, h_prev, c_prev, W_x, W_h, b, dh_to_c=True, use_dc=True,
                      carousel_f=True, order="ifgo", tanh_deriv="tc", fwd_order="ifgo",
                      b_zero=False, g_deriv="tanh", o_deriv="sigmoid", f_with="c_prev"):
    """LSTM step backward with knobs for the usual mistakes (defaults: correct)."""
    _, c, (i, f, g, o) = _np_lstm(x, h_prev, c_prev, W_x, W_h, b, order=fwd_order,
                                  b_zero=b_zero)
    tc = np.tanh(c)
    da_o = dh * tc * (o * (1 - o) if o_deriv == "sigmoid" else 1 - o * o)
    dct = dc if use_dc else 0.0
    if dh_to_c:
        dct = dct + dh * o * ((1 - tc * tc) if tanh_deriv == "tc" else (1 - c * c))
    da_i = dct * g * i * (1 - i)
    da_f = dct * (c_prev if f_with == "c_prev" else c) * f * (1 - f)
    da_g = dct * i * ((1 - g * g) if g_deriv == "tanh" else g * (1 - g))
    parts = {"i": da_i, "f": da_f, "g": da_g, "o": da_o}
    da = np.concatenate([parts[k] for k in order], axis=1)
    dc_prev = dct * f if carousel_f else dct
    return da @ W_x, da @ W_h, dc_prev, da.T @ x, da.T @ h_prev, da.sum(axis=0)


LSTM_GRAD_NAMES = ("dx_t", "dh_prev", "dc_prev", "dW_x", "dW_h", "db")


def _lstm_bwd_variants(args, k):
    return [(_np_lstm_backward(*args, **kw)[k], why) for kw, why in (
        ({"dh_to_c": False}, "the gradient reaching c_t through h_t = o * tanh(c_t) is missing: "
                             "dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)"),
        ({"use_dc": False}, "the incoming dc_t (the gradient from the future along the cell) "
                            "is ignored: dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)"),
        ({"carousel_f": False}, "dc_prev = dc * f_t: c_t = f * c_prev + ..., so the cell "
                                "gradient is multiplied by the forget gate on its way back"),
        ({"order": "figo"}, "the gate gradients are stacked with i and f swapped: da must be "
                            "[da_i, da_f, da_g, da_o], the order of the rows of W_x, W_h, b"),
        ({"order": "ifog"}, "the gate gradients are stacked with g and o swapped: da must be "
                            "[da_i, da_f, da_g, da_o]"),
        ({"tanh_deriv": "c"}, "the derivative of tanh(c_t) is 1 - tanh(c_t)**2, not 1 - c_t**2"),
        ({"fwd_order": "igfo", "order": "igfo"},
         "it matches the gate order i, g, f, o (TensorFlow/Keras store i, c, f, o), both when "
         "the gates are recomputed and when da is stacked: this course stores i, f, g, o "
         "(rows H:2H are the forget gate, 2H:3H the candidate g)"),
        ({"b_zero": True}, "the gates are recomputed without the bias: "
                           "a = x_t @ W_x.T + h_prev @ W_h.T + b"),
        ({"g_deriv": "sigmoid"}, "the candidate's gradient uses g * (1 - g), the derivative of "
                                 "the sigmoid; g = tanh(a_g), so da_g = dc * i * (1 - g**2)"),
        ({"o_deriv": "tanh"}, "da_o uses 1 - o**2; o = sigmoid(a_o), whose derivative is "
                              "o * (1 - o): da_o = dh_t * tanh(c_t) * o * (1 - o)"),
        ({"f_with": "c_t"}, "da_f uses c_t; the forget gate multiplies the OLD cell, so "
                            "da_f = dc * c_prev * f * (1 - f)"),
        ({"dh_to_c": False, "carousel_f": False},
         "the gradient reaching c_t through h_t = o * tanh(c_t) is missing, and dc_prev is not "
         "multiplied by the forget gate: dc = dc_t + dh_t * o * (1 - tanh(c_t)**2), "
         "dc_prev = dc * f"),
    )]


def _lstm_bwd_inputs(rng, B, D, H):
    x, h_prev, c_prev, W_x, W_h, b = _lstm_inputs(rng, B, D, H)
    return (rng.normal(size=(B, H)), rng.normal(size=(B, H)), x, h_prev, c_prev, W_x, W_h, b)


def check_lstm_step_backward(lstm_step_backward, B=3, D=4, H=5, seed=None,
                             timeout=DEFAULT_TIMEOUT):
    """Check ``lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b)
    -> (dx_t, dh_prev, dc_prev, dW_x, dW_h, db)`` (book chapter 6)."""
    name = "lstm_step_backward"
    fn = lstm_step_backward
    rng = rng_for(seed)
    args = _lstm_bwd_inputs(rng, B, D, H)
    dh, dc, x, h_prev, c_prev, W_x, W_h, b = args
    _, cache = lstm.lstm_step_forward(x, (h_prev, c_prev), {"W_x": W_x, "W_h": W_h, "b": b})
    dx, (dhp, dcp), g = lstm.lstm_step_backward((dh, dc), cache)
    expected = (dx, dhp, dcp, g["W_x"], g["W_h"], g["b"])
    out = call_args(name, fn, args, timeout)
    out = expect_tuple(name, out, LSTM_GRAD_NAMES)
    hints = {"dx_t": "dx_t = da @ W_x has the shape of x_t", "dh_prev": "dh_prev = da @ W_h",
             "dc_prev": "dc_prev has the shape of c_prev", "dW_x": "dW_x = da.T @ x_t",
             "dW_h": "dW_h = da.T @ h_prev", "db": "db = da.sum(axis=0), shape (4H,)"}
    got = [expect_array(n, o, e.shape, hints[n]) for n, o, e in zip(LSTM_GRAD_NAMES, out, expected)]
    # The first thing wrong: the cell gradient and the gate gradients (db) come first,
    # everything else is computed from them.
    for k in (5, 2, 3, 4, 0, 1):
        compare(LSTM_GRAD_NAMES[k], got[k], expected[k], _lstm_bwd_variants(args, k))
    passed(f"{name} is correct: all six gradients match (B={B}, D={D}, H={H}).")


# ================================================================== 9. GRU step forward
def _gru_inputs(rng, B, D, H):
    x = rng.normal(size=(B, D))
    h_prev = np.tanh(rng.normal(size=(B, H)))
    W_x = rng.normal(scale=0.5, size=(3 * H, D))
    W_h = rng.normal(scale=0.5, size=(3 * H, H))
    b = rng.normal(scale=0.5, size=3 * H)
    b_hn = rng.normal(scale=0.5, size=H)
    return x, h_prev, W_x, W_h, b, b_hn


def _np_gru(x, h_prev, W_x, W_h, b, b_hn, order="rzn", flip=False, reset="after",
            b_hn_where="inside", n_act="tanh", b_zero=False):
    H = h_prev.shape[-1]
    ax = x @ W_x.T + (0.0 if b_zero else b)
    ah = h_prev @ W_h.T
    blk = {name: k for k, name in enumerate(order)}
    sl = lambda a, g: a[:, blk[g] * H:(blk[g] + 1) * H]          # noqa: E731
    r = _sig(sl(ax, "r") + sl(ah, "r"))
    z = _sig(sl(ax, "z") + sl(ah, "z"))
    W_hn = W_h[blk["n"] * H:(blk["n"] + 1) * H]
    act = np.tanh if n_act == "tanh" else _sig
    if reset == "after":
        inner = sl(ah, "n") + (b_hn if b_hn_where == "inside" else 0.0)
        n = act(sl(ax, "n") + r * inner + (b_hn if b_hn_where == "outside" else 0.0))
    else:
        n = act(sl(ax, "n") + (r * h_prev) @ W_hn.T + (b_hn if b_hn_where != "none" else 0))
    return z * n + (1 - z) * h_prev if flip else (1 - z) * n + z * h_prev


def _gru_variants(args):
    return [(_np_gru(*args, **kw), why) for kw, why in (
        ({"flip": True}, "it matches h_t = z * n + (1 - z) * h_prev: the update convention is "
                         "flipped. In this course (as in labrnn.cells.gru, PyTorch, Keras and Cho et "
                         "al.) z KEEPS the old state: h_t = (1 - z) * n + z * h_prev"),
        ({"reset": "before"}, "the reset gate is applied BEFORE the product, "
                              "(r * h_prev) @ W_hn.T; this exercise is the reset='after' variant: "
                              "n = tanh(x_t @ W_xn.T + b_n + r * (h_prev @ W_hn.T + b_hn))"),
        ({"b_hn_where": "outside"}, "b_hn is added outside the reset; it belongs inside: "
                                    "r * (h_prev @ W_hn.T + b_hn)"),
        ({"order": "zrn"}, "r and z are swapped (Keras stores z, r, h): rows 0:H of W_x, W_h and "
                           "b belong to the reset gate r, rows H:2H to the update gate z "
                           "(order r, z, n, as in labrnn and PyTorch)"),
        ({"reset": "before", "flip": True}, "the reset gate is applied BEFORE the product AND "
                                            "the update convention is flipped: n = tanh(x_t @ "
                                            "W_xn.T + b_n + r * (h_prev @ W_hn.T + b_hn)) and "
                                            "h_t = (1 - z) * n + z * h_prev"),
        ({"n_act": "sigmoid"}, "the candidate n uses a sigmoid; it is n = tanh(...), values in "
                               "(-1, 1)"),
        ({"b_zero": True}, "it matches the result without the bias b: the input side is "
                           "x_t @ W_x.T + b (b = [b_r, b_z, b_n])"),
        ({"flip": True, "order": "zrn"}, "r and z are swapped AND the update convention is "
                                         "flipped: the order is r, z, n and "
                                         "h_t = (1 - z) * n + z * h_prev"),
    )]


def check_gru_step_forward(gru_step_forward, B=3, D=4, H=5, seed=None, timeout=DEFAULT_TIMEOUT):
    """Check ``gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn) -> h_t`` (book chapter 7,
    the variant reset="after", z keeps the old state)."""
    name = "gru_step_forward"
    fn = gru_step_forward
    rng = rng_for(seed)
    args = _gru_inputs(rng, B, D, H)
    x, h_prev, W_x, W_h, b, b_hn = args
    ref, _ = gru.gru_step_forward(x, h_prev, {"W_x": W_x, "W_h": W_h, "b": b, "b_hn": b_hn},
                                  reset="after")
    out = call_or_blame_orientation(
        name, fn, args, None if D == H else lambda: _gru_inputs(rng, B, H, H),
        "a weight is used with the wrong orientation: x_t @ W_x.T is (B, 3H), "
        "h_prev @ W_h.T is (B, 3H)", timeout)
    h_t = expect_array("h_t", out, (B, H))
    if not close(h_t, ref):
        if _insensitive(name, fn, args, 5, rng):
            raise CheckFailed("h_t does not change when b_hn changes: in the reset='after' GRU "
                              "the candidate is n = tanh(x_t @ W_xn.T + b_n + r * (h_prev @ "
                              "W_hn.T + b_hn)); is b_hn added inside the reset?")
    compare("h_t", h_t, ref, _gru_variants(args))
    passed(f"{name} is correct: h_t matches the reset='after' GRU with z keeping the old state "
           f"(B={B}, D={D}, H={H}).")
