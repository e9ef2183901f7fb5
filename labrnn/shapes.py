"""The one shape convention of ``labrnn`` and converters for batch-major data.

Time-major everywhere: a batch of sequences is ``(T, B, D)``: time, batch,
features. Time-major makes ``x[t]`` a contiguous ``(B, D)`` matrix, exactly the
operand of one step. Data that arrives batch-major ``(B, T, D)`` (Keras,
PyTorch with ``batch_first=True``) is converted at the boundary.

======  ===========  ======================================
symbol  meaning      example
======  ===========  ======================================
T       time steps   sequence length
B       batch        sequences processed together
D       input size   one-hot vocabulary size, sensor count
H       hidden size  length of the state vector
O       output size  classes, regression targets
======  ===========  ======================================
"""

from __future__ import annotations

from .backend import namespace


def _swap01(x, name):
    if x.ndim < 2:
        raise ValueError(f"{name} needs at least 2 dimensions to swap time and batch, "
                         f"received shape {tuple(x.shape)}")
    xp = namespace(x)
    return xp.permute_dims(x, (1, 0) + tuple(range(2, x.ndim)))


def batch_to_time_major(x):
    """``(B, T, ...)`` -> ``(T, B, ...)``."""
    return _swap01(x, "x")


def time_major_to_batch(x):
    """``(T, B, ...)`` -> ``(B, T, ...)``."""
    return _swap01(x, "x")
