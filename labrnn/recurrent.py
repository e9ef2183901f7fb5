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
  through the decoder's ``h0``.

The flags mean what ``return_sequences`` and ``return_state`` mean for a Keras
recurrent layer. The *output* and the *state* are different things in
general: for the Elman cell (equation ``rnn-state``) both are ``h_t``, for an
LSTM the state is the pair ``(h_t, c_t)`` and the output is ``h_t``. The
interface therefore speaks of ``out`` and ``state``, never of ``h``, so other
cells can be added behind it without changing callers.

Shapes (time-major, see :mod:`labrnn.shapes`): ``x: (T, B, D)``, ``h0: (B, H)``,
``params`` as for :func:`labrnn.elman.rnn_forward` (``W_xh (H, D)``,
``W_hh (H, H)``, ``b_h (H,)``). All arrays share one namespace, device and
float dtype.
"""

from __future__ import annotations

import numpy as np

from .backend import namespace
from .elman import rnn_backward, rnn_forward
from .validate import check_float, check_shape

__all__ = ["recurrent_forward", "recurrent_backward"]


def _check_flag(name, value):
    # Only real booleans: a string such as "False" is truthy and would silently
    # select the wrong output shape.
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, received {value!r} "
                        f"({type(value).__name__})")
    return bool(value)


def recurrent_forward(x, params, h0=None, activation="tanh", return_sequences=True,
                      return_state=False):
    """Run a recurrent layer over ``x`` and return what the flags ask for.

    Parameters
    ----------
    x : array (T, B, D)
        Input sequence, time-major.
    params : dict
        Parameters of the cell; for the Elman cell ``W_xh (H, D)``,
        ``W_hh (H, H)``, ``b_h (H,)`` (extra keys such as an output layer's
        ``W_hy`` are ignored).
    h0 : array (B, H), optional
        Initial state; zeros by default. An encoder's returned ``state`` goes here.
    activation : {"tanh", "relu", "sigmoid", "identity"}
        The state nonlinearity ``f`` of equation ``rnn-state``.
    return_sequences : bool, default True
        ``True``: the output at every step, shape ``(T, B, H)``.
        ``False``: only the output at the last step, shape ``(B, H)``.
    return_state : bool, default False
        Also return the final state (shape ``(B, H)`` for the Elman cell),
        to carry into another recurrent layer.

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
    """
    return_sequences = _check_flag("return_sequences", return_sequences)
    return_state = _check_flag("return_state", return_state)
    hseq, rnn_cache = rnn_forward(x, params, h0, activation)
    state = hseq[-1, ...]
    out = hseq if return_sequences else state
    cache = {"cell": "elman", "return_sequences": return_sequences,
             "return_state": return_state, "inner": rnn_cache}
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
    dstate : array (B, H), optional
        Gradient with respect to the returned ``state`` (e.g. the ``dh0`` a
        decoder passed back). Only allowed when the forward pass had
        ``return_state=True``.

    Returns
    -------
    dx : array (T, B, D)
    dh0 : array (B, H), gradient with respect to the initial state
    grads : dict with one gradient per parameter (``W_xh, W_hh, b_h``)
    """
    if not (isinstance(cache, dict) and cache.get("cell") == "elman"):
        raise TypeError("cache must be the last value returned by recurrent_forward")
    if dout is None and dstate is None:
        raise ValueError("nothing to backpropagate: dout and dstate are both None")
    hseq = cache["inner"][2]
    T, B, H = hseq.shape
    xp = namespace(hseq)
    if dstate is not None:
        if not cache["return_state"]:
            raise ValueError("dstate was given, but the forward pass had return_state=False, "
                             "so no state was returned to receive a gradient; call "
                             "recurrent_forward(..., return_state=True)")
        namespace(dstate, hseq, names=["dstate", "the layer's states"])
        check_float("dstate", dstate, hseq.dtype)
        check_shape("dstate", dstate, (("B", B), ("H", H)))
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
    # The final state h_T receives the gradient of the state and, without
    # return_sequences, of the output too: both are h_T.
    dh = dout if (dout is not None and cache["return_sequences"]) else xp.zeros_like(hseq)
    dh_T = dstate
    if dout is not None and not cache["return_sequences"]:
        dh_T = dout if dh_T is None else dh_T + dout
    return rnn_backward(dh, cache["inner"], dh_T=dh_T)
