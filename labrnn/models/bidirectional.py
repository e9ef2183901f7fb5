"""Bidirectional recurrent layer (book chapter 9).

Two independent recurrent layers read the sequence in opposite directions;
their outputs at each step are merged, equation ``bidir-merge``::

    ->h_t = cell_fw(x_t, ->h_{t-1})              t = 1 .. L_b          forward direction
    <-h_t = cell_bw(x_t, <-h_{t+1})              t = L_b .. 1          backward direction
    y_t   = [->h_t ; <-h_t]   (merge="concat", 2H)   or   ->h_t + <-h_t   (merge="sum", H)

With ``lengths`` the backward direction starts at each sequence's OWN end
``L_b``, not at the padded end ``T``: it reads :func:`labrnn.layers.masking.reverse_padded`
``(x)`` (each sequence reversed within its length) with a forward layer, and
its outputs are reversed back the same way. Padded steps output zeros.
``y_t`` needs ``x_{t+1}, ..., x_{L}``: a bidirectional layer sees the whole
sequence, so it cannot run in real time.

Parameters live in one flat dict (:mod:`labrnn.paramtree`): the forward
direction's under ``"fw."``, the backward direction's under ``"bw."``, each
the parameters of ``cell`` (see :func:`labrnn.cells.init_cell`). Shapes are
time-major, ``x: (T, B, D)``.
"""

from __future__ import annotations

from ..backend import namespace
from ..validate import check_shape
from ..cells import init_cell
from ..layers.masking import check_lengths, reverse_padded
from ..paramtree import subparams, with_prefix
from .recurrent import recurrent_backward, recurrent_forward

__all__ = ["MERGES", "init_bidirectional", "bidirectional_forward", "bidirectional_backward"]

MERGES = ("concat", "sum")


def init_bidirectional(cell, D, H, seed=0, xp=None, device=None, dtype="float64", **init_kw):
    """Parameters ``fw.*`` and ``bw.*`` of a bidirectional layer (two different seeds' streams)."""
    kw = dict(xp=xp, device=device, dtype=dtype, **init_kw)
    return {**with_prefix("fw.", init_cell(cell, D, H, seed=[seed, 0], **kw)),
            **with_prefix("bw.", init_cell(cell, D, H, seed=[seed, 1], **kw))}


def _check_merge(merge):
    if not isinstance(merge, str) or merge not in MERGES:
        raise ValueError(f"unknown merge {merge!r}; choose one of {list(MERGES)}")
    return merge


def bidirectional_forward(x, params, state0=None, lengths=None, *, cell="elman",
                          merge="concat", activation=None, h_masks=None):
    """Run both directions over ``x`` (T, B, D) and merge them (equation ``bidir-merge``).

    Parameters
    ----------
    x : array (T, B, D)
    params : dict with ``fw.*`` and ``bw.*`` cell parameters
    state0 : pair ``(state0_fw, state0_bw)``, optional, each a state tuple (or ``None``)
    lengths : integer array (B,), optional; each sequence's true length
    cell : str or Cell, keyword-only; any registered cell
    merge : {"concat", "sum"}
    activation : the Elman cell's nonlinearity (default tanh)
    h_masks : pair ``(h_mask_fw, h_mask_bw)``, optional
        Variational recurrent dropout masks (B, H) of each direction, see
        :func:`labrnn.recurrent_forward` (either may be ``None``).

    Returns
    -------
    ``(y, (state_fw, state_bw), cache)``: ``y`` (T, B, 2H) for ``merge="concat"``
    ((T, B, H) for ``"sum"``), each direction's final state (a tuple; the
    backward direction's is its state after reading step 1). A summary of the
    sequence (many-to-one) is the merge of the two final hidden states,
    ``concat(state_fw[0], state_bw[0])``.
    """
    merge = _check_merge(merge)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    p_fw, p_bw = subparams(params, "fw."), subparams(params, "bw.")
    for d, p in (("fw.", p_fw), ("bw.", p_bw)):
        if not p:
            raise KeyError(f"params holds no {d}* parameters: a bidirectional layer needs "
                           f"fw.* and bw.* (init_bidirectional); its keys are {sorted(params)}")
    s_fw, s_bw = _pair("state0", state0)
    m_fw, m_bw = _pair("h_masks", h_masks)
    xp = namespace(x, names=["x"])
    if lengths is not None:
        lengths = check_lengths(lengths, x.shape[0], x.shape[1], x)
    kw = dict(cell=cell, activation=activation)
    y_fw, st_fw, c_fw = recurrent_forward(x, p_fw, s_fw, lengths, h_mask=m_fw,
                                          return_state=True, **kw)
    x_rev = reverse_padded(x, lengths)
    y_bw, st_bw, c_bw = recurrent_forward(x_rev, p_bw, s_bw, lengths, h_mask=m_bw,
                                          return_state=True, **kw)
    y_bw = reverse_padded(y_bw, lengths)
    y = xp.concat([y_fw, y_bw], axis=-1) if merge == "concat" else y_fw + y_bw
    cache = {"layer": "bidirectional", "merge": merge, "lengths": lengths,
             "H": y_fw.shape[-1], "fw": c_fw, "bw": c_bw}
    return y, (st_fw, st_bw), cache


def _pair(name, pair):
    if pair is None:
        return None, None
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} of a bidirectional layer must be a pair (forward, backward), "
                        f"received a {type(pair).__name__}"
                        + (f" of length {len(pair)}" if isinstance(pair, (tuple, list)) else ""))
    return tuple(pair)


def bidirectional_backward(dy, cache, dstate_T=None):
    """Backward of :func:`bidirectional_forward`: ``(dx, (dstate0_fw, dstate0_bw), grads)``.

    ``dy`` like ``y`` (or ``None`` when only the states reach the loss);
    ``dstate_T`` the pair ``(dstate_fw, dstate_bw)`` of state-tuple gradients
    (either, or any entry, may be ``None``). ``grads`` is keyed ``fw.*`` /
    ``bw.*`` like the parameters.
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "bidirectional"):
        raise TypeError("cache must be the last value returned by bidirectional_forward")
    ds_fw, ds_bw = _pair("dstate_T", dstate_T)
    H, lengths = cache["H"], cache["lengths"]
    if dy is None:
        if ds_fw is None and ds_bw is None:
            raise ValueError("nothing to backpropagate: dy and dstate_T are both None")
        dy_fw = dy_bw = None
    else:
        T, B = cache["fw"]["inner"].x.shape[:2]
        want = 2 * H if cache["merge"] == "concat" else H
        namespace(dy, cache["fw"]["inner"].x, names=["dy", "the layer's inputs"])
        check_shape("dy", dy, (("T", T), ("B", B), ("2H" if want == 2 * H else "H", want)))
        if cache["merge"] == "concat":
            dy_fw, dy_bw = dy[..., :H], dy[..., H:]
        else:
            dy_fw = dy_bw = dy
        dy_bw = reverse_padded(dy_bw, lengths)
    dx_fw, d0_fw, g_fw = _direction_backward(dy_fw, cache["fw"], ds_fw)
    dx_bw, d0_bw, g_bw = _direction_backward(dy_bw, cache["bw"], ds_bw)
    dx = dx_fw + reverse_padded(dx_bw, lengths)
    return dx, (d0_fw, d0_bw), {**with_prefix("fw.", g_fw), **with_prefix("bw.", g_bw)}


def _direction_backward(dy, cache, dstate):
    """One direction's backward; a direction that receives no gradient gets zeros."""
    if dy is None and dstate is None:
        ref = cache["inner"].states[0]
        dy = namespace(ref).zeros_like(ref)
    return recurrent_backward(dy, cache, dstate_T=dstate)
