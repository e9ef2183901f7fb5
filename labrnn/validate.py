"""Input checks shared by every public function: shapes, dtypes, finiteness.

A failed check raises an error that names the argument, the shape (or dtype)
received and what was expected, in the book's symbols (``T``, ``B``, ``D``, ``H``).

Scalar arguments (sizes, seeds, rates, probabilities, flags) have checks of their own,
each ``check_*(name, value, ...)`` returning the value (as a Python ``int``, ``float``
or ``bool``) or raising: :class:`ArgumentTypeError` (a ``TypeError`` that is also a
``ValueError``) for a value of the wrong type, ``ValueError`` for one out of range.
Validation happens once, at the public entry of a computation.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .backend import host_rng, namespace, to_numpy
from .errors import ArgumentTypeError, ShapeError, DTypeError, NonFiniteError

__all__ = ["ArgumentTypeError", "check_array", "check_shape", "check_float", "check_finite",
           "check_nonempty", "check_params", "check_sequence", "check_int", "check_positive_int",
           "check_number", "check_positive", "check_probability", "check_seed", "check_bool",
           "check_choice"]


def _received(v):
    return f"{v!r} ({type(v).__name__})"


def check_array(name, x, expected="an array"):
    """``x`` must be an array (not ``None``, a list, a number, ...); returns it.

    ``expected`` describes what was expected, e.g. ``"a (T, B, D) float array"``.
    """
    if x is None:
        raise ArgumentTypeError(f"{name} is None; expected {expected}")
    namespace(x, names=[name])
    return x


def _fmt(expected):
    parts = []
    for item in expected:
        if isinstance(item, tuple):
            sym, val = item
            parts.append(sym if val is None else f"{sym}={val}")
        else:
            parts.append(str(item))
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_shape(name, x, expected):
    """Check ``x.shape`` against ``expected``, a tuple of ``(symbol, size or None)``.

    ``None`` sizes accept anything. Example::

        check_shape("x", x, (("T", None), ("B", None), ("D", 3)))
    """
    check_array(name, x, f"an array of shape {_fmt(expected)}")
    shape = tuple(x.shape)
    if len(shape) != len(expected) or any(
            val is not None and s != val for s, (_, val) in zip(shape, expected)):
        raise ShapeError(f"{name} must have shape {_fmt(expected)}, received {shape}")
    return shape


def check_float(name, x, dtype=None):
    """``x`` must be a real floating array (and of ``dtype`` if given)."""
    check_array(name, x, "a floating-point array (float32 or float64)")
    xp = namespace(x, names=[name])
    if not xp.isdtype(x.dtype, "real floating"):
        raise DTypeError(f"{name} must be a floating-point array (float32 or float64), "
                         f"received dtype {x.dtype}; convert it with x.astype(...) first")
    if dtype is not None and x.dtype != dtype:
        raise DTypeError(f"{name} has dtype {x.dtype} but the parameters have dtype {dtype}; "
                         "use one dtype throughout (float64 for gradient checks)")


def check_finite(name, x, hint=""):
    """Raise :class:`NonFiniteError` if ``x`` holds a NaN or an infinity."""
    check_array(name, x)
    xp = namespace(x, names=[name])
    if not bool(xp.all(xp.isfinite(x))):
        bad = to_numpy(x)
        import numpy as np
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(bad))[0])
        raise NonFiniteError(f"{name} contains a non-finite value ({bad[idx]}) at index {idx}"
                             + (f"; {hint}" if hint else ""))


def check_nonempty(name, x, axis=0, symbol="T"):
    """Raise :class:`ShapeError` if ``x`` has no entries along ``axis`` (an empty sequence)."""
    if x.shape[axis] == 0:
        raise ShapeError(f"{name} is empty along axis {axis} ({symbol}=0): "
                         "a sequence needs at least one time step")


def check_params(params, required, expected_shapes=None):
    """``params`` must be a dict holding every key of ``required``, all float, one dtype."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    missing = [k for k in required if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; it has {sorted(params)}")
    # every parameter must be an array of one library on one device
    namespace(*[params[k] for k in required], names=[f"params[{k!r}]" for k in required])
    dtype = params[required[0]].dtype
    for k in required:
        check_float(f"params[{k!r}]", params[k], dtype)
    for k, exp in (expected_shapes or {}).items():
        check_shape(f"params[{k!r}]", params[k], exp)
    return dtype


def check_sequence(name, x, D, dtype):
    """A time-major input sequence: float of ``dtype``, shape ``(T, B, D)``, ``T >= 1``, finite.

    Returns ``(T, B)``. The one check every sequence forward pass starts with.
    """
    check_float(name, x, dtype)
    T, B, _ = check_shape(name, x, (("T", None), ("B", None), ("D", D)))
    check_nonempty(name, x)
    check_finite(name, x, "clean the data (NaN or inf in the inputs would spread to every state)")
    return T, B


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def check_int(name, v, low=None, high=None):
    """``v`` must be an integer (not a bool, not a float such as ``2.0``) in ``[low, high]``
    (either bound may be ``None``); returns ``int(v)``."""
    rng = ("" if low is None and high is None else f" >= {low}" if high is None
           else f" <= {high}" if low is None else f" in [{low}, {high}]")
    if not _is_int(v):
        raise ArgumentTypeError(f"{name} must be an integer{rng}, received {_received(v)}")
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer{rng}, received {v!r}")
    return int(v)


def check_positive_int(name, v):
    """``v`` must be an integer ``>= 1`` (a size: ``T``, ``B``, ``H``, a count); returns ``int(v)``."""
    return check_int(name, v, low=1)


def check_number(name, v, low=None, high=None, low_open=False, high_open=False):
    """``v`` must be a finite real number (not a bool, not a string) within the bounds;
    ``low_open``/``high_open`` exclude the bound itself. Returns ``float(v)``."""
    if low == 0 and low_open and high is None:
        where = "a positive number"
    elif low is not None and high is not None:
        where = ("(" if low_open else "[") + f"{low}, {high}" + (")" if high_open else "]")
        where = f"a number in {where}"
    elif low is not None:
        where = f"a number {'>' if low_open else '>='} {low}"
    elif high is not None:
        where = f"a number {'<' if high_open else '<='} {high}"
    else:
        where = "a finite real number"
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise ArgumentTypeError(f"{name} must be {where}, received {_received(v)}")
    if not math.isfinite(v):
        raise ValueError(f"{name} must be {where}{'' if 'finite' in where else ' (finite)'}, "
                         f"received {v!r}")
    below = low is not None and (v <= low if low_open else v < low)
    above = high is not None and (v >= high if high_open else v > high)
    if below or above:
        raise ValueError(f"{name} must be {where}, received {v!r}")
    return float(v)


def check_positive(name, v):
    """``v`` must be a finite number ``> 0`` (a learning rate, a limit, a scale); returns ``float(v)``."""
    return check_number(name, v, low=0, low_open=True)


def check_probability(name, p, allow_one=True):
    """``p`` must be a probability: a number in ``[0, 1]`` (``[0, 1)`` with ``allow_one=False``,
    e.g. a dropout rate, which cannot drop everything). Returns ``float(p)``."""
    return check_number(name, p, low=0, high=1, high_open=not allow_one)


def check_seed(name, seed):
    """``seed`` must be an int ``>= 0``, a list of such ints or a ``numpy.random.Generator``
    (labrnn never draws unseeded numbers); returns it unchanged."""
    host_rng(seed, name)
    return seed


def check_bool(name, v):
    """``v`` must be ``True`` or ``False`` (a flag; not ``0``/``1``, not ``"yes"``); returns ``bool(v)``."""
    if not isinstance(v, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, received {_received(v)}")
    return bool(v)


def check_choice(name, v, choices):
    """``v`` must be one of ``choices`` (e.g. a score name); returns it."""
    try:
        ok = v in choices
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {list(choices)}, received {v!r}")
    return v
