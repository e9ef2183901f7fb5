"""A recurrent layer with Keras-style output flags (book chapter 3, "Input and output shapes").

One function runs a recurrent cell over a whole sequence and returns exactly
what a task's input/output shape needs:

======================  ====================  ===================================================
``return_sequences``    ``return_state``      returns
======================  ====================  ===================================================
``True`` (default)      ``False`` (default)   ``(out, cache)``, ``out = h_1..h_T``: (T, B, H)
``False``               ``False``             ``(out, cache)``, ``out = h_T``: (B, H)
``True``                ``True``              ``(out, state, cache)``, ``state = (h_T,)``
``False``               ``True``              ``(out, state, cache)``, ``out = h_T``, ``state = (h_T,)``
======================  ====================  ===================================================

* many-to-many aligned (tagging): ``return_sequences=True``, a loss at every step;
* many-to-one (classification): ``return_sequences=False``, a loss on the last output;
* encoder of an encoder-decoder: ``return_state=True``, the state initialises the decoder
  through the decoder's ``state0``;
* one-to-many (generation from one vector, e.g. captioning): :func:`one_to_many_inputs`
  turns a vector ``v`` (B, D) into an input sequence (T, B, D), fed at the first step
  only (``mode="first"``, zeros after) or at every step (``mode="repeat"``, Keras'
  ``RepeatVector``); ``recurrent_forward(one_to_many_inputs(v, T)[0], params)`` then
  generates T outputs, and :func:`one_to_many_inputs_backward` carries ``dx`` back to ``dv``.

The flags mean what ``return_sequences`` and ``return_state`` mean for a Keras
recurrent layer. The *output* and the *state* are different things in
general: for the Elman cell (equation ``rnn-state``) the state is ``(h_t,)``, for
an LSTM it is the pair ``(h_t, c_t)``, and the output is ``h_t`` for both. The
state is always a tuple (:mod:`labrnn.cells`), so the interface speaks of ``out``
and ``state``, never of ``h``, and any registered cell runs behind it.

Any registered cell runs behind the same interface (keyword-only
``cell="elman" | "lstm" | "gru" | "lnlstm"`` or a cell of your own, parameters as
for :func:`labrnn.cells.init_cell`), and ``lengths=`` (B,) runs a padded batch of
variable-length sequences (chapter 10, equation ``masked-state``)::

    m_t = [t < length_b]
    s_t = m_t * cell(x_t, s_{t-1}) + (1 - m_t) * s_{t-1}      the state freezes after the end
    out_t = m_t * h_t                                         padded outputs are zero

Padding then changes nothing: outputs, final states and gradients of each
sequence equal those of the sequence run alone. Both run in the one time loop
of :mod:`labrnn.cells.base`.

Shapes (time-major, see :mod:`labrnn.shapes`): ``x: (T, B, D)``, ``state0`` a
tuple ``(h0,)`` (the pair ``(h0, c0)`` for the LSTM and the ln-LSTM) of ``(B, H)``
arrays, ``params`` as for :func:`labrnn.rnn_forward` (``W_xh (H, D)``,
``W_hh (H, H)``, ``b_h (H,)``), :func:`labrnn.lstm_forward`,
:func:`labrnn.gru_forward` or :func:`labrnn.lnlstm_forward`.
All arrays share one namespace, device and float dtype; ``lengths`` is an
integer array.
"""

from __future__ import annotations

import numpy as np

from ..backend import device_of, namespace
from ..cells import as_state, get_cell
from ..errors import ShapeError
from ..validate import check_bool, check_float, check_shape

__all__ = ["recurrent_forward", "recurrent_backward", "ONE_TO_MANY_MODES",
           "one_to_many_inputs", "one_to_many_inputs_backward"]

ONE_TO_MANY_MODES = ("first", "repeat")


def recurrent_forward(x, params, state0=None, lengths=None, *, cell="elman", activation=None,
                      return_sequences=True, return_state=False, h_mask=None):
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
    state0 : tuple, optional
        Initial state, a tuple of (B, H) arrays: ``(h0,)`` for the Elman cell and
        the GRU, ``(h0, c0)`` for the (ln-)LSTM; zeros by default. An encoder's
        returned ``state`` goes here.
    lengths : integer array (B,), optional
        True length of every sequence, each in ``[1, T]``. With it the state
        stops updating after a sequence's end and padded outputs are zero,
        equation ``masked-state``::

            m_t = [t < length_b]                      (B, 1)
            s_t = m_t * cell(x_t, s_{t-1}) + (1 - m_t) * s_{t-1}     every part of the state
            out_t = m_t * h_t^new

        so the final state is each sequence's state at its own last step and
        results (outputs, states, losses with a masked loss, gradients) equal
        those of each sequence run alone. Padded inputs get zero gradient.
    cell : str or Cell, keyword-only
        ``"elman"`` (default), ``"lstm"``, ``"gru"``, ``"lnlstm"`` or any registered cell.
    activation : {"tanh", "relu", "sigmoid", "identity"}, keyword-only
        The state nonlinearity ``f`` of equation ``rnn-state`` (Elman only; default tanh).
    return_sequences : bool, default True
        ``True``: the output at every step, shape ``(T, B, H)``.
        ``False``: only the output at the last step, shape ``(B, H)`` (with
        ``lengths``: each sequence's own last real step).
    return_state : bool, default False
        Also return the final state (a tuple like ``state0``), to carry into
        another recurrent layer.
    h_mask : array (B, H), keyword-only, optional
        Variational (recurrent) dropout mask, already scaled (entries 0 or
        ``1/(1-p)``, see :func:`labrnn.models.stacked.dropout_mask`): the cell reads
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
    >>> out, (h,), cache = labrnn.recurrent_forward(x, p, return_sequences=False,
    ...                                             return_state=True)
    >>> out.shape, h.shape
    ((2, 4), (2, 4))
    >>> q = labrnn.init_lstm(D=3, H=4, seed=0)
    >>> out, (h, c), cache = labrnn.recurrent_forward(x, q, cell="lstm", lengths=[5, 2],
    ...                                               return_state=True)
    >>> float(abs(out[2:, 1]).max())          # padded steps of sequence 1 output zeros
    0.0
    """
    return_sequences = check_bool("return_sequences", return_sequences)
    return_state = check_bool("return_state", return_state)
    c = get_cell(cell)
    options = {} if activation is None else {"activation": activation}
    out, state, inner = c.forward(x, params, state0, lengths, h_mask=h_mask, **options)
    cache = {"layer": "recurrent", "inner": inner, "return_sequences": return_sequences,
             "return_state": return_state}
    if not return_sequences:
        out = state[0]                       # each sequence's own last real step
    if return_state:
        return out, state, cache
    return out, cache


def recurrent_backward(dout, cache, dstate_T=None):
    """Backward of :func:`recurrent_forward` (backpropagation through time, chapter 4).

    Parameters
    ----------
    dout : array or None
        Gradient of the loss with respect to ``out``: shape ``(T, B, H)`` if
        the forward pass had ``return_sequences=True``, ``(B, H)`` otherwise.
        ``None`` means the loss did not use ``out`` (e.g. an encoder whose
        only link to the loss is its state).
    cache : from :func:`recurrent_forward`
    dstate_T : tuple, optional
        Gradient with respect to the returned ``state``, a tuple like it (entries
        may be ``None`` for zero). Only allowed when the forward pass had
        ``return_state=True``.

    Returns
    -------
    dx : array (T, B, D) (zero at padded steps when ``lengths`` was given)
    dstate0 : gradient with respect to the initial state, a tuple like it
    grads : dict with one gradient per parameter (``W_xh, W_hh, b_h`` for the
        Elman cell, ``W_x, W_h, b`` [...] for the gated cells)
    """
    if not (isinstance(cache, dict) and cache.get("layer") == "recurrent"):
        raise TypeError("cache must be the last value returned by recurrent_forward")
    if dout is None and dstate_T is None:
        raise ValueError("nothing to backpropagate: dout and dstate_T are both None")
    inner = cache["inner"]
    c = inner.cell
    if dstate_T is not None and not cache["return_state"]:
        raise ValueError("dstate_T was given, but the forward pass had return_state=False, "
                         "so no state was returned to receive a gradient; call "
                         "recurrent_forward(..., return_state=True)")
    T, B, _ = inner.x.shape
    H = inner.states[0].shape[-1]
    if cache["return_sequences"] or dout is None:
        try:
            return c.backward(dout, inner, dstate_T)
        except ShapeError as exc:
            if not str(exc).startswith("dout "):
                raise
            raise ShapeError(f"{exc} (the forward pass had return_sequences=True)") from None
    # Without return_sequences ``out`` is the final h: its gradient joins dstate_T's.
    namespace(dout, inner.x, names=["dout", "the layer's inputs"])
    check_float("dout", dout, inner.x.dtype)
    try:
        check_shape("dout", dout, (("B", B), ("H", H)))
    except ShapeError as exc:
        raise ShapeError(f"{exc} (the forward pass had return_sequences=False)") from None
    dT = (None,) * len(c.state_names) if dstate_T is None else \
        as_state(c, "dstate_T", dstate_T, B, H, inner.x.dtype, inner.x)
    return c.backward(None, inner, ((dout if dT[0] is None else dT[0] + dout),) + dT[1:])


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
