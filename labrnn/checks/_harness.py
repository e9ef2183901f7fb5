"""The machinery every exercise check shares (graded exercises, ``exercises/``).

A check calls the student's function on fresh random inputs and compares what
comes back with ``labrnn``'s own implementation. On the first thing that is
wrong it raises :class:`CheckFailed`, whose message says what, in the book's
symbols, and where possible why (a term left out, a transposed weight, ...).
On success it prints one short line. Everything the student's code does is run
through :func:`call`, which

* stops it after a time limit (``signal.setitimer`` on the main thread, as in a
  notebook kernel; a watchdog thread elsewhere) and reports "did not return
  within N s";
* reports an exception it raises by type, message and the student's own line;
* captures what it prints and shows only the start of a long output.

A check never trusts a value it computed before the call: inputs are drawn
fresh from the operating system's entropy on every call (``seed=None``), so a
function that returns a remembered answer fails; graded (hidden) tests pass a
fixed ``seed`` so that grading is reproducible. :func:`call_args` calls the
student's function on copies of its inputs and fails it if it changed one of
them in place; :func:`expect_array` accepts arrays only (not lists).

These checks run in the process that calls them. The exercise notebooks call
them through :mod:`labrnn.checks.notebook` and :mod:`labrnn.checks.sandbox`,
which run them in a fresh Python process with a time and a memory limit.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading
import time
import traceback

import numpy as np

from ..backend import to_numpy

__all__ = ["CheckFailed", "call", "call_args", "rng_for", "passed", "compare", "expect_array",
           "expect_tuple", "first_mismatch", "close", "DEFAULT_TIMEOUT", "STUDENT", "WATCH"]

DEFAULT_TIMEOUT = 5.0          # seconds for one batch of calls to the student's code
PRINT_LIMIT = 400              # characters of the student's own output shown per call


class CheckFailed(AssertionError):
    """A check found something wrong. The message is meant for the student.

    In a notebook it is shown as its message alone (IPython's
    ``_render_traceback_`` protocol), without the check's internal traceback,
    so the first line a student reads is the diagnosis.
    """

    #: what went wrong: "raised" (the student's code raised), "timeout", or "wrong" (a result)
    kind = "wrong"

    def _render_traceback_(self):
        lines = str(self).splitlines() or [""]
        return ["\x1b[0;31mCheckFailed\x1b[0m: " + lines[0]] + lines[1:]


class _StudentState(threading.local):
    """Whether the student's code is running now (read by the sandbox's tripwires)."""
    active = False


#: ``STUDENT.active`` is True exactly while :func:`call` runs the student's code.
STUDENT = _StudentState()
#: ``WATCH["started"]`` (time.monotonic()) and ``WATCH["limit"]`` (s) of the student's call
#: now running, None between calls: the sandbox's watchdog reads them.
WATCH = {"started": None, "limit": None}


class _Deadline(BaseException):
    """Raised inside the student's code when the time is up (a BaseException,
    so a bare ``except Exception`` in student code cannot swallow it)."""


def rng_for(seed):
    """A NumPy generator: fresh OS entropy for ``seed=None``, else seeded."""
    return np.random.default_rng(seed)


def passed(message):
    """Print the short confirmation of a check that passed."""
    print(f"\u2714 {message}")


# ----------------------------------------------------------------- calling the student
class _BoundedWriter(io.TextIOBase):
    """A stdout/stderr stand-in that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit):
        self.limit, self.kept, self.total = limit, [], 0

    def writable(self):
        return True

    def write(self, s):
        room = self.limit - sum(map(len, self.kept))
        if room > 0:
            self.kept.append(s[:room])
        self.total += len(s)
        return len(s)

    def text(self):
        return "".join(self.kept)


def _student_line(tb):
    """The last traceback frame in the student's code, as '  at line N of ...: code' (or '')."""
    def theirs(filename):
        f = filename.replace("\\", "/")
        return not ("/labrnn/" in f or "site-packages" in f or "/lib/python" in f
                    or f.startswith("numpy/") or f.endswith(".pyx"))
    frames = [f for f in traceback.extract_tb(tb) if theirs(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    where = "your cell" if f.filename.startswith("<") or "ipykernel" in f.filename else f.filename
    code = (f.line or "").strip()
    return f"\n  at line {f.lineno} of {where}" + (f": {code}" if code else "")


def _run_with_deadline(thunk, timeout):
    """``thunk()`` with a time limit; returns ``(ok, value_or_exc_info)``; ``ok=None`` on timeout."""
    main = threading.current_thread() is threading.main_thread()
    if main and hasattr(signal, "setitimer"):
        def on_alarm(signum, frame):
            raise _Deadline()
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            try:
                return True, thunk()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Deadline:
            return None, None
        except (Exception, SystemExit):                 # noqa: BLE001 - reported to the student
            return False, sys.exc_info()
        finally:
            signal.signal(signal.SIGALRM, old)
    # Not on the main thread (or no SIGALRM): a daemon thread we stop waiting for.
    box = {}

    def target():
        try:
            box["value"] = (True, thunk())
        except BaseException:                           # noqa: BLE001
            box["value"] = (False, sys.exc_info())
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        return None, None
    return box["value"]


def call(name, thunk, timeout=DEFAULT_TIMEOUT, what=None):
    """Run ``thunk()`` (which calls the student's function ``name``) safely.

    Returns its value, or raises :class:`CheckFailed` saying that the
    function raised (which exception, which line), did not return in time,
    or was interrupted. Whatever it printed is captured; a long output is cut.
    """
    out = _BoundedWriter(PRINT_LIMIT)

    def student():
        STUDENT.active = True
        WATCH["limit"], WATCH["started"] = timeout, time.monotonic()
        try:
            return thunk()
        finally:
            STUDENT.active = False
            WATCH["started"] = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        ok, value = _run_with_deadline(student, timeout)
    if out.total:
        text = out.text()
        note = "" if out.total <= PRINT_LIMIT else \
            f"\n... ({out.total - PRINT_LIMIT} more characters cut: remove debugging prints)"
        print(f"[{name} printed {out.total} characters]\n{text}{note}")
    what = what or f"{name}(...)"
    if ok is None:
        failure = CheckFailed(f"{what} did not return within {timeout:g} s: is there an "
                              "infinite loop (a while loop whose condition never becomes false)?")
        failure.kind = "timeout"
        raise failure
    if ok is False:
        etype, exc, tb = value
        if isinstance(exc, NotImplementedError) and not str(exc):
            raise CheckFailed(f"{name} is not implemented yet: replace `raise "
                              "NotImplementedError()` with your code")
        failure = CheckFailed(f"{what} raised {etype.__name__}: {exc}{_student_line(tb)}")
        failure.kind = "raised"
        raise failure
    return value


def _copy_value(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, dict):
        return {k: _copy_value(x) for k, x in v.items()}
    return v


def _changed(before, after):
    """True if ``after`` (what the student's function received) no longer equals ``before``."""
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and after.shape == before.shape
                    and np.array_equal(after, before, equal_nan=True))
    if isinstance(before, dict):
        return (not isinstance(after, dict) or set(after) != set(before)
                or any(_changed(before[k], after[k]) for k in before))
    return False


def _arg_names(fn, n):
    try:
        import inspect
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return names[:n] + [f"argument {k + 1}" for k in range(len(names), n)]


def call_args(name, fn, args, timeout=DEFAULT_TIMEOUT, what=None, names=None):
    """Call ``fn(*args)`` through :func:`call` on copies of ``args``; fail if it changed one.

    A function that writes into its input arrays (``dh[t] += ...``, ``grads[k] *= ...``)
    changes the caller's data: a false pass if only the returned value were checked.
    ``names`` are the argument names for the message (by default the function's own).
    """
    copies = tuple(_copy_value(a) for a in args)
    out = call(name, lambda: fn(*copies), timeout, what)
    for k, (before, after) in enumerate(zip(args, copies)):
        if _changed(before, after):
            arg = (names or _arg_names(fn, len(args)))[k]
            if isinstance(before, dict):
                raise CheckFailed(
                    f"{name} changed its input `{arg}` in place (an array in it was changed, "
                    f"e.g. `g *= scale` on {arg}'s values, or its keys): the caller's "
                    f"gradients are modified. Return a new dict of new arrays "
                    f"({{k: g * scale for k, g in {arg}.items()}}) and leave `{arg}` untouched")
            raise CheckFailed(
                f"{name} changed its input `{arg}` in place (e.g. `{arg} += ...`, "
                f"`{arg}[...] = ...` or `*=` on it): the caller's array is modified. Leave the "
                f"inputs untouched: compute into new arrays, or work on a copy "
                f"({arg} = {arg}.copy())")
    return out


# ----------------------------------------------------------------- what came back
def _describe(value):
    if value is None:
        return "None (did you forget the `return` statement?)"
    if hasattr(value, "shape"):
        return f"an array of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__} ({value!r})"[:200]


def expect_tuple(name, value, names):
    """``value`` must be a tuple/list of ``len(names)`` items; returns it as a tuple."""
    n = len(names)
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise CheckFailed(f"{name} must return a tuple of {n} values ({', '.join(names)}); "
                          f"it returned {_describe(value)}")
    return tuple(value)


def expect_array(label, value, shape, hint=""):
    """``value`` must be a float array of ``shape``; returns it as a float64 NumPy array.

    A list or tuple is refused (with what to do): the caller does array arithmetic
    with the result (``h @ W.T``), which a list does not support.
    """
    if value is None or not hasattr(value, "shape") or not hasattr(value, "dtype"):
        if isinstance(value, (list, tuple)):
            raise CheckFailed(f"{label} must be a NumPy array of shape {shape}; received "
                              f"{_describe(value)}: return an array (build it with NumPy "
                              "operations, or convert at the end with np.array(...)), not a "
                              "Python list")
        raise CheckFailed(f"{label} must be an array of shape {shape}; received {_describe(value)}")
    arr = to_numpy(value)
    if tuple(arr.shape) != tuple(shape):
        extra = f" {hint}" if hint else ""
        raise CheckFailed(f"{label} has the wrong shape: received {tuple(arr.shape)}, expected "
                          f"{tuple(shape)}.{extra}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise CheckFailed(f"{label} must hold real numbers; its dtype is {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise CheckFailed(f"{label} holds a non-finite value ({arr[idx]}) at index {idx}")
    return arr


def close(a, b, rtol=1e-6, atol=1e-9):
    """Equal up to float rounding (float64 inputs: any correct order of operations passes)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def first_mismatch(received, expected, rtol=1e-6, atol=1e-9):
    """``(index, received_value, expected_value)`` of the first entry that differs, or None."""
    bad = ~np.isclose(received, expected, rtol=rtol, atol=atol)
    if not bad.any():
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return idx, float(np.asarray(received)[idx]), float(np.asarray(expected)[idx])


def compare(label, received, expected, diagnoses=(), rtol=1e-6, atol=1e-9):
    """Raise :class:`CheckFailed` unless ``received`` equals ``expected``.

    ``diagnoses`` is a sequence of ``(wrong_value, explanation)``: known mistakes,
    computed by the check. If ``received`` equals one of them, its explanation is
    the message; otherwise the message names the first mismatching entry.
    """
    mm = first_mismatch(received, expected, rtol, atol)
    if mm is None:
        return
    for wrong, why in diagnoses:
        if wrong is not None and close(received, wrong, rtol, atol):
            raise CheckFailed(f"{label} is wrong: {why}")
    idx, r, e = mm
    n_bad = int((~np.isclose(received, expected, rtol=rtol, atol=atol)).sum())
    raise CheckFailed(f"{label} is wrong at {n_bad} of {np.size(expected)} entries; the first "
                      f"is at index {idx}: received {r:.6g}, expected {e:.6g}")


def call_or_blame_orientation(name, fn, args, square_args, hint, timeout=DEFAULT_TIMEOUT):
    """Call ``fn(*args)``; if it raises on non-square sizes but runs on square ones, say so.

    A student function that fails with D != H but runs when D == H almost
    always multiplies by a weight in the wrong orientation. ``square_args``
    makes the same kind of inputs with D == H (it is called only on failure);
    pass ``None`` when the sizes are already square. ``hint`` says which
    products are meant, e.g. "x_t @ W_x.T is (B, 3H)".
    """
    try:
        return call_args(name, fn, args, timeout)
    except CheckFailed as failure:
        if square_args is None or failure.kind != "raised":
            raise
        sq = square_args()
        try:
            call_args(name, fn, sq, timeout)
        except CheckFailed:
            raise failure from None
        raise CheckFailed(f"{failure}\nIt runs when D == H, so {hint}") from None
