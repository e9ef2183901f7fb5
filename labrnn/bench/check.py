"""Before anything is timed: do the implementations compute the same numbers?

For each case, labrnn and every other implementation that runs it are built
from the same float64 inputs (:func:`labrnn.bench.cases.make_inputs`, weights
moved with :mod:`labrnn.convert`) and run forward + backward once (the language
model: one training step). Every output, ``dx`` and parameter gradient (and, for
the language model, the loss and the parameters after the Adam step) must agree
to a relative error ``max |a - r| / max |r|`` of at most :data:`RTOL` = 1e-8;
the same names must be present on both sides. A disagreement raises
:class:`EquivalenceError`, naming the case, the array and the error: the suite
does not time implementations that compute different things.

The check runs at the case's ``B, D, H`` but at most :data:`CHECK_T` steps: the
code paths do not depend on ``T``, and float64 at ``T = 1000`` would cost more
than the timing.
"""

from __future__ import annotations

import numpy as np

from .cases import make_inputs

__all__ = ["RTOL", "CHECK_T", "EquivalenceError", "compare_outputs", "check_case"]

RTOL = 1e-8
CHECK_T = 8


class EquivalenceError(AssertionError):
    """Two implementations of one case computed different outputs or gradients."""


def compare_outputs(ref, other, rtol=RTOL):
    """``{name: relative error}`` of ``other`` against ``ref``; raises on a missing name or a large error.

    The error is ``max |a - r| / max |r|`` (``max |a - r|`` where ``r`` is all zero).
    """
    missing = sorted(set(ref) ^ set(other))
    if missing:
        raise EquivalenceError(f"the implementations return different arrays: {missing} "
                               f"present on one side only")
    errors, bad = {}, []
    for name in sorted(ref):
        r = np.asarray(ref[name], dtype=np.float64)
        a = np.asarray(other[name], dtype=np.float64)
        if r.shape != a.shape:
            raise EquivalenceError(f"{name}: shape {a.shape} differs from the reference's {r.shape}")
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        diff = float(np.max(np.abs(a - r))) if r.size else 0.0
        err = diff / scale if scale > 0 else diff
        if not np.isfinite(err):
            err = float("inf")
        errors[name] = err
        if not err <= rtol:
            bad.append(f"{name} (relative error {err:.3g})")
    if bad:
        raise EquivalenceError(f"outputs differ beyond {rtol:g}: " + ", ".join(bad))
    return errors


def check_case(case, impl, reference=None, seed=0):
    """Run ``case`` (float64, ``T <= CHECK_T``) with module ``impl`` and with labrnn; compare.

    ``impl`` and ``reference`` are implementation modules (``build``, ``NAME``);
    ``reference`` defaults to :mod:`labrnn.bench.impl_labrnn`. Returns a JSON-ready
    dict ``{"case", "impl", "reference", "T", "max_rel_error", "passed": True}``;
    raises :class:`EquivalenceError` naming the case when they disagree.
    """
    from . import impl_labrnn
    reference = impl_labrnn if reference is None else reference
    small = case.replace(T=min(case.T, CHECK_T), mode="fwdbwd")
    ref = reference.build(small, make_inputs(small, "float64", seed)).outputs()
    other = impl.build(small, make_inputs(small, "float64", seed)).outputs()
    try:
        errors = compare_outputs(ref, other)
    except EquivalenceError as exc:
        raise EquivalenceError(f"{impl.NAME} and {reference.NAME} disagree on {small.id}: "
                               f"{exc}") from None
    return {"case": case.id, "impl": impl.NAME, "reference": reference.NAME, "T": small.T,
            "max_rel_error": max(errors.values()), "passed": True}
