"""labrnn: recurrent neural networks from first principles.

The companion package of the course book. Every function is written against the
Python array API (through ``array-api-compat``), so the same code runs on NumPy,
CuPy or any other conforming library.

Shape convention (stated once, used everywhere; see :mod:`labrnn.shapes`):
sequences are **time-major**, ``x`` has shape ``(T, B, D)``; states have shape
``(B, H)``; weight matrices are stored in the book's orientation
``W_xh: (H, D)``, ``W_hh: (H, H)``, ``W_hy: (O, H)``, so that the equation
``h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)`` reads, for a batch of row vectors,
``h_t = f(h_{t-1} @ W_hh.T + x_t @ W_xh.T + b_h)``.

Scalar results (stated once): every loss (:mod:`labrnn.training.losses`, :func:`labrnn.ctc_loss`
with a reducing ``reduction``), :func:`global_norm` and the norm returned by
:func:`clip_by_global_norm` is a 0-d array of the input's namespace, on its device
(on NumPy a ``numpy.float64``, which is also a Python float); ``float(x)`` converts it.
Masks (stated once, see :mod:`labrnn.layers.masking`): a mask covers the leading axes of the
data, ``(T, B)`` for a padded batch, boolean or exactly 0/1 (``True``/1 = a real step);
the losses and attention take it as ``mask``, the recurrent layers take the ``lengths``
it is built from (:func:`sequence_mask`). Bad input raises at the public entry, with a
message naming the argument, what it received and what was expected (:mod:`labrnn.validate`).
"""

from .errors import ShapeError, DTypeError, DeviceError, NonFiniteError, ArgumentTypeError
from .backend import namespace, device_of, to_numpy, from_numpy, host_rng, move
from .layers.activations import (
    tanh, sigmoid, relu, identity, softmax, log_softmax, activation, ACTIVATIONS,
)
from .layers.affine import affine_forward, affine_backward
from . import cells
from .cells import (Cell, CELLS, get_cell, register_cell, init_cell, cell_forward, cell_backward,
                    cell_param_count, cell_variant)
from .cells.elman import (
    rnn_step_forward, rnn_step_backward, rnn_forward, rnn_backward,
    init_elman, elman_param_count,
)
from .models.recurrent import (recurrent_forward, recurrent_backward, one_to_many_inputs,
                        one_to_many_inputs_backward)
from .cells.lstm import (
    lstm_step_forward, lstm_step_backward, lstm_forward, lstm_backward,
    init_lstm, lstm_gate_views, lstm_param_count,
)
from .cells.gru import (
    gru_step_forward, gru_step_backward, gru_forward, gru_backward,
    init_gru, gru_gate_views, gru_param_count,
)
from .layers.layernorm import layer_norm_forward, layer_norm_backward
from .cells.lnlstm import (
    lnlstm_step_forward, lnlstm_step_backward, lnlstm_forward, lnlstm_backward,
    init_lnlstm, lnlstm_param_count,
)
from . import convert
from .training.losses import softmax_cross_entropy, binary_cross_entropy, mean_squared_error
from .training.optim import SGD, RMSProp, Adam, clip_by_value, clip_by_global_norm, global_norm
from .layers.init import glorot_uniform, uniform, orthogonal, identity_init
from .models.elman_rnn import ElmanRNN
from .training.loops import sequence_loss_and_grads, truncated_bptt
from .training.gradcheck import numerical_gradient, gradcheck, GradcheckReport
from .shapes import batch_to_time_major, time_major_to_batch
from .layers.masking import sequence_mask, reverse_padded
from .layers.embedding import embedding_forward, embedding_backward, init_embedding
from .models.bidirectional import bidirectional_forward, bidirectional_backward, init_bidirectional
from .models.stacked import stacked_forward, stacked_backward, init_stacked, dropout_mask
from .layers.attention import attention_forward, attention_backward, init_attention
from .models.decoding import greedy_decode, sample_decode, beam_search, Hypothesis
from .models.seq2seq import (
    init_seq2seq, seq2seq_forward, seq2seq_backward, seq2seq_loss, seq2seq_encode,
    make_step_fn, shift_right,
)
from .training.ctc import (
    ctc_loss, ctc_loss_and_grad, ctc_alpha, ctc_beta, ctc_greedy_decode, ctc_prefix_beam_search,
)

__version__ = "0.1.0"
