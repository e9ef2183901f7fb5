"""Input checks shared by every public function: shapes, dtypes, finiteness.

A failed check raises an error that names the argument, the shape (or dtype)
received and what was expected, in the book's symbols (``T``, ``B``, ``D``, ``H``).
"""

from __future__ import annotations

from .backend import namespace, to_numpy
from .errors import ShapeError, DTypeError, NonFiniteError


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
    shape = tuple(x.shape)
    if len(shape) != len(expected) or any(
            val is not None and s != val for s, (_, val) in zip(shape, expected)):
        raise ShapeError(f"{name} must have shape {_fmt(expected)}, received {shape}")
    return shape


def check_float(name, x, dtype=None):
    """``x`` must be a real floating array (and of ``dtype`` if given)."""
    xp = namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise DTypeError(f"{name} must be a floating-point array (float32 or float64), "
                         f"received dtype {x.dtype}; convert it with x.astype(...) first")
    if dtype is not None and x.dtype != dtype:
        raise DTypeError(f"{name} has dtype {x.dtype} but the parameters have dtype {dtype}; "
                         "use one dtype throughout (float64 for gradient checks)")


def check_finite(name, x, hint=""):
    """Raise :class:`NonFiniteError` if ``x`` holds a NaN or an infinity."""
    xp = namespace(x)
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


def check_bool(name, value):
    """``value`` must be a real boolean (``True``/``False``): ``"False"`` is truthy in Python."""
    import numpy as np
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, received {value!r} "
                        f"({type(value).__name__})")
    return bool(value)
