"""A recurrent layer with Keras-style output flags (book chapter 3, "Input and output shapes").

One function runs a recurrent cell over a whole sequence and returns exactly
what a task's input/output shape needs:

======================  ====================  ===================================================
``return_sequences``    ``return_state``      returns
======================  ====================  ===================================================
``True`` (default)      ``False`` (default)   ``(out, cache)``, ``out = h_1..h_T``: (T, B, H)
``False``               ``False``             ``(out, cache)``, ``out = h_T``: (B, H)
``True``                ``True``              ``(out, state, cache)``, ``state = h_T``: (B, H)
``False``               ``True``              ``(out, state, cache)``, both h_T for an Elman cell
======================  ====================  ===================================================

* many-to-many aligned (tagging): ``return_sequences=True``, a loss at every step;
* many-to-one (classification): ``return_sequences=False``, a loss on the last output;
* encoder of an encoder-decoder: ``return_state=True``, the state initialises the decoder
  through the decoder's ``h0``;
* one-to-many (generation from one vector, e.g. captioning): :func:`one_to_many_inputs`
  turns a vector ``v`` (B, D) into an input sequence (T, B, D), fed at the first step
  only (``mode="first"``, zeros after) or at every step (``mode="repeat"``, Keras'
  ``RepeatVector``); ``recurrent_forward(one_to_many_inputs(v, T)[0], params)`` then
  generates T outputs, and :func:`one_to_many_inputs_backward` carries ``dx`` back to ``dv``.

The flags mean what ``return_sequences`` and ``return_state`` mean for a Keras
recurrent layer. The *output* and the *state* are different things in
general: for the Elman cell (equation ``rnn-state``) both are ``h_t``, for an
LSTM the state is the pair ``(h_t, c_t)`` and the output is ``h_t``. The
interface therefore speaks of ``out`` and ``state``, never of ``h``, so other
cells can be added behind it without changing callers.

Any of the cells runs behind the same interface (keyword-only
``cell="elman" | "lstm" | "gru" | "lnlstm"``, parameters as for
:func:`labrnn.cells.init_cell`),
and ``lengths=`` (B,) runs a padded batch of variable-length sequences
(chapter 10, equation ``masked-state``)::

    m_t = [t < length_b]
    s_t = m_t * cell(x_t, s_{t-1}) + (1 - m_t) * s_{t-1}      the state freezes after the end
    out_t = m_t * h_t                                         padded outputs are zero

Without ``lengths`` the cell's own sequence function runs (one GEMM for the
input projection); with ``lengths`` the cell's step functions are unrolled
with the mask. Padding then changes nothing: outputs, final states and
gradients of each sequence equal those of the sequence run alone.

Shapes (time-major, see :mod:`labrnn.shapes`): ``x: (T, B, D)``, ``h0: (B, H)``
(the pair ``(h0, c0)`` for the LSTM and the ln-LSTM), ``params`` as for
:func:`labrnn.elman.rnn_forward` (``W_xh (H, D)``, ``W_hh (H, H)``,
``b_h (H,)``), :func:`labrnn.lstm.lstm_forward`, :func:`labrnn.gru.gru_forward`
or :func:`labrnn.lnlstm.lnlstm_forward`.
All arrays share one namespace, device and float dtype; ``lengths`` is an
integer array.
"""

from __future__ import annotations

import numpy as np

from .backend import device_of, namespace
from .cells import CELLS, cell_variant
from .elman import (_check_rnn_params, rnn_backward, rnn_forward, rnn_step_backward,
                    rnn_step_forward)
from .gru import _check_gru_params, gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .lnlstm import (_check_lnlstm_params, lnlstm_backward, lnlstm_forward,
                     lnlstm_step_backward, lnlstm_step_forward)
from .lstm import (_check_lstm_params, lstm_backward, lstm_forward, lstm_step_backward,
                   lstm_step_forward)
from .errors import ShapeError
from .masking import check_lengths, sequence_mask
from .validate import check_finite, check_float, check_nonempty, check_shape

__all__ = ["recurrent_forward", "recurrent_backward", "ONE_TO_MANY_MODES",
           "one_to_many_inputs", "one_to_many_inputs_backward"]

ONE_TO_MANY_MODES = ("first", "repeat")

PAIR_STATE = ("lstm", "lnlstm")      # cells whose state is the pair (h, c)


def _check_flag(name, value):
    # Only real booleans: a string such as "False" is truthy and would silently
    # select the wrong output shape.
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, received {value!r} "
                        f"({type(value).__name__})")
    return bool(value)


def _check_cell(cell):
    if not isinstance(cell, str) or cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {list(CELLS)}")
    return cell


def _dims(cell, params, variant):
    """``(dtype, D, H)`` of a cell's parameters, checked by the cell's own module."""
    if cell == "elman":
        return _check_rnn_params(params)
    if cell == "lstm":
        return _check_lstm_params(params, **variant)
    if cell == "lnlstm":
        return _check_lnlstm_params(params)
    return _check_gru_params(params, **variant)


def _as_tuple(cell, state):
    """A cell's state as a tuple of arrays: ``(h,)``, or ``(h, c)`` for the (ln-)LSTM."""
    return tuple(state) if cell in PAIR_STATE else (state,)


def _from_tuple(cell, state):
    return tuple(state) if cell in PAIR_STATE else state[0]


def _step_forward(cell, x_t, state, params, activation, variant):
    if cell == "elman":
        h, cache = rnn_step_forward(x_t, state[0], params, activation)
        return (h,), cache
    if cell == "lstm":
        return lstm_step_forward(x_t, state, params, **variant)
    if cell == "lnlstm":
        return lnlstm_step_forward(x_t, state, params)
    h, cache = gru_step_forward(x_t, state[0], params, **variant)
    return (h,), cache


def _step_backward(cell, dstate, cache):
    if cell == "elman":
        dx, dh, grads = rnn_step_backward(dstate[0], cache)
        return dx, (dh,), grads
    if cell == "lstm":
        dx, dprev, grads = lstm_step_backward(dstate, cache)
        return dx, tuple(dprev), grads
    if cell == "lnlstm":
        dx, dprev, grads = lnlstm_step_backward(dstate, cache)
        return dx, tuple(dprev), grads
    dx, dh, grads = gru_step_backward(dstate[0], cache)
    return dx, (dh,), grads


def _masked_forward(cell, x, params, state0, mask, activation, variant, h_mask=None):
    """Unroll ``cell`` step by step with the mask (equation ``masked-state``).

    ``h_mask`` (B, H), optional: variational dropout of the recurrent input,
    the cell reads ``h_{t-1} * h_mask`` (the carried state is not dropped).
    """
    xp = namespace(x)
    state = state0
    outs, caches = [], []
    for t in range(x.shape[0]):
        s_in = state if h_mask is None else (state[0] * h_mask,) + tuple(state[1:])
        new, cache_t = _step_forward(cell, x[t, ...], s_in, params, activation, variant)
        m = mask[t, ...][:, None]                                   # (B, 1)
        state = tuple(m * n + (1.0 - m) * p for n, p in zip(new, state))
        outs.append(m * new[0])                                     # zero at padded steps
        caches.append(cache_t)
    return xp.stack(outs, axis=0), state, caches


def _masked_backward(cell, dh, dstate, cache):
    """BPTT through :func:`_masked_forward`; ``dh`` (T, B, H), ``dstate`` a tuple of (B, H)."""
    xp = namespace(dh)
    mask, caches = cache["mask"], cache["inner"]
    carry = dstate
    dxs = [None] * len(caches)
    grads = None
    for t in range(len(caches) - 1, -1, -1):
        m = mask[t, ...][:, None]
        dnew = tuple(m * (c + dh[t, ...]) if k == 0 else m * c for k, c in enumerate(carry))
        dxs[t], dprev, g = _step_backward(cell, dnew, caches[t])
        if cache["h_mask"] is not None:
            dprev = (dprev[0] * cache["h_mask"],) + tuple(dprev[1:])
        carry = tuple((1.0 - m) * c + d for c, d in zip(carry, dprev))
        grads = g if grads is None else {k: grads[k] + g[k] for k in grads}
    return xp.stack(dxs, axis=0), carry, grads


def recurrent_forward(x, params, h0=None, activation="tanh", return_sequences=True,
                      return_state=False, *, cell="elman", lengths=None, h_mask=None):
    """Run a recurrent layer over ``x`` and return what the flags ask for.

    Parameters
    ----------
    x : array (T, B, D)
        Input sequence, time-major (padded to the longest sequence when
        ``lengths`` is given).
    params : dict
        Parameters of the cell; for the Elman cell ``W_xh (H, D)``,
        ``W_hh (H, H)``, ``b_h (H,)``; for the LSTM and the GRU the fused
        ``W_x, W_h, b`` [+ ``w_ci, w_cf, w_co`` / ``b_hn``] of
        :func:`labrnn.init_lstm` / :func:`labrnn.init_gru` (the variant is read
        from the keys, see :func:`labrnn.cells.cell_variant`); for the ln-LSTM
        those of :func:`labrnn.init_lnlstm`. Extra keys such as an output
        layer's ``W_hy`` are ignored.
    h0 : optional
        Initial state in the cell's own form: an array (B, H) for the Elman
        cell and the GRU, the pair ``(h0, c0)`` for the (ln-)LSTM; zeros by
        default. An encoder's returned ``state`` goes here.
    activation : {"tanh", "relu", "sigmoid", "identity"}
        The state nonlinearity ``f`` of equation ``rnn-state`` (Elman only).
    return_sequences : bool, default True
        ``True``: the output at every step, shape ``(T, B, H)``.
        ``False``: only the output at the last step, shape ``(B, H)`` (with
        ``lengths``: each sequence's own last real step).
    return_state : bool, default False
        Also return the final state (``(B, H)``, or ``(h_T, c_T)`` for the
        (ln-)LSTM), to carry into another recurrent layer.
    cell : {"elman", "lstm", "gru", "lnlstm"}, keyword-only
    lengths : integer array (B,), keyword-only, optional
        True length of every sequence, each in ``[1, T]``. With it the state
        stops updating after a sequence's end and padded outputs are zero,
        equation ``masked-state``::

            m_t = [t < length_b]                      (B, 1)
            s_t = m_t * cell(x_t, s_{t-1}) + (1 - m_t) * s_{t-1}     every part of the state
            out_t = m_t * h_t^new

        so the final state is each sequence's state at its own last step and
        results (outputs, states, losses with a masked loss, gradients) equal
        those of each sequence run alone. Padded inputs get zero gradient.
    h_mask : array (B, H), keyword-only, optional
        Variational (recurrent) dropout mask, already scaled (entries 0 or
        ``1/(1-p)``, see :func:`labrnn.stacked.dropout_mask`): the cell reads
        ``h_{t-1} * h_mask`` at EVERY step (Gal & Ghahramani 2016); the
        carried and returned states are not dropped.

    Returns
    -------
    ``(out, cache)`` or, with ``return_state=True``, ``(out, state, cache)``.
    The cache (always last) is what :func:`recurrent_backward` needs.

    Examples
    --------
    >>> import numpy as np, labrnn
    >>> p = labrnn.init_elman(D=3, H=4, seed=0)
    >>> x = np.zeros((5, 2, 3))
    >>> out, cache = labrnn.recurrent_forward(x, p)
    >>> out.shape
    (5, 2, 4)
    >>> out, state, cache = labrnn.recurrent_forward(x, p, return_sequences=False,
    ...                                              return_state=True)
    >>> out.shape, state.shape
    ((2, 4), (2, 4))
    >>> q = labrnn.init_lstm(D=3, H=4, seed=0)
    >>> out, (h, c), cache = labrnn.recurrent_forward(x, q, cell="lstm", lengths=[5, 2],
    ...                                               return_state=True)
    >>> float(abs(out[2:, 1]).max())          # padded steps of sequence 1 output zeros
    0.0
    """
    return_sequences = _check_flag("return_sequences", return_sequences)
    return_state = _check_flag("return_state", return_state)
    cell = _check_cell(cell)
    variant = cell_variant(cell, params)
    base = {"cell": cell, "return_sequences": return_sequences,
            "return_state": return_state, "activation": activation}
    if lengths is None and h_mask is not None:
        lengths = [x.shape[0]] * x.shape[1]          # the step path, every step real
    if lengths is None:
        if cell == "elman":
            hseq, inner = rnn_forward(x, params, h0, activation)
            state = hseq[-1, ...]
        elif cell == "lstm":
            hseq, state, inner = lstm_forward(x, params, h0, **variant)
        elif cell == "lnlstm":
            hseq, state, inner = lnlstm_forward(x, params, h0)
        else:
            hseq, inner = gru_forward(x, params, h0, **variant)
            state = hseq[-1, ...]
        cache = {**base, "inner": inner, "mask": None, "ref": hseq, "h_mask": None}
        last = hseq[-1, ...]
    else:
        dtype, D, H = _dims(cell, params, variant)
        xp = namespace(x, params["W_xh" if cell == "elman" else "W_x"],
                       names=["x", "params"])
        check_float("x", x, dtype)
        T, B, _ = check_shape("x", x, (("T", None), ("B", None), ("D", D)))
        check_nonempty("x", x)
        check_finite("x", x, "clean the data (NaN or inf in the inputs would spread to every "
                             "state; pad with zeros)")
        lengths = check_lengths(lengths, T, B, x)
        mask = xp.astype(sequence_mask(lengths, T), dtype)
        if h0 is None:
            zeros = xp.zeros((B, H), dtype=dtype, device=device_of(x))
            state0 = (zeros, zeros) if cell in PAIR_STATE else (zeros,)
        else:
            state0 = _as_tuple(cell, h0)
        if h_mask is not None:
            namespace(h_mask, x, names=["h_mask", "x"])
            check_float("h_mask", h_mask, dtype)
            check_shape("h_mask", h_mask, (("B", B), ("H", H)))
        hseq, state_t, inner = _masked_forward(cell, x, params, state0, mask, activation,
                                               variant, h_mask)
        state = _from_tuple(cell, state_t)
        last = state_t[0]
        cache = {**base, "inner": inner, "mask": mask, "ref": hseq, "h_mask": h_mask}
    out = hseq if return_sequences else last
    if return_state:
        return out, state, cache
    return out, cache


def recurrent_backward(dout, cache, dstate=None):
    """Backward of :func:`recurrent_forward` (backpropagation through time, chapter 4).

    Parameters
    ----------
    dout : array or None
        Gradient of the loss with respect to ``out``: shape ``(T, B, H)`` if
        the forward pass had ``return_sequences=True``, ``(B, H)`` otherwise.
        ``None`` means the loss did not use ``out`` (e.g. an encoder whose
        only link to the loss is its state).
    cache : from :func:`recurrent_forward`
    dstate : optional
        Gradient with respect to the returned ``state``, in the cell's form
        (``(B, H)``, or the pair ``(dh_T, dc_T)`` for the (ln-)LSTM, either entry
        may be ``None``). Only allowed when the forward pass had
        ``return_state=True``.

    Returns
    -------
    dx : array (T, B, D) (zero at padded steps when ``lengths`` was given)
    dh0 : gradient with respect to the initial state, in the cell's form
    grads : dict with one gradient per parameter (``W_xh, W_hh, b_h`` for the
        Elman cell, ``W_x, W_h, b`` [...] for the gated cells)
    """
    if not (isinstance(cache, dict) and cache.get("cell") in CELLS and "ref" in cache):
        raise TypeError("cache must be the last value returned by recurrent_forward")
    if dout is None and dstate is None:
        raise ValueError("nothing to backpropagate: dout and dstate are both None")
    cell = cache["cell"]
    hseq = cache["ref"]
    T, B, H = hseq.shape
    xp = namespace(hseq)
    parts = 2 if cell in PAIR_STATE else 1
    dparts = [None] * parts
    if dstate is not None:
        if not cache["return_state"]:
            raise ValueError("dstate was given, but the forward pass had return_state=False, "
                             "so no state was returned to receive a gradient; call "
                             "recurrent_forward(..., return_state=True)")
        if cell in PAIR_STATE:
            if not isinstance(dstate, (tuple, list)) or len(dstate) != 2:
                raise TypeError("dstate of an LSTM layer must be the pair (dh_T, dc_T) (either "
                                f"may be None), received a {type(dstate).__name__}")
            names = ["dstate[0] (dh_T)", "dstate[1] (dc_T)"]
            items = list(dstate)
        else:
            names, items = ["dstate"], [dstate]
        for k, (name, d) in enumerate(zip(names, items)):
            if d is None:
                continue
            namespace(d, hseq, names=[name, "the layer's states"])
            check_float(name, d, hseq.dtype)
            check_shape(name, d, (("B", B), ("H", H)))
            dparts[k] = d
    if dout is not None:
        namespace(dout, hseq, names=["dout", "the layer's outputs"])
        check_float("dout", dout, hseq.dtype)
        flag = f"return_sequences={cache['return_sequences']}"
        if cache["return_sequences"]:
            expected = (("T", T), ("B", B), ("H", H))
        else:
            expected = (("B", B), ("H", H))
        try:
            check_shape("dout", dout, expected)
        except ValueError as exc:
            raise type(exc)(f"{exc} (the forward pass had {flag})") from None
    # The final h receives the gradient of the state and, without
    # return_sequences, of the output too: both are the last h.
    dh = dout if (dout is not None and cache["return_sequences"]) else xp.zeros_like(hseq)
    if dout is not None and not cache["return_sequences"]:
        dparts[0] = dout if dparts[0] is None else dparts[0] + dout
    if cache["mask"] is not None:
        carry = tuple(xp.zeros_like(hseq[0, ...]) if d is None else d for d in dparts)
        dx, dstate0, grads = _masked_backward(cell, dh, carry, cache)
        return dx, _from_tuple(cell, dstate0), grads
    if cell == "elman":
        return rnn_backward(dh, cache["inner"], dh_T=dparts[0])
    if cell == "lstm":
        dstate_T = None if all(d is None for d in dparts) else tuple(dparts)
        return lstm_backward(dh, cache["inner"], dstate_T=dstate_T)
    if cell == "lnlstm":
        dstate_T = None if all(d is None for d in dparts) else tuple(dparts)
        return lnlstm_backward(dh, cache["inner"], dstate_T=dstate_T)
    return gru_backward(dh, cache["inner"], dh_T=dparts[0])


def one_to_many_inputs(v, T, mode="first"):
    """The input sequence of a one-to-many network: one vector ``v`` starts generation.

    Parameters
    ----------
    v : float array (B, D)
        One input vector per sequence (an image feature, a class embedding, ...).
    T : int >= 1
        Number of steps to generate.
    mode : {"first", "repeat"}
        ``"first"``: ``x_1 = v`` and ``x_t = 0`` for ``t > 1`` (the vector
        starts generation, as in image captioning); ``"repeat"``: ``x_t = v``
        at every step (Keras' ``RepeatVector``).

    Returns
    -------
    ``(x, cache)``: ``x`` (T, B, D) in ``v``'s namespace, device and dtype, to
    pass to :func:`recurrent_forward`; ``cache`` for :func:`one_to_many_inputs_backward`.
    """
    if mode not in ONE_TO_MANY_MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {list(ONE_TO_MANY_MODES)}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1 (the number of steps to generate), "
                         f"received {T!r}")
    xp = namespace(v)
    if v.ndim != 2:
        raise ShapeError(f"v must have shape (B, D), one input vector per sequence, received "
                         f"{tuple(v.shape)}; for a single vector use v[None, :]")
    check_float("v", v, v.dtype)
    T = int(T)
    if mode == "repeat":
        x = xp.stack([v] * T, axis=0)
    else:
        rest = xp.zeros((T - 1,) + tuple(v.shape), dtype=v.dtype, device=device_of(v))
        x = xp.concat([v[None, ...], rest], axis=0)
    return x, {"layer": "one_to_many", "mode": mode, "shape": (T,) + tuple(v.shape)}


def one_to_many_inputs_backward(dx, cache):
    """Backward of :func:`one_to_many_inputs`: ``dx`` (T, B, D) -> ``dv`` (B, D).

    ``dv = dx_1`` for ``mode="first"`` and ``dv = sum_t dx_t`` for ``mode="repeat"``.
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "one_to_many"):
        raise TypeError("cache must be the last value returned by one_to_many_inputs")
    xp = namespace(dx)
    T, B, D = cache["shape"]
    check_shape("dx", dx, (("T", T), ("B", B), ("D", D)))
    if cache["mode"] == "repeat":
        return xp.sum(dx, axis=0)
    return dx[0, ...]
