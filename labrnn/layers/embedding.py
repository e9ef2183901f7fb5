"""Embedding layer: token ids to vectors (book chapter 10).

Forward, equation ``embedding``: row ``ids[...]`` of the table ``E``::

    e[..., :] = E[ids[...], :]         ids: (...) integers in [0, V),  E: (V, D),  e: (..., D)

Backward: every position sends its gradient to the row it read, rows read
several times add up::

    dE[v, :] = sum over positions p with ids[p] = v of de[p, :]  =  onehot(ids)^T de

The array API has no scatter-add, so the sum is the product with a one-hot
matrix ``(N, V)`` (N = number of positions): exact, and fine for the course's
vocabularies. The dense (fully connected) layer that usually follows is
:func:`labrnn.layers.affine.affine_forward` / :func:`labrnn.layers.affine.affine_backward`.
"""

from __future__ import annotations

import numpy as np

from ..backend import device_of, from_numpy, host_rng, namespace
from ..errors import DTypeError
from ..validate import check_array, check_float, check_positive, check_positive_int, check_seed, check_shape

__all__ = ["embedding_forward", "embedding_backward", "init_embedding", "check_ids"]


def check_ids(name, ids, V):
    """``ids`` must be an integer array with entries in ``[0, V)``."""
    check_array(name, ids, f"an integer array of token ids in [0, V={V})")
    xp = namespace(ids, names=[name])
    if not xp.isdtype(ids.dtype, "integral"):
        raise DTypeError(f"{name} must hold integer token ids, received dtype {ids.dtype}")
    if ids.size and (int(xp.min(ids)) < 0 or int(xp.max(ids)) >= V):
        raise ValueError(f"{name} must lie in [0, V={V}), found values in "
                         f"[{int(xp.min(ids))}, {int(xp.max(ids))}]")
    return ids


def embedding_forward(ids, E):
    """Look up ``E[ids]`` (equation ``embedding``); returns ``(e, cache)``.

    ``ids``: integer array of any shape ``(...)`` (e.g. ``(T, B)``), values in
    ``[0, V)``; ``E``: float ``(V, D)``; ``e``: ``(..., D)``. A list or a
    NumPy array of ids is moved to ``E``'s namespace and device.
    """
    check_array("E", E, "a float table (V, D)")
    if ids is None:
        raise TypeError("ids is None; expected an integer array of token ids")
    if isinstance(ids, (list, tuple, np.ndarray)):
        host = np.asarray(ids)
        if not np.issubdtype(host.dtype, np.integer):
            raise DTypeError(f"ids must hold integer token ids, received dtype {host.dtype}")
        ids = from_numpy(host, like=E)
    xp = namespace(ids, E, names=["ids", "E"])
    check_float("E", E)
    V, D = check_shape("E", E, (("V", None), ("D", None)))
    check_ids("ids", ids, V)
    flat = xp.reshape(ids, (-1,))
    e = xp.reshape(xp.take(E, flat, axis=0), tuple(ids.shape) + (D,))
    return e, (ids, E)


def embedding_backward(de, cache):
    """Gradient of the table: ``dE = onehot(ids)^T de`` (V, D). Ids get no gradient."""
    ids, E = cache
    check_array("de", de, "a float array (..., D)")
    xp = namespace(de, E, names=["de", "E"])
    V, D = E.shape
    check_shape("de", de, tuple(("·", s) for s in ids.shape) + (("D", D),))
    flat = xp.reshape(ids, (-1, 1))
    onehot = xp.astype(flat == xp.arange(V, device=device_of(E), dtype=ids.dtype)[None, :],
                       E.dtype)                                          # (N, V)
    return xp.matmul(xp.matrix_transpose(onehot), xp.reshape(de, (-1, D)))


def init_embedding(V, D, seed=0, scale=0.1, xp=None, device=None, dtype="float64"):
    """A table ``E (V, D)`` of normal numbers with standard deviation ``scale``, drawn on the host."""
    V, D = check_positive_int("V", V), check_positive_int("D", D)
    scale = check_positive("scale", scale)
    check_seed("seed", seed)
    E = host_rng(seed).normal(0.0, scale, size=(V, D))
    return from_numpy(E, xp=xp, device=device, dtype=dtype)
