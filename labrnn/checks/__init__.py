"""Checks for the graded exercises (``exercises/``): immediate, specific feedback.

Each ``check_*`` function takes the student's function, runs it on fresh
random inputs (or on a given ``seed``), compares the result with ``labrnn``'s
own implementation and either prints a one-line confirmation or raises
:class:`CheckFailed` naming the first thing that is wrong: a wrong shape
(received vs expected), a term left out, a transposed weight, a wrong
derivative, a gradient not summed over time, or the index and values of the
first mismatching entry. Student code that raises, returns the wrong type,
prints a lot or never returns is reported as such (the shared machinery is in
``labrnn/checks/_harness.py``).

* :mod:`labrnn.checks.part1`: the Elman RNN, BPTT, clipping, masked loss, sampling.
* :mod:`labrnn.checks.part2`: LSTM step forward and backward, GRU step forward.
* :mod:`labrnn.checks.part3`: bidirectional merge, beam search, additive attention weights.
* :mod:`labrnn.checks.part45`: Parts IV and V: masked sequence loss, RMSProp, top-k
  sampling, token accuracy, seasonal-naive errors, masked attention context, the speed of
  a fixed-point search and its gradient, the CTC forward variables.

These run in the calling process. The exercise notebooks call them through
:mod:`labrnn.checks.notebook`, which runs each in a fresh, limited Python process
(:mod:`labrnn.checks.sandbox`: isolation, tamper and labrnn-use detection, flags);
:mod:`labrnn.checks.report` collects the flags of a graded class into ``flags.csv``.
"""

from ._harness import CheckFailed, DEFAULT_TIMEOUT
from . import part1, part2, part3, part45

__all__ = ["CheckFailed", "DEFAULT_TIMEOUT", "part1", "part2", "part3", "part45"]
