"""Bidirectional recurrent layer (book chapter 9).

Two independent recurrent layers read the sequence in opposite directions;
their outputs at each step are merged, equation ``bidir-merge``::

    ->h_t = cell_fw(x_t, ->h_{t-1})              t = 1 .. L_b          forward direction
    <-h_t = cell_bw(x_t, <-h_{t+1})              t = L_b .. 1          backward direction
    y_t   = [->h_t ; <-h_t]   (merge="concat", 2H)   or   ->h_t + <-h_t   (merge="sum", H)

With ``lengths`` the backward direction starts at each sequence's OWN end
``L_b``, not at the padded end ``T``: it reads :func:`labrnn.masking.reverse_padded`
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

from .backend import namespace
from .cells import init_cell
from .masking import check_lengths, reverse_padded
from .paramtree import subparams, with_prefix
from .recurrent import recurrent_backward, recurrent_forward

__all__ = ["MERGES", "init_bidirectional", "bidirectional_forward", "bidirectional_backward"]

MERGES = ("concat", "sum")


def init_bidirectional(cell, D, H, seed=0, xp=None, device=None, dtype="float64", **init_kw):
    """Parameters ``fw.*`` and ``bw.*`` of a bidirectional layer (two different seeds' streams)."""
    kw = dict(xp=xp, device=device, dtype=dtype, **init_kw)
    return {**with_prefix("fw.", init_cell(cell, D, H, seed=[seed, 0], **kw)),
            **with_prefix("bw.", init_cell(cell, D, H, seed=[seed, 1], **kw))}


def _check_merge(merge):
    if merge not in MERGES:
        raise ValueError(f"unknown merge {merge!r}; choose one of {list(MERGES)}")
    return merge


def bidirectional_forward(x, params, *, cell="elman", lengths=None, merge="concat", h0=None,
                          activation="tanh", return_sequences=True, return_state=False,
                          h_masks=None):
    """Run both directions over ``x`` (T, B, D) and merge them (equation ``bidir-merge``).

    Parameters
    ----------
    x : array (T, B, D)
    params : dict with ``fw.*`` and ``bw.*`` cell parameters
    cell : {"elman", "lstm", "gru"}
    lengths : integer array (B,), optional; each sequence's true length
    merge : {"concat", "sum"}
    h0 : pair ``(state0_fw, state0_bw)``, optional, each in the cell's form
    return_sequences : bool
        ``True``: ``y`` (T, B, 2H or H). ``False``: the merge of the forward
        direction's last output (at ``L_b``) and the backward direction's
        last output (at step 1), shape (B, 2H or H) -- a sequence summary.
    return_state : bool
        Also return ``(state_fw, state_bw)``, each direction's final state.
    h_masks : pair ``(h_mask_fw, h_mask_bw)``, optional
        Variational recurrent dropout masks (B, H) of each direction, see
        :func:`labrnn.recurrent.recurrent_forward` (either may be ``None``).

    Returns
    -------
    ``(y, cache)`` or ``(y, (state_fw, state_bw), cache)``.
    """
    merge = _check_merge(merge)
    p_fw, p_bw = subparams(params, "fw."), subparams(params, "bw.")
    s_fw, s_bw = (None, None) if h0 is None else h0
    xp = namespace(x)
    if lengths is not None:
        lengths = check_lengths(lengths, x.shape[0], x.shape[1], x)
    m_fw, m_bw = (None, None) if h_masks is None else h_masks
    kw = dict(cell=cell, lengths=lengths, return_sequences=return_sequences, return_state=True)
    y_fw, st_fw, c_fw = recurrent_forward(x, p_fw, s_fw, activation, h_mask=m_fw, **kw)
    x_rev = reverse_padded(x, lengths)
    y_bw, st_bw, c_bw = recurrent_forward(x_rev, p_bw, s_bw, activation, h_mask=m_bw, **kw)
    if return_sequences:
        y_bw = reverse_padded(y_bw, lengths)
    y = xp.concat([y_fw, y_bw], axis=-1) if merge == "concat" else y_fw + y_bw
    cache = {"layer": "bidirectional", "merge": merge, "lengths": lengths,
             "return_sequences": return_sequences, "return_state": return_state,
             "H": y_fw.shape[-1], "fw": c_fw, "bw": c_bw}
    if return_state:
        return y, (st_fw, st_bw), cache
    return y, cache


def bidirectional_backward(dy, cache, dstate=None):
    """Backward of :func:`bidirectional_forward`.

    ``dy`` like ``y`` (or ``None`` when only the states reach the loss);
    ``dstate`` the pair ``(dstate_fw, dstate_bw)`` (either may be ``None``),
    only with ``return_state=True``. Returns ``(dx, (dstate0_fw, dstate0_bw),
    grads)`` with ``grads`` keyed ``fw.*`` / ``bw.*`` like the parameters.
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "bidirectional"):
        raise TypeError("cache must be the last value returned by bidirectional_forward")
    if dstate is not None and not cache["return_state"]:
        raise ValueError("dstate was given, but the forward pass had return_state=False")
    ds_fw, ds_bw = (None, None) if dstate is None else dstate
    H, lengths = cache["H"], cache["lengths"]
    if dy is None:
        dy_fw = dy_bw = None
    elif cache["merge"] == "concat":
        if dy.shape[-1] != 2 * H:
            raise ValueError(f"dy must have 2H={2 * H} features (merge='concat'), received "
                             f"shape {tuple(dy.shape)}")
        dy_fw, dy_bw = dy[..., :H], dy[..., H:]
    else:
        dy_fw = dy_bw = dy
    if dy_bw is not None and cache["return_sequences"]:
        dy_bw = reverse_padded(dy_bw, lengths)
    if dy is None and ds_fw is None and ds_bw is None:
        raise ValueError("nothing to backpropagate: dy and dstate are both None")
    dx_fw, d0_fw, g_fw = _direction_backward(dy_fw, cache["fw"], ds_fw)
    dx_bw, d0_bw, g_bw = _direction_backward(dy_bw, cache["bw"], ds_bw)
    dx = dx_fw + reverse_padded(dx_bw, lengths)
    return dx, (d0_fw, d0_bw), {**with_prefix("fw.", g_fw), **with_prefix("bw.", g_bw)}


def _direction_backward(dy, cache, dstate):
    """One direction's backward; a direction that receives no gradient gets zeros."""
    if dy is None and dstate is None:
        xp = namespace(cache["ref"])
        dy = xp.zeros_like(cache["ref"] if cache["return_sequences"] else cache["ref"][0, ...])
    return recurrent_backward(dy, cache, dstate=dstate)
