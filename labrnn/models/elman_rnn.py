"""Thin model classes: a dict of named parameters plus the functional core."""

from __future__ import annotations

from ..cells.elman import elman_param_count, init_elman, rnn_backward, rnn_forward
from ..layers.affine import affine_backward, affine_forward
from ..training.loops import sequence_loss_and_grads


class ElmanRNN:
    """An Elman RNN with an affine output layer (book equations ``rnn-state``, ``rnn-output``).

    ``params`` is a dict ``W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,)``.
    ``forward`` returns the output pre-activations ``z`` (T, B, O), the states
    ``h`` (T, B, H) and a cache; ``backward`` turns ``dz`` into gradients.
    """

    def __init__(self, input_size, hidden_size, output_size, activation="tanh",
                 W_hh="orthogonal", seed=0, xp=None, device=None, dtype="float64", **init_kw):
        self.activation = activation
        self.sizes = (input_size, hidden_size, output_size)
        self.params = init_elman(input_size, hidden_size, output_size, seed=seed, W_hh=W_hh,
                                 xp=xp, device=device, dtype=dtype, **init_kw)

    @property
    def n_params(self):
        return elman_param_count(*self.sizes)

    def forward(self, x, h0=None):
        p = self.params
        h, _, rnn_cache = rnn_forward(x, p, None if h0 is None else (h0,),
                                      activation=self.activation)
        z, out_cache = affine_forward(h, p["W_hy"], p["b_y"])
        return z, h, (rnn_cache, out_cache)

    def backward(self, dz, cache):
        rnn_cache, out_cache = cache
        dh, dW_hy, db_y = affine_backward(dz, out_cache)
        dx, (dh0,), grads = rnn_backward(dh, rnn_cache)
        grads.update(W_hy=dW_hy, b_y=db_y)
        return dx, dh0, grads

    def loss_and_grads(self, x, targets, loss="cross_entropy", h0=None, mask=None,
                       many_to_one=False):
        """See :func:`labrnn.training.loops.sequence_loss_and_grads`."""
        return sequence_loss_and_grads(self.params, x, targets, loss, h0, mask,
                                       self.activation, many_to_one)

    def __repr__(self):
        D, H, O = self.sizes
        return f"ElmanRNN(D={D}, H={H}, O={O}, activation={self.activation!r}, params={self.n_params})"
