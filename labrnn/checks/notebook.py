"""The checks as the exercise notebooks call them: each in a fresh, limited process.

The setup cell of every assignment imports this module as ``checks``; a test
cell's visible line is, e.g., ``checks.check_rnn_step_forward(rnn_step_forward)``.
Each ``check_<name>(fn, **kwargs)`` sends ``fn``'s source to a fresh Python
process (:func:`labrnn.checks.sandbox.check`), which runs
``labrnn.checks.<part>.check_<name>(fn, **kwargs)`` with a time and a memory
limit, and prints the check's message here (or raises
:class:`~labrnn.checks.CheckFailed`). Whatever the function does (never return,
end the process, exhaust memory, print megabytes) stays in that process, and
the notebook's Interrupt stops it. The keyword arguments are those of the
check in :mod:`labrnn.checks.part1`, :mod:`~labrnn.checks.part2`,
:mod:`~labrnn.checks.part3` or :mod:`~labrnn.checks.part45` (sizes, ``seed``, ``timeout``).
"""

from __future__ import annotations

from . import sandbox

__all__ = [f"check_{name}" for name in sandbox.PARTS]


def _make(name):
    def check(fn, **kwargs):
        sandbox.check(name, fn, **kwargs)
    check.__name__ = check.__qualname__ = f"check_{name}"
    check.__doc__ = (f"Check the student's ``{name}`` in a fresh process "
                     f"(:func:`labrnn.checks.{sandbox.PARTS[name]}.check_{name}`, "
                     "run by :func:`labrnn.checks.sandbox.check`).")
    return check


check_rnn_step_forward = _make("rnn_step_forward")
check_rnn_step_backward = _make("rnn_step_backward")
check_rnn_backward = _make("rnn_backward")
check_clip_by_global_norm = _make("clip_by_global_norm")
check_masked_cross_entropy = _make("masked_cross_entropy")
check_sample_char = _make("sample_char")
check_lstm_step_forward = _make("lstm_step_forward")
check_lstm_step_backward = _make("lstm_step_backward")
check_gru_step_forward = _make("gru_step_forward")
check_bidirectional_combine = _make("bidirectional_combine")
check_beam_search = _make("beam_search")
check_additive_attention_weights = _make("additive_attention_weights")
check_masked_sequence_loss = _make("masked_sequence_loss")
check_rmsprop_update = _make("rmsprop_update")
check_top_k_sample = _make("top_k_sample")
check_token_accuracy = _make("token_accuracy")
check_seasonal_naive_errors = _make("seasonal_naive_errors")
check_masked_attention_context = _make("masked_attention_context")
check_speed_and_gradient = _make("speed_and_gradient")
check_ctc_alpha = _make("ctc_alpha")
