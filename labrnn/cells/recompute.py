"""Gradient checkpointing for BPTT: keep the state every ``k`` steps, recompute the rest.

The plain pass (:func:`~labrnn.cells.base.run_forward`) keeps, for the backward pass,
every step's state and step cache: activation memory linear in ``T`` (chapter 4's
"BPTT stores the whole trajectory"; :mod:`labrnn.bench.memory` measures it). With
``cell.forward(x, params, ..., checkpoint_every=k)`` the time axis is cut into
segments of ``k`` steps, ``[0, k), [k, 2k), ..., [.., T)`` (the last may be shorter;
``k >= T`` is one segment), and

* the **forward pass** runs the ordinary loop segment by segment and keeps only the
  state at each segment's start, ``s_0, s_k, s_2k, ...`` (the *checkpoints*), plus
  what the backward pass needs anyway (``x``, the parameters, the padding mask,
  ``h_mask``); each segment's own cache is dropped as soon as the segment is done;
* the **backward pass** goes through the segments from the last to the first: it
  reruns the forward loop of the segment from its checkpoint (recomputing exactly
  the activations the plain pass had kept), then runs BPTT
  (:func:`~labrnn.cells.base.run_backward`) through that segment with the state
  gradient carried from the segment after it, and drops the segment's cache. The
  parameter gradients of the segments are summed, the input gradients concatenated.

The arithmetic of every step is the plain pass's, so outputs, states and gradients
are the same up to the order of the sums over segments (tested to ``rtol=1e-12`` in
float64). The idea is Chen et al.'s sublinear-memory training (2016,
arXiv:1604.06174) applied to the time axis, the simplest of the schemes of Gruslys
et al. (2016, "Memory-efficient backpropagation through time").

**Cost.** Memory: ``ceil(T/k)`` checkpointed states plus the activations of one
segment of ``k`` steps while it is recomputed, ``~ a T/k + b k`` (``a``: bytes of a
state, ``b``: bytes the plain pass keeps per step), smallest at ``k = sqrt(a T / b)``
(``sqrt(T)`` when ``a = b``), where it is ``2 sqrt(a b T)`` instead of ``b T``.
Time: every step's forward runs twice, so one extra forward pass of arithmetic whatever
``k``, plus a little per segment; against it, the plain forward pass writes ``T`` steps of
activations to fresh (cache-cold) memory, which the checkpointed pass does not.
:func:`labrnn.bench.memory.checkpoint_tradeoff` measures the net effect.

Padded batches (``lengths``): every cell uses the freezing mask of equation
``masked-state`` (``run_forward(..., runon=False)``), so the state carried from one
segment to the next is each sequence's own final state; the results equal the
plain pass's (which lets bounded cells run on through the padding).
"""

from __future__ import annotations

from ..validate import check_positive_int
from .base import run_backward, run_forward

__all__ = ["CheckpointCache", "check_checkpoint_every", "segments", "checkpointed_forward",
           "checkpointed_backward"]


class CheckpointCache:
    """What :meth:`Cell.forward` with ``checkpoint_every=k`` keeps for the backward pass.

    ``checkpoints[i]`` is the state tuple at the start of segment ``bounds[i] = (a, b)``
    (``checkpoints[0]`` is ``state0``); no step activations are kept. Like
    :class:`~labrnn.cells.base.SequenceCache` it holds a copy of the parameter dict.
    """

    __slots__ = ("cell", "variant", "x", "params", "checkpoints", "bounds", "k", "mask",
                 "tmin", "h_mask", "xp", "H")

    def __init__(self, **kw):
        for k, val in kw.items():
            setattr(self, k, val)

    def __repr__(self):
        T, B, _ = self.x.shape
        return (f"<CheckpointCache of the {self.cell.name} cell, T={T}, B={B}, "
                f"checkpoint_every={self.k}, {len(self.bounds)} segments>")


def check_checkpoint_every(k):
    """``checkpoint_every`` must be an integer ``>= 1`` (not a bool, float or string)."""
    return check_positive_int("checkpoint_every", k)


def segments(T, k):
    """The segments ``[(0, k), (k, 2k), ..., (., T)]`` of ``T`` steps (one if ``k >= T``)."""
    return [(a, min(a + k, T)) for a in range(0, T, k)]


def _segment_mask(mask, tmin, a, b):
    """The mask and first masked step of segment ``[a, b)`` (``(None, None)`` if unmasked)."""
    if mask is None or tmin >= b:
        return None, None
    return mask[a:b, ...], max(tmin - a, 0)


def checkpointed_forward(cell, xp, x, params, v, s0, mask, tmin, h_mask, checkpoint_every):
    """The forward pass keeping only the checkpoints: ``(out, final_state, CheckpointCache)``.

    Arguments as :func:`~labrnn.cells.base.run_forward`'s (already checked by
    :meth:`Cell.forward`), plus ``checkpoint_every`` (checked here).
    """
    k = check_checkpoint_every(checkpoint_every)
    T = x.shape[0]
    bounds = segments(T, k)
    state, checkpoints, outs = tuple(s0), [], []
    for a, b in bounds:
        checkpoints.append(state)
        m, tm = _segment_mask(mask, tmin, a, b)
        out, state, seg = run_forward(cell, xp, x[a:b, ...], params, v, state, m, tm, h_mask,
                                      runon=False)
        del seg                                    # the segment's activations are not kept
        outs.append(out)
    out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=0)
    cache = CheckpointCache(cell=cell, variant=v, x=x, params=dict(params),
                            checkpoints=checkpoints, bounds=bounds, k=k, mask=mask, tmin=tmin,
                            h_mask=h_mask, xp=xp, H=s0[0].shape[-1])
    return out, state, cache


def checkpointed_backward(cell, dout, cache, dstate_T):
    """BPTT from a :class:`CheckpointCache`, segment by segment: ``(dx, dstate0, grads)``.

    ``dout`` and ``dstate_T`` already checked by :meth:`Cell.backward`
    (:meth:`~labrnn.cells.base.Cell.check_backward`); recomputes each segment from its
    checkpoint (last segment first) and backpropagates through it.
    """
    x, params, v, xp = cache.x, cache.params, cache.variant, cache.xp
    carry = dstate_T
    dxs, grads = [], None
    for (a, b), s_a in zip(cache.bounds[::-1], cache.checkpoints[::-1]):
        m, tm = _segment_mask(cache.mask, cache.tmin, a, b)
        _, _, seg = run_forward(cell, xp, x[a:b, ...], params, v, s_a, m, tm, cache.h_mask,
                                runon=False)                       # recompute the segment
        dx, carry, g = run_backward(cell, xp, None if dout is None else dout[a:b, ...], seg,
                                    carry)
        del seg
        dxs.append(dx)
        grads = g if grads is None else {name: grads[name] + g[name] for name in grads}
    dx = dxs[0] if len(dxs) == 1 else xp.concat(dxs[::-1], axis=0)
    return dx, tuple(carry), grads
