"""Loss and gradients of a whole Elman network, and truncated BPTT (book chapters 4, 5).

The network is the recurrence of :mod:`labrnn.cells.elman` followed by the affine
output layer ``z_t = W_hy h_t + b_y`` and a loss on ``z_t``:

* ``"cross_entropy"``: softmax output, integer targets ``(T, B)``;
* ``"bce"``: sigmoid output, targets in [0, 1] of shape ``(T, B, O)``;
* ``"mse"``: identity output, real targets ``(T, B, O)``.

With ``many_to_one=True`` only the last state is read out and the targets
drop their time axis (``(B,)`` or ``(B, O)``).
"""

from __future__ import annotations

from ..backend import namespace
from ..cells.elman import rnn_backward, rnn_forward
from ..layers.affine import affine_backward, affine_forward
from .losses import binary_cross_entropy, mean_squared_error, softmax_cross_entropy
from .optim import clip_by_global_norm

LOSSES = {"cross_entropy": softmax_cross_entropy, "bce": binary_cross_entropy,
          "mse": mean_squared_error}


def loss_function(name):
    """The loss named ``name`` (a key of ``LOSSES``): a function ``(z, targets, mask) -> (loss, dz)``."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


def sequence_loss_and_grads(params, x, targets, loss="cross_entropy", h0=None, mask=None,
                            activation="tanh", many_to_one=False):
    """Forward, loss and full BPTT for an Elman network with an output layer.

    ``params`` holds ``W_xh, W_hh, b_h, W_hy, b_y``. Returns
    ``(loss, grads, h_T, dh0)``: the loss as a float, a dict of gradients for
    every parameter, the final hidden state (to carry into the next chunk) and
    the gradient with respect to ``h0``.
    """
    lossf = loss_function(loss)
    if "W_hy" not in params or "b_y" not in params:
        raise KeyError("params needs an output layer (W_hy, b_y): create it with "
                       "init_elman(D, H, O, ...)")
    h, _, cache = rnn_forward(x, params, None if h0 is None else (h0,), activation=activation)
    xp = namespace(h)
    read = h[-1, ...] if many_to_one else h
    z, out_cache = affine_forward(read, params["W_hy"], params["b_y"])
    value, dz = lossf(z, targets, mask)
    dread, dW_hy, db_y = affine_backward(dz, out_cache)
    if many_to_one:
        dh = xp.zeros_like(h)
        dh = xp.concat([dh[:-1, ...], dread[None, ...]], axis=0)
    else:
        dh = dread
    _, (dh0,), grads = rnn_backward(dh, cache)
    grads["W_hy"], grads["b_y"] = dW_hy, db_y
    return float(value), grads, h[-1, ...], dh0


def truncated_bptt(params, x, targets, chunk, optimizer=None, loss="cross_entropy", h0=None,
                   activation="tanh", max_norm=None):
    """Truncated BPTT: walk the sequence in chunks of ``chunk`` steps.

    The hidden state is carried from one chunk into the next (the forward pass
    sees the whole past) but no gradient flows back across a chunk boundary
    (the backward pass sees at most ``chunk`` steps). With an ``optimizer`` the
    parameters are updated after every chunk (clipped to ``max_norm`` if given).

    Returns ``(losses, grads, h_T)``: the loss of every chunk, the sum over
    chunks of the truncated gradients (meaningful without an optimizer; with a
    single chunk covering the sequence it equals full BPTT), and the final state.
    """
    T = x.shape[0]
    if isinstance(chunk, bool) or not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk must be a positive int, received {chunk!r}")
    losses, total, h = [], None, h0
    for start in range(0, T, chunk):
        sl = slice(start, min(start + chunk, T))
        value, grads, h, _ = sequence_loss_and_grads(params, x[sl, ...], targets[sl, ...], loss,
                                                     h, None, activation)
        losses.append(value)
        total = grads if total is None else {k: total[k] + grads[k] for k in total}
        if optimizer is not None:
            if max_norm is not None:
                grads, _ = clip_by_global_norm(grads, max_norm)
            optimizer.step(params, grads)
    return losses, total, h
