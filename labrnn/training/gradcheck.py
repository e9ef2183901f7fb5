"""Gradient checking by float64 central differences (book chapter 4).

For a scalar function ``L(theta)`` and every entry ``i`` of every argument::

    dL/dtheta_i  ~  (L(theta + eps e_i) - L(theta - eps e_i)) / (2 eps)

whose error is O(eps^2) (truncation) plus O(u / eps) (rounding, u ~ 1e-16 in
float64): ``eps = 1e-6`` balances both near 1e-10. The analytic gradient ``a``
and the numerical one ``n`` are compared by the relative error
``||a - n|| / (||a|| + ||n||)``, which is 0 for equal gradients, 1 for
opposite ones, and does not blow up when both are tiny.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backend import from_numpy, namespace, to_numpy
from ..errors import DTypeError, ShapeError
from ..validate import check_array, check_positive


def _scalar(value):
    v = to_numpy(value)
    if v.size != 1:
        raise ShapeError(f"the checked function must return a scalar, it returned shape {v.shape}")
    return float(v.reshape(()))


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at array ``x``.

    ``f`` is called with a perturbed copy of ``x`` (same library, device and
    dtype); ``x`` itself is never modified. Returns a NumPy float64 array.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable returning a scalar, received {type(f).__name__}")
    check_array("x", x, "a float64 array")
    eps = check_positive("eps", eps)
    xp = namespace(x, names=["x"])
    if x.dtype != xp.float64:
        raise DTypeError(f"gradient checks need float64, received {x.dtype}: in float32 the "
                         "rounding error of a central difference (~1e-7/eps) swamps the answer")
    host = np.array(to_numpy(x), dtype=np.float64, copy=True)
    grad = np.zeros_like(host)
    for idx in np.ndindex(host.shape):
        orig = host[idx]
        host[idx] = orig + eps
        fp = _scalar(f(from_numpy(host, like=x)))
        host[idx] = orig - eps
        fm = _scalar(f(from_numpy(host, like=x)))
        host[idx] = orig
        grad[idx] = (fp - fm) / (2 * eps)
    return grad


def relative_error(a, n):
    """``||a - n|| / (||a|| + ||n||)``, 0 when both are zero."""
    a, n = np.asarray(to_numpy(a), float), np.asarray(to_numpy(n), float)
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - n) / denom)


@dataclass
class GradcheckReport:
    """Per-argument comparison of analytic and numerical gradients."""

    rows: list = field(default_factory=list)   # (name, shape, rel_error, max_abs_diff)

    @property
    def max_error(self):
        """The largest relative error; NaN if any row's error is NaN (a NaN never hides)."""
        errors = [r[2] for r in self.rows]
        if any(e != e for e in errors):
            return float("nan")
        return max(errors, default=0.0)

    def ok(self, tol=1e-6):
        """True when every row's relative error is below ``tol`` (a NaN row fails)."""
        tol = check_positive("tol", tol)
        return all(r[2] < tol for r in self.rows)

    def assert_ok(self, tol=1e-6):
        """Raise ``AssertionError`` with the table unless :meth:`ok`."""
        tol = check_positive("tol", tol)
        bad = [r for r in self.rows if not r[2] < tol]
        if bad:
            raise AssertionError(f"gradient check failed (tolerance {tol:g}):\n{self}")

    def table(self, tol=1e-7):
        """The report as a table that prints identically on every machine.

        A correct gradient's error is rounding noise (1e-10 to 1e-8), and its
        exact size depends on the CPU and BLAS, so even its power-of-ten bound
        can flip when the noise sits near a power of ten.
        Here errors below ``tol`` print as ``< tol``; larger ones, which come from
        a wrong gradient and do not depend on the machine, print with two
        significant digits and ``FAIL``.
        """
        w = max([len("argument")] + [len(r[0]) for r in self.rows])
        lines = [f"{'argument':<{w}}  {'shape':<14} relative error"]
        for name, shape, rel, _ in self.rows:
            verdict = f"< {tol:.0e}" if rel < tol else f"{rel:.2g}  FAIL"
            lines.append(f"{name:<{w}}  {str(shape):<14} {verdict}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def _repr_pretty_(self, p, cycle):   # IPython display
        p.text(str(self))


def gradcheck(f, inputs, analytic, eps=1e-6, names=None):
    """Compare analytic gradients with central differences for several arguments.

    Parameters
    ----------
    f : callable
        ``f(inputs) -> scalar`` taking a dict of arrays.
    inputs : dict name -> float64 array
        The point at which to check.
    analytic : dict name -> array
        The gradients your backward pass computed, same keys and shapes.
    names : iterable, optional
        Restrict the check to these keys (default: every key of ``analytic``).

    Returns
    -------
    GradcheckReport
        ``print(report)`` shows a table; ``report.assert_ok(1e-6)`` raises if
        any relative error is not below the bound.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable f(inputs) -> scalar, received {type(f).__name__}")
    for arg, d in (("inputs", inputs), ("analytic", analytic)):
        if not isinstance(d, dict):
            raise TypeError(f"{arg} must be a dict name -> array, received {type(d).__name__}")
    report = GradcheckReport()
    for name in (names or list(analytic)):
        if name not in analytic:
            raise KeyError(f"names lists {name!r}, which has no analytic gradient; "
                           f"analytic has {sorted(analytic)}")
        if name not in inputs:
            raise KeyError(f"analytic gradient {name!r} has no matching input; inputs are {sorted(inputs)}")
        x = check_array(f"inputs[{name!r}]", inputs[name], "a float64 array")
        if x.dtype != namespace(x).float64:
            raise DTypeError(f"inputs[{name!r}] has dtype {x.dtype}; gradient checks need "
                             "float64 (in float32 the rounding error of a central difference "
                             "swamps the answer)")
        a = to_numpy(check_array(f"analytic[{name!r}]", analytic[name], "an array"))
        if tuple(a.shape) != tuple(x.shape):
            raise ShapeError(f"analytic gradient for {name!r} has shape {tuple(a.shape)}, "
                             f"the input has {tuple(x.shape)}")

        def f_of(xn, name=name):
            return f({**inputs, name: xn})

        n = numerical_gradient(f_of, x, eps)
        report.rows.append((name, tuple(x.shape), relative_error(a, n),
                            float(np.max(np.abs(a - n))) if a.size else 0.0))
    return report
