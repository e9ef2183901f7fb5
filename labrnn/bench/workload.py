"""The object every implementation of the suite builds for one case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Workload"]


@dataclass
class Workload:
    """One case ready to run.

    ``run()`` is the call that is timed (forward only, forward + backward, or one
    training step). ``outputs()`` runs forward + backward (or one training step)
    once and returns what the equality check compares: a dict of named arrays
    (``out``, ``dx``, ``grad.<name>`` in labrnn's parameter names; for the
    language model ``loss``, ``grad.*`` and ``param.*`` after one Adam step).
    """

    run: Callable[[], object]
    outputs: Callable[[], dict]
