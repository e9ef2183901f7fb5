"""Array namespaces, devices and host-side random numbers.

Every numerical function in ``labrnn`` starts with ``xp = namespace(*arrays)``
and creates new arrays with ``device=device_of(x)``. Random numbers are always
drawn on the host from a seeded :class:`numpy.random.Generator` and then moved
to the target library and device with :func:`from_numpy`, so NumPy, CuPy and
array-api-strict all receive *identical* weights for the same seed.
"""

from __future__ import annotations

import numbers

import numpy as np
import array_api_compat as _compat
import array_api_compat.numpy as _NUMPY

from .errors import ArgumentTypeError, DeviceError, DTypeError

__all__ = ["namespace", "device_of", "to_numpy", "from_numpy", "host_rng", "move",
           "float_dtype"]


def namespace(*arrays, names=None):
    """Return the array namespace shared by ``arrays`` (``None`` entries are skipped).

    ``names`` (one per array) names the arguments in error messages. Raises
    :class:`DeviceError` when the arrays come from different libraries or live
    on different devices, :class:`DTypeError` when an entry is not an array
    (a number, list, string, dict, ...), and :class:`ArgumentTypeError` (a
    ``TypeError`` and a ``ValueError``) when every entry is ``None`` (naming them, e.g. "x is None; expected an array"). A required
    argument that may be ``None`` is checked with :func:`labrnn.validate.check_array`.
    """
    if arrays and all(type(a) is np.ndarray or a is None for a in arrays) and \
            any(a is not None for a in arrays):
        return _NUMPY          # the common case, answered without array_api_compat's checks
    labels = list(names) if names is not None else [f"argument {i}" for i in range(len(arrays))]
    items = [(n, a) for n, a in zip(labels, arrays) if a is not None]
    if not items:
        if names is None:
            raise ArgumentTypeError("namespace() received no array (every argument is None); "
                                    "expected at least one array (NumPy, CuPy, ...)")
        which = ", ".join(labels[:len(arrays)])
        raise ArgumentTypeError(f"{which} {'is' if len(arrays) == 1 else 'are all'} None; expected "
                        f"{'an array' if len(arrays) == 1 else 'at least one array'} "
                        "(NumPy, CuPy, ...)")
    for name, a in items:
        if not _is_array(a):
            raise DTypeError(
                f"{name} must be an array (NumPy, CuPy, ...), received {type(a).__name__}"
                + ("; wrap it with numpy.asarray(...) first"
                   if isinstance(a, (numbers.Number, list, tuple)) else ""))
    first_name, first = items[0]
    try:
        xp = _compat.array_namespace(*[a for _, a in items])
    except TypeError as exc:
        kinds = ", ".join(f"{n}: {type(a).__module__}.{type(a).__name__}" for n, a in items)
        raise DeviceError(f"arrays come from different array libraries ({kinds}); "
                          "move them to one library first, e.g. with labrnn.move") from exc
    dev = _compat.device(first)
    for name, a in items[1:]:
        if _compat.device(a) != dev:
            raise DeviceError(
                f"{name} is on device {_compat.device(a)!r} but {first_name} is on {dev!r}; "
                "all arrays of one computation must live on the same device")
    return xp


def _is_array(a):
    """An array of a supported library (NumPy scalars such as ``np.float64(1.0)`` count)."""
    if isinstance(a, np.generic):
        return True
    if isinstance(a, (numbers.Number, list, tuple, str, bytes, dict)):
        return False
    return _compat.is_array_api_obj(a)


def device_of(x):
    """The device of array ``x`` (``"cpu"`` for NumPy)."""
    return _compat.device(x)


def to_numpy(x):
    """Copy any array (NumPy, CuPy, array-api-strict on any device, torch) to NumPy."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (numbers.Number, list, tuple)):
        return np.asarray(x)
    if _compat.is_cupy_array(x):
        return x.get()
    if _compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, RuntimeError, ValueError):
        # e.g. array-api-strict's second device refuses implicit conversion,
        # as a GPU array would: move it to the library's CPU device first.
        xp = _compat.array_namespace(x)
        cpu = getattr(xp, "Device", None)
        cpu = cpu("CPU_DEVICE") if cpu is not None else "cpu"
        return np.asarray(x.to_device(cpu))


def float_dtype(xp, dtype):
    """Resolve ``"float32"``, ``"float64"``, a NumPy dtype or ``xp``'s own dtype to ``xp``'s dtype."""
    if dtype is None:
        return xp.float64
    if isinstance(dtype, str):
        if dtype not in ("float32", "float64"):
            raise DTypeError(f"dtype must be 'float32' or 'float64', received {dtype!r}")
        return getattr(xp, dtype)
    try:
        name = np.dtype(dtype).name
    except TypeError:       # already a dtype object of a non-NumPy library
        if not xp.isdtype(dtype, "real floating"):
            raise DTypeError(f"dtype must be float32 or float64, received {dtype}") from None
        return dtype
    if name not in ("float32", "float64"):
        raise DTypeError(f"dtype must be float32 or float64, received {name}")
    return getattr(xp, name)


def from_numpy(a, like=None, xp=None, device=None, dtype=None):
    """Move host data ``a`` to the namespace and device of ``like`` (or of ``xp``/``device``).

    Floating data takes ``dtype``, else ``like``'s dtype, else float64; integer
    data keeps its integer dtype unless ``dtype`` is given.
    """
    a = np.asarray(a)
    floating = np.issubdtype(a.dtype, np.floating)
    if like is not None:
        xp, device = namespace(like), device_of(like)
        if dtype is None and floating:
            dtype = like.dtype
    if xp is None:
        xp = _compat.array_namespace(np.empty(0))
    if dtype is None and floating:
        dtype = "float64"
    kwargs = {}
    if dtype is not None:
        kwargs["dtype"] = float_dtype(xp, dtype)
    if device is not None:
        kwargs["device"] = device
    return xp.asarray(a, **kwargs)


def move(tree, like=None, xp=None, device=None, dtype=None):
    """Apply :func:`from_numpy` to every array of a dict (e.g. a parameter dict)."""
    if isinstance(tree, dict):
        return {k: move(v, like=like, xp=xp, device=device, dtype=dtype) for k, v in tree.items()}
    return from_numpy(to_numpy(tree), like=like, xp=xp, device=device, dtype=dtype)


def _seed_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v >= 0


def _seed_list(v):
    """A (possibly nested) non-empty list of ints >= 0 as plain ints, or ``None`` if it is not one."""
    if _seed_int(v):
        return int(v)
    if isinstance(v, (list, tuple)) and v:
        items = [_seed_list(u) for u in v]
        return None if any(u is None for u in items) else items
    return None


def host_rng(seed, name="seed"):
    """A seeded NumPy generator from an int seed ``>= 0``, a list of such ints (a
    sub-stream, e.g. ``[seed, 3]``; lists may nest) or an existing Generator (returned as is).

    Anything else (``None``, a float, a bool, a negative int, a string) raises an
    error naming the argument ``name``, what it received and what it expects.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    expected = "an int >= 0, a list of ints >= 0 or a numpy.random.Generator"
    if seed is None:
        raise ValueError(f"{name} is None; pass a seed: {expected} (labrnn never draws "
                         "unseeded random numbers)")
    if isinstance(seed, (list, tuple)):
        entropy = _seed_list(seed)
        if entropy is None:
            raise ValueError(f"{name} must be {expected}, received {seed!r}")
        return np.random.default_rng(entropy)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {expected}, received {seed!r} of type "
                        f"{type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be {expected}, received {seed!r}")
    return np.random.default_rng(int(seed))
