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

from .errors import DeviceError, DTypeError

__all__ = ["namespace", "device_of", "to_numpy", "from_numpy", "host_rng", "move",
           "float_dtype"]


def namespace(*arrays, names=None):
    """Return the array namespace shared by ``arrays`` (``None`` entries are skipped).

    Raises :class:`DeviceError` when the arrays come from different libraries
    or live on different devices, naming the offending arguments.
    """
    items = [(n, a) for n, a in zip(names or [f"argument {i}" for i in range(len(arrays))], arrays)
             if a is not None]
    if not items:
        raise ValueError("namespace() needs at least one array")
    for name, a in items:
        if isinstance(a, (numbers.Number, list, tuple)) and not isinstance(a, np.generic):
            raise DTypeError(
                f"{name} must be an array (NumPy, CuPy, ...), received {type(a).__name__}; "
                "wrap it with numpy.asarray(...) first")
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
        return getattr(xp, np.dtype(dtype).name)
    except TypeError:       # already a dtype object of a non-NumPy library
        return dtype


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


def host_rng(seed):
    """A seeded NumPy generator; accepts an int seed or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("pass a seed (an int) or a numpy.random.Generator: "
                         "labrnn never draws unseeded random numbers")
    return np.random.default_rng(seed)
