"""Flat parameter dicts for models made of several layers (book chapters 8 to 11).

Every model keeps ONE flat dict of named arrays, so optimisers
(:mod:`labrnn.training.optim`), clipping and gradient checks work unchanged. A layer's
parameters carry its path as a dotted prefix: ``"l0.fw.W_x"`` is the forward
direction's ``W_x`` of layer 0, ``"dec.W_hy"`` the decoder's output matrix.
Gradients use the same keys as the parameters.
"""

from __future__ import annotations

__all__ = ["subparams", "with_prefix", "add_grads"]


def subparams(params, prefix):
    """The entries of ``params`` under ``prefix`` (``"l0."``), with the prefix removed.

    Raises ``KeyError`` naming the prefix and the available keys when nothing matches.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, received {type(params).__name__}")
    out = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
    if not out:
        raise KeyError(f"params holds no entry under {prefix!r}; its keys are {sorted(params)}")
    return out


def with_prefix(prefix, tree):
    """``{prefix + name: value}`` for every entry of ``tree``."""
    return {prefix + k: v for k, v in tree.items()}


def add_grads(total, grads):
    """``total + grads`` key by key (keys of either side kept); returns a new dict."""
    out = dict(total)
    for k, g in grads.items():
        out[k] = g if k not in out else out[k] + g
    return out
