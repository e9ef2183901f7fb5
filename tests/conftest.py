"""Shared fixtures of the package tests: one parametrized ``backend`` per array library.

Every numerical test takes the ``backend`` fixture and therefore runs once per
backend:

==================  ==========================================================
id                  what it is
==================  ==========================================================
``numpy``           NumPy (through array-api-compat)
``strict``          array-api-strict on its CPU device
``strict-device1``  array-api-strict on ``Device("device1")``: it refuses silent
                    conversion to NumPy and mixing with CPU arrays, exactly
                    as a GPU array does, so host round trips are caught on CPU
``cupy``            CuPy on the current GPU; skipped, with the reason printed
                    (run pytest with ``-rs``), when CuPy is not installed or
                    no GPU is present
==================  ==========================================================

Select backends with the environment variable ``LABRNN_BACKENDS``, a
comma-separated list of the ids above, e.g.::

    LABRNN_BACKENDS=numpy python -m pytest tests           # fast, NumPy only
    LABRNN_BACKENDS=cupy python -m pytest tests            # the GPU only
    LABRNN_BACKENDS=numpy,strict,strict-device1,cupy ...   # the default: all

An unknown id is a usage error. The fixture object has ``name``, ``xp`` (the
namespace), ``device``, ``asarray(np_array, dtype=None)`` (host data to this
backend via :func:`labrnn.from_numpy`), ``to_numpy(array)``, ``params(D, H, O)``
(Elman parameters from :func:`labrnn.init_elman` on this backend) and
``on_this_device(array)`` (is a result still on this library and device?).

``cheap_backend`` is the same fixture restricted to ``numpy`` and ``strict``,
for the hypothesis property tests that run many examples.

Hypothesis keeps its files under the system temporary directory, not in the
working tree. Figures are drawn with matplotlib's non-interactive Agg backend
(set here, before any test imports pyplot).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

import labrnn

# Keep hypothesis' example cache out of the working tree (as -p no:cacheprovider does
# for pytest's): the property tests are derandomized and use no example database.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "labrnn-hypothesis")

ALL_BACKENDS = ("numpy", "strict", "strict-device1", "cupy")
CHEAP_BACKENDS = ("numpy", "strict")


def _selected_backends():
    raw = os.environ.get("LABRNN_BACKENDS", "").strip()
    if not raw:
        return list(ALL_BACKENDS)
    return [n.strip() for n in raw.split(",") if n.strip()]


SELECTED = _selected_backends()


def pytest_configure(config):
    unknown = [n for n in SELECTED if n not in ALL_BACKENDS]
    if unknown:
        raise pytest.UsageError(f"LABRNN_BACKENDS names unknown backends {unknown}; "
                                f"choose from {list(ALL_BACKENDS)}")


class Backend:
    """One array library on one device, as seen by a test."""

    def __init__(self, name, xp, device):
        self.name, self.xp, self.device = name, xp, device

    def asarray(self, a, dtype=None):
        """Host data (anything ``numpy.asarray`` takes) on this backend and device."""
        return labrnn.from_numpy(np.asarray(a), xp=self.xp, device=self.device, dtype=dtype)

    @staticmethod
    def to_numpy(a):
        return labrnn.to_numpy(a)

    def params(self, D, H, O=None, seed=0, **kw):
        return labrnn.init_elman(D, H, O, seed=seed, xp=self.xp, device=self.device, **kw)

    def on_this_device(self, a):
        """True when ``a`` is an array of this backend's library living on its device."""
        ref = self.asarray(np.zeros(1))
        if self.name == "numpy" and isinstance(a, np.generic):
            return True          # NumPy reductions return scalars, not 0-d arrays
        return type(a) is type(ref) and labrnn.device_of(a) == labrnn.device_of(ref)

    def __repr__(self):
        return f"Backend({self.name})"


def make_backend(name):
    """Build the backend ``name``, or ``pytest.skip`` with the reason it is unavailable."""
    if name == "numpy":
        import array_api_compat.numpy as xp
        return Backend(name, xp, "cpu")
    if name in ("strict", "strict-device1"):
        import array_api_strict as xp
        device = xp.Device("device1") if name == "strict-device1" else xp.Device("CPU_DEVICE")
        return Backend(name, xp, device)
    if name == "cupy":
        try:
            import cupy
        except ImportError:
            pytest.skip("CuPy not installed: the cupy backend is not tested")
        try:
            n = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:             # CUDA driver missing or broken
            pytest.skip(f"CuPy installed but no usable GPU ({type(exc).__name__}: {exc})")
        if n == 0:
            pytest.skip("CuPy installed but no GPU present")
        import array_api_compat.cupy as xp
        return Backend(name, xp, None)       # None: CuPy's current device
    raise ValueError(name)


@pytest.fixture(scope="session", params=SELECTED, ids=str)
def backend(request):
    return make_backend(request.param)


@pytest.fixture(scope="session", params=[b for b in CHEAP_BACKENDS if b in SELECTED] or
                [pytest.param("numpy", marks=pytest.mark.skip(
                    reason="LABRNN_BACKENDS selects neither numpy nor strict"))], ids=str)
def cheap_backend(request):
    return make_backend(request.param)

