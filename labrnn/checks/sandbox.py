"""Run an exercise check on a student's function in a fresh, limited Python process.

The exercise notebooks never run a check in the notebook's own kernel. A test cell
hands the student's function to :func:`check` (the visible test,
through :mod:`labrnn.checks.notebook`) or to :func:`grade` (the hidden, graded
test), which

1. **bundles the function as source**: ``inspect.getsource`` of the function and,
   for every global name it uses, how to rebuild it in another process (an import
   of a module or of a module's attribute, the source of another function of the
   notebook, a literal constant or a small NumPy array). Nothing else of the
   notebook travels: what a cell did to ``labrnn``, the checks or NumPy stays in
   the kernel;
2. **starts a fresh interpreter** (``python -I``: no user site, no current folder,
   no ``PYTHON*`` variables) in a new session, which imports the checks afresh,
   limits its memory (``RLIMIT_AS``) and the size of what it writes
   (``RLIMIT_FSIZE``), replaces every function of ``labrnn`` by a **tripwire** that
   records being called from the student's code, rebuilds the function and runs the
   check's cases with the per-call time limit of :func:`labrnn.checks._harness.call`;
   a watchdog thread ends the process when the student's code swallows that time
   limit (a bare ``except:``), and the kernel kills the whole session when it
   does not finish at all (a hang in C code), or when the student interrupts the
   cell (JupyterLab's Interrupt works);
3. **reads the verdict** (a JSON file) and prints the check's messages, or raises
   :class:`~labrnn.checks.CheckFailed` with the reason: the check's diagnosis, or
   that the process died (``os._exit``, a crash, memory), hung, or that the
   function uses ``labrnn``'s own implementation.

**Flags** (lines starting with ``⚑ FLAG``, collected by :mod:`labrnn.checks.report`
into ``flags.csv``) mark what the instructor should see:

* ``tampering``: the notebook replaced or deleted functions or constants of
  ``labrnn`` (the checks included), NumPy or ``math``, or rebound the name
  ``checks``: found by comparing fingerprints (name, type, bytecode) of every
  function in those modules in the kernel with a fresh import. The test fails
  (scores 0), although the change could not have altered the verdict;
* ``labrnn-implementation``: the function (or a helper it calls) uses one of
  ``labrnn``'s functions (other than the activations ``sigmoid``, ``tanh``,
  ``relu``, ``identity``): seen in its source (names, attribute chains, imports,
  aliases) or by a tripwire at run time. That function scores 0;
* ``suspicious``: its source uses something a numerical exercise does not need
  (``os``, ``sys``, ``subprocess``, ``signal``, ``exec``, ``open``, ...): shown,
  not scored.

Graded runs are reproducible: :func:`grade` takes fixed seeds, and a visible
check run by nbgrader's autograder (``NBGRADER_EXECUTION`` set) uses a fixed
seed too.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import types
import zlib

__all__ = ["check", "grade", "bundle", "fingerprints", "PARTS", "FLAG", "MEMORY_LIMIT",
           "OUTPUT_LIMIT", "ALLOWED_LABRNN"]

#: which check module holds the check of each graded function
PARTS = {
    "rnn_step_forward": "part1", "rnn_step_backward": "part1", "rnn_backward": "part1",
    "clip_by_global_norm": "part1", "masked_cross_entropy": "part1", "sample_char": "part1",
    "lstm_step_forward": "part2", "lstm_step_backward": "part2", "gru_step_forward": "part2",
    "bidirectional_combine": "part3", "beam_search": "part3",
    "additive_attention_weights": "part3",
    "masked_sequence_loss": "part45", "rmsprop_update": "part45", "top_k_sample": "part45",
    "token_accuracy": "part45", "seasonal_naive_errors": "part45",
    "masked_attention_context": "part45", "speed_and_gradient": "part45",
    "ctc_alpha": "part45",
}
#: the per-call time limit (s) of the checks that call the student's function thousands
#: of times (the statistical tests of the samplers); 5 s for the others
SLOW = {"sample_char": 20.0, "top_k_sample": 20.0}
#: the labrnn functions a student may call (Part II hands out ``sigmoid``)
ALLOWED_LABRNN = frozenset({"sigmoid", "tanh", "relu", "identity"})
FLAG = "\u2691 FLAG"
MEMORY_LIMIT = 1024 ** 3        # bytes of address space the student's code may add
OUTPUT_LIMIT = 2000             # characters of the process's raw output shown
FILE_LIMIT = 4 * 1024 ** 2      # bytes the process may write to one file
_SUSPICIOUS = {"os", "sys", "subprocess", "signal", "resource", "ctypes", "gc", "inspect",
               "builtins", "importlib", "threading", "multiprocessing", "exec", "eval",
               "compile", "open", "__import__", "globals", "setattr", "delattr",
               "get_ipython", "_exit", "kill", "system"}
_FP_EXTRA = ("numpy", "numpy.linalg", "numpy.random", "math")


# ======================================================================== fingerprints
def _const_key(c):
    """A process-independent text for a code constant (a frozenset's order is not)."""
    if isinstance(c, types.CodeType):
        return _code_key(c)
    if isinstance(c, frozenset):
        return "frozenset(" + ",".join(sorted(_const_key(x) for x in c)) + ")"
    if isinstance(c, tuple):
        return "(" + ",".join(_const_key(x) for x in c) + ")"
    return repr(c)


def _code_key(code):
    parts = [code.co_code, repr(code.co_names), repr(code.co_varnames)]
    for c in code.co_consts:
        parts.append(_const_key(c))
    return hashlib.sha1("\x00".join(p if isinstance(p, str) else p.hex()
                                    for p in parts).encode()).hexdigest()[:16]


def _describe(value, depth=0):
    """A short, process-independent description of a module attribute (None: skip it)."""
    if isinstance(value, types.ModuleType):
        return None
    if isinstance(value, types.FunctionType):
        cells = ""
        if value.__closure__:
            try:
                cells = repr([c.cell_contents for c in value.__closure__
                              if isinstance(c.cell_contents, (str, int, float, tuple))])
            except ValueError:                                  # an empty cell
                cells = "?"
        return (f"function {value.__module__}.{value.__qualname__} "
                f"{_code_key(value.__code__)} {cells}")
    if isinstance(value, type):
        if depth == 0 and (value.__module__ or "").startswith("labrnn"):
            members = sorted((k, _describe(v, 1)) for k, v in vars(value).items()
                             if isinstance(v, (types.FunctionType, staticmethod, classmethod)))
            return f"class {value.__module__}.{value.__qualname__} {members}"
        return f"class {getattr(value, '__module__', '')}.{value.__qualname__}"
    if isinstance(value, (staticmethod, classmethod)):
        return _describe(value.__func__, depth)
    if isinstance(value, (bool, int, float, str, type(None))):
        return f"{type(value).__name__} {value!r}"[:200]
    if callable(value):
        return (f"{type(value).__module__}.{type(value).__qualname__} "
                f"{getattr(value, '__name__', '')}")
    return None


def _fingerprint_modules(names):
    out = {}
    for mod_name in names:
        mod = sys.modules.get(mod_name)
        if mod is None:
            continue
        private_ok = mod_name.startswith("labrnn")
        for key, value in list(vars(mod).items()):
            if key.startswith("__") or (key.startswith("_") and not private_ok):
                continue
            d = _describe(value)
            if d is not None:
                out[f"{mod_name}.{key}"] = d
    return out


def _modules_to_fingerprint():
    return sorted(n for n in list(sys.modules)
                  if (n == "labrnn" or n.startswith("labrnn.")) and n != __name__
                  and sys.modules[n] is not None) + list(_FP_EXTRA)


def fingerprints():
    """``{"module.attr": description}`` for every function, class and constant of the
    loaded ``labrnn`` modules (the checks included, this module excluded), NumPy's main
    namespace, ``numpy.linalg``, ``numpy.random`` and ``math``."""
    return _fingerprint_modules(_modules_to_fingerprint())


def _tampering(kernel_fps, fresh_fps):
    """Names whose fingerprint differs between the kernel and a fresh import."""
    changed = []
    modules = {k.rsplit(".", 1)[0] for k in fresh_fps}
    kernel_modules = {k.rsplit(".", 1)[0] for k in kernel_fps}
    for key, fresh in fresh_fps.items():
        got = kernel_fps.get(key)
        if got is None:
            if key.rsplit(".", 1)[0] in kernel_modules:
                changed.append(f"{key} (deleted)")
        elif got != fresh:
            changed.append(f"{key} (replaced)")
    for key in kernel_fps:
        if key not in fresh_fps and key.rsplit(".", 1)[0] in modules:
            changed.append(f"{key} (added)")
    return sorted(changed)


# ======================================================================== the bundle
class BundleError(Exception):
    """The function cannot be sent to the checking process (message for the student)."""


def _literal(value):
    try:
        text = repr(value)
        if len(text) <= 100_000 and ast.literal_eval(text) == value:
            return text
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    return None


def _names_in(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _dotted(node):
    """'a.b.c' for an attribute chain rooted at a Name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


def _is_labrnn_function(obj):
    """True for a labrnn function or class that the student must not call."""
    mod = getattr(obj, "__module__", None) or ""
    if not (mod == "labrnn" or mod.startswith("labrnn.")) or mod.startswith("labrnn.checks"):
        return False
    return callable(obj) and getattr(obj, "__name__", "") not in ALLOWED_LABRNN


def _labrnn_name(obj):
    return f"{obj.__module__}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _importable(value):
    """(module, attribute path) from which ``value`` can be imported again, or None."""
    candidates = []
    mod = getattr(value, "__module__", None)
    qual = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(mod, str) and isinstance(qual, str):
        candidates.append((mod, qual))
    name = getattr(value, "__name__", None)
    if isinstance(name, str):
        for m in ("numpy", "math", "numpy.linalg", "numpy.random", "operator", "functools",
                  "itertools", "heapq", "builtins"):
            candidates.append((m, name))
    for mod_name, path in candidates:
        obj = sys.modules.get(mod_name)
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        if obj is value and mod_name != "__main__":
            return mod_name, path
    return None


class _Bundler:
    def __init__(self, home):
        self.home = home                     # the student's module name ("__main__")
        self.functions = []
        self.index = {}
        self.unsent = {}
        self.labrnn = []                     # labrnn names the source uses
        self.suspicious = []

    def ref(self, name, value, tree_uses):
        """How to rebuild ``value`` (bound to global ``name``) in the checking process."""
        if isinstance(value, types.ModuleType):
            mod = value.__name__
            if mod == "labrnn" or mod.startswith("labrnn."):
                for chain in tree_uses.get(name, ()):
                    obj = value
                    try:
                        for part in chain.split(".")[1:]:
                            obj = getattr(obj, part)
                    except AttributeError:
                        continue
                    if _is_labrnn_function(obj):
                        self.labrnn.append(f"{chain} (= {_labrnn_name(obj)})")
            if mod in _SUSPICIOUS or mod.split(".")[0] in _SUSPICIOUS:
                self.suspicious.append(f"the module {mod}")
            return {"kind": "module", "name": mod}
        if isinstance(value, types.FunctionType) and value.__module__ == self.home:
            return {"kind": "function", "index": self.function(value)}
        if _is_labrnn_function(value):
            self.labrnn.append(f"{name} (= {_labrnn_name(value)})")
        where = None if isinstance(value, (bool, int, float, str)) else _importable(value)
        if where is not None:
            if where[1].split(".")[-1] in _SUSPICIOUS or where[0] in _SUSPICIOUS:
                self.suspicious.append(f"{where[0]}.{where[1]}")
            return {"kind": "attr", "module": where[0], "path": where[1]}
        text = _literal(value)
        if text is not None:
            return {"kind": "literal", "text": text}
        np = sys.modules.get("numpy")
        if np is not None and isinstance(value, (np.ndarray, np.generic)):
            arr = np.asarray(value)
            if arr.size <= 1_000_000 and arr.dtype.kind in "biuf":
                return {"kind": "array", "data": arr.tolist(), "dtype": str(arr.dtype),
                        "scalar": isinstance(value, np.generic)}
        self.unsent[name] = type(value).__name__
        return None

    def function(self, fn):
        if id(fn) in self.index:
            return self.index[id(fn)]
        k = len(self.functions)
        self.index[id(fn)] = k
        record = {"name": fn.__name__, "source": None, "globals": {}}
        self.functions.append(record)
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):
            raise BundleError(f"the source of {fn.__name__} cannot be found: define it with "
                              "`def` in a cell of the notebook") from None
        tree = ast.parse(source)
        if fn.__name__ == "<lambda>":
            lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
            if len(lambdas) != 1:
                raise BundleError("define the function with `def`, not as a lambda")
            source = "__lambda__ = " + ast.get_source_segment(source, lambdas[0])
            tree = ast.parse(source)
            record["name"] = "__lambda__"
        record["source"] = source
        uses = {}
        for node in ast.walk(tree):
            d = _dotted(node) if isinstance(node, ast.Attribute) else None
            if d:
                uses.setdefault(d.split(".")[0], []).append(d)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._imported(node)
            if isinstance(node, ast.Name) and node.id in _SUSPICIOUS:
                self.suspicious.append(node.id)
            if isinstance(node, ast.Attribute) and node.attr in _SUSPICIOUS:
                self.suspicious.append(d or node.attr)
        names = _names_in(tree)
        env = dict(fn.__globals__)
        if fn.__closure__:
            for var, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    env[var] = cell.cell_contents
                except ValueError:
                    pass
                names.add(var)
        for name in sorted(names):
            if name in env and name not in ("__builtins__",):
                r = self.ref(name, env[name], uses)
                if r is not None:
                    record["globals"][name] = r
        return k

    def _imported(self, node):
        """An import inside a function body: flag labrnn functions and odd modules."""
        import importlib
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _SUSPICIOUS:
                    self.suspicious.append(f"import {alias.name}")
            return
        mod = node.module or ""
        if mod.split(".")[0] in _SUSPICIOUS:
            self.suspicious.append(f"from {mod} import ...")
        if mod == "labrnn" or mod.startswith("labrnn."):
            try:
                module = importlib.import_module(mod)
            except ImportError:
                return
            for alias in node.names:
                obj = getattr(module, alias.name, None)
                if _is_labrnn_function(obj):
                    self.labrnn.append(f"from {mod} import {alias.name} (= {_labrnn_name(obj)})")


def bundle(fn):
    """The JSON-able recipe that rebuilds ``fn`` in another process (see the module doc).

    Raises :class:`BundleError` when ``fn`` is not a function defined in the notebook
    (a message for the student); a labrnn function passed as is is reported in
    ``labrnn`` instead.
    """
    if not isinstance(fn, types.FunctionType):
        if _is_labrnn_function(fn):
            return {"functions": [], "entry": None, "unsent": {}, "suspicious": [],
                    "labrnn": [f"the function itself is {_labrnn_name(fn)}"]}
        raise BundleError(f"expected a function defined with `def`; received "
                          f"{type(fn).__name__} {getattr(fn, '__name__', '')}".rstrip())
    b = _Bundler(fn.__module__)
    entry = b.function(fn)
    if fn.__module__ != "__main__" and (fn.__module__ or "").startswith("labrnn"):
        b.labrnn.append(f"the function itself is {_labrnn_name(fn)}")
    return {"functions": b.functions, "entry": entry, "unsent": b.unsent,
            "labrnn": sorted(set(b.labrnn)), "suspicious": sorted(set(b.suspicious))}


# ======================================================================== the kernel side
def _root():
    """The folder that holds this labrnn package (put first on the child's path)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from labrnn.checks.sandbox import _child_main; _child_main(sys.argv[2])")


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.wait()


def _show(text):
    if text:
        print(text)


def _fail(message):
    from ._harness import CheckFailed
    raise CheckFailed(message)


def _run(name, fn, cases, timeout, memory=MEMORY_LIMIT, extra_flags=()):
    """Run ``check_<name>(fn, **case)`` for each case in a fresh process; see module doc."""
    from ._harness import CheckFailed
    try:
        recipe = bundle(fn)
    except BundleError as e:
        raise CheckFailed(f"{name} cannot be checked: {e}") from None
    if recipe["suspicious"] and not recipe["labrnn"]:
        # printed here, before the process starts: it may not live to report it
        print(f"{FLAG} [suspicious] {name} uses {', '.join(recipe['suspicious'])}: not "
              "needed for the exercise; look at it")
    request = {"name": name, "part": PARTS[name], "cases": cases, "bundle": recipe,
               "fingerprints": fingerprints(), "memory": memory, "flags": list(extra_flags)}
    per_call = max([c.get("timeout", timeout) for c in cases] + [timeout])
    hard_limit = 15 + 4 * per_call * len(cases)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="labrnn-check-") as tmp:
        verdict_path = os.path.join(tmp, "verdict.json")
        out_path = os.path.join(tmp, "output.txt")
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-I", "-c", _BOOT, _root(), verdict_path],
                                    stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                    cwd=tmp, env=env, start_new_session=True)
            hung = False
            try:
                try:
                    proc.stdin.write(json.dumps(request).encode())
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
                proc.wait(timeout=hard_limit)
            except subprocess.TimeoutExpired:
                hung = True
                _kill(proc)
            except BaseException:                 # KeyboardInterrupt: the student stops it
                _kill(proc)
                raise
        with open(out_path, "rb") as f:
            raw = f.read(OUTPUT_LIMIT + 1).decode("utf-8", "replace")
        raw_size = os.path.getsize(out_path)
        verdict = None
        if os.path.exists(verdict_path):
            try:
                with open(verdict_path) as f:
                    verdict = json.load(f)
            except (OSError, ValueError):
                verdict = None
    note = ""
    if raw_size:
        cut = f"\n... ({raw_size - OUTPUT_LIMIT} more characters cut)" \
            if raw_size > OUTPUT_LIMIT else ""
        note = f"[the checking process wrote {raw_size} characters]\n{raw[:OUTPUT_LIMIT]}{cut}"
    if verdict is None:
        _show(note)
        if hung:
            raise CheckFailed(f"{name} did not return within {hard_limit:g} s and could not "
                              "be stopped earlier: is there an infinite loop, perhaps in a "
                              "long NumPy or built-in call (sum(range(10**12)))? The check "
                              "was stopped; this costs this function its points only.")
        code = proc.returncode
        if code is not None and code < 0:
            sig = -code
            what = {signal.SIGKILL: "was killed (SIGKILL): often the memory limit",
                    signal.SIGSEGV: "crashed (segmentation fault): often the memory limit "
                                    "hit inside NumPy"}.get(sig, f"was ended by signal {sig}")
            raise CheckFailed(f"the process running {name} {what}. Does it build huge arrays "
                              "or ever-growing lists?")
        raise CheckFailed(f"the process running {name} ended before the check finished (exit "
                          f"status {code}): does {name} call os._exit(), os.kill or "
                          "something else that ends Python? A function must return its result.")
    for line in verdict.get("flags", []):
        print(f"{FLAG} [{line['kind']}] {line['message']}")
    _show(verdict.get("output", ""))
    _show(note)
    if verdict["status"] != "pass":
        raise CheckFailed(verdict["message"])


def _autograding():
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def _not_implemented(name, fn):
    """Fail at once (no process) for the untouched template ``raise NotImplementedError()``."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.FunctionDef) else []
    body = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Raise) and \
            "NotImplementedError" in ast.unparse(body[0]):
        _fail(f"{name} is not implemented yet: replace `raise NotImplementedError()` with "
              "your code")


def check(name, fn, timeout=None, **kwargs):
    """The visible check of ``name`` on ``fn`` in a fresh process (see module doc).

    ``kwargs`` go to ``labrnn.checks.<part>.check_<name>``; without ``seed`` the inputs
    are random. Under nbgrader's autograder (``NBGRADER_EXECUTION=autograde``) it does
    nothing: the graded test below it (:func:`grade`) runs this same case with a fixed
    seed, together with the hidden cases, in one process.
    """
    if _autograding() and not kwargs:
        return
    _not_implemented(name, fn)
    if timeout is not None:
        kwargs["timeout"] = timeout
    _run(name, fn, [kwargs], timeout or SLOW.get(name, 5.0))


def grade(name, fn, cases, timeout=None):
    """The graded (hidden) test of ``name``: every case (a dict of keyword arguments of
    the check, with a fixed ``seed``) in ONE fresh process; raises on the first failure.

    Also flags the notebook when its name ``checks`` no longer refers to
    :mod:`labrnn.checks.notebook`.
    """
    flags = []
    caller = sys._getframe(1).f_globals
    module = sys.modules.get("labrnn.checks.notebook")
    if "checks" in caller and caller["checks"] is not module:
        flags.append("the name `checks` no longer refers to labrnn.checks.notebook (it was "
                     f"rebound to {type(caller['checks']).__name__})")
    _not_implemented(name, fn)
    cases = [dict(c) for c in cases]
    if not any(set(c) <= {"seed", "timeout"} for c in cases):
        # the visible check's default case, with a fixed seed
        cases.insert(0, {"seed": zlib.crc32(name.encode()) % 10_000})
    if timeout is not None:
        for c in cases:
            c.setdefault("timeout", timeout)
    _run(name, fn, cases, timeout or SLOW.get(name, 5.0),
         extra_flags=flags)


# ======================================================================== the child side
def _rebuild(recipe):
    """Rebuild the student's function from its recipe (in the checking process)."""
    import importlib

    def value_of(ref):
        kind = ref["kind"]
        if kind == "module":
            return importlib.import_module(ref["name"])
        if kind == "attr":
            obj = importlib.import_module(ref["module"])
            for part in ref["path"].split("."):
                obj = getattr(obj, part)
            return obj
        if kind == "literal":
            return ast.literal_eval(ref["text"])
        if kind == "array":
            import numpy as np
            arr = np.asarray(ref["data"], dtype=ref["dtype"])
            return arr[()] if ref.get("scalar") else arr
        return built[ref["index"]]

    built = {}
    namespaces = []
    for k, rec in enumerate(recipe["functions"]):
        ns = {"__name__": "__main__", "__builtins__": __builtins__}
        namespaces.append(ns)
    # Two passes: create every function, then fill in the globals (functions may call
    # each other, in any order, and recursively).
    for k, rec in enumerate(recipe["functions"]):
        ns = namespaces[k]
        # Globals first (decorators and default values are evaluated by `def`).
        for name, ref in rec["globals"].items():
            if ref["kind"] != "function":
                ns[name] = value_of(ref)
        exec(compile(rec["source"], f"<your {rec['name']}>", "exec"), ns)
        built[k] = ns[rec["name"]] if rec["name"] in ns else None
    for k, rec in enumerate(recipe["functions"]):
        for name, ref in rec["globals"].items():
            if ref["kind"] == "function":
                namespaces[k][name] = built[ref["index"]]
    return built[recipe["entry"]]


def _install_tripwires(called):
    """Replace every labrnn function (not the checks) in every loaded labrnn module by a
    wrapper that records a call from the student's code (the outermost one only, and
    none for the allowed activations)."""
    import functools
    from ._harness import STUDENT
    wires = {}
    for mod_name in [n for n in list(sys.modules) if n == "labrnn" or n.startswith("labrnn.")]:
        if mod_name.startswith("labrnn.checks"):
            continue
        mod = sys.modules[mod_name]
        for key, value in list(vars(mod).items()):
            if not (isinstance(value, types.FunctionType)
                    and (value.__module__ or "").startswith("labrnn")
                    and not value.__module__.startswith("labrnn.checks")):
                continue                       # classes: their methods call the functions
            if id(value) not in wires:
                def make(original, label, record):
                    @functools.wraps(original)
                    def tripwire(*args, **kwargs):
                        if not STUDENT.active or getattr(STUDENT, "inside", False):
                            return original(*args, **kwargs)
                        if record and label not in called:   # the outermost call only
                            called.append(label)
                        STUDENT.inside = True
                        try:
                            return original(*args, **kwargs)
                        finally:
                            STUDENT.inside = False
                    return tripwire
                # An allowed function (sigmoid) is wired too, without recording, so that
                # the labrnn helpers it calls are not counted against the student.
                wires[id(value)] = make(value, _labrnn_name(value), _is_labrnn_function(value))
            setattr(mod, key, wires[id(value)])


def _set_limits(memory):
    try:
        import resource
    except ImportError:                        # not on this platform: no limits
        return
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a too-large write raises OSError
    for res, value in ((resource.RLIMIT_FSIZE, FILE_LIMIT), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + memory, used + memory))
    except (OSError, ValueError, AttributeError):
        pass


def _child_main(verdict_path):
    """The checking process: read the request on stdin, write the verdict JSON."""
    import contextlib
    import importlib
    import io
    import threading

    request = json.loads(sys.stdin.read())
    name = request["name"]
    flags = [{"kind": "tampering", "message": m} for m in request.get("flags", [])]
    written = []

    def write(status, message, output=""):
        if written:
            return
        written.append(True)
        verdict = {"status": status, "message": message, "output": output[-20_000:],
                   "flags": flags}
        tmp = verdict_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(verdict, f)
        os.replace(tmp, verdict_path)

    import numpy  # noqa: F401  (fingerprinted below)
    from . import notebook  # noqa: F401
    from ._harness import WATCH, CheckFailed
    checks = importlib.import_module(f"labrnn.checks.{request['part']}")
    for mod_name in request["fingerprints"]:
        base = mod_name.rsplit(".", 1)[0]
        if base.startswith("labrnn") and base not in sys.modules:
            try:
                importlib.import_module(base)
            except ImportError:
                pass
    fresh = _fingerprint_modules(sorted({k.rsplit(".", 1)[0] for k in request["fingerprints"]}
                                        | set(_FP_EXTRA)))
    tampered = _tampering(request["fingerprints"], fresh)
    if tampered:
        groups = {}
        for item in tampered:                  # grouped by module, NumPy and math first
            groups.setdefault(item.split(" ")[0].rsplit(".", 1)[0], []).append(item)
        order = sorted(groups, key=lambda m: (m.startswith("labrnn"), m))
        shown = "; ".join(", ".join(groups[m][:4]) + (f" and {len(groups[m]) - 4} more in {m}"
                                                      if len(groups[m]) > 4 else "")
                          for m in order)
        flags.append({"kind": "tampering", "message": (
            f"this notebook changed labrnn, its checks or NumPy: {shown}")})
    if any(f["kind"] == "tampering" for f in flags):
        write("fail", "the notebook altered labrnn, its checks or NumPy (see the flag "
              "above), or the name `checks`. The checks run in a separate process, so "
              "this cannot change a verdict, but altering the checker scores 0 for "
              "every graded test; your instructor sees this flag.")
        return
    recipe = request["bundle"]
    for ref_mod in {r.get("name") or r.get("module") for f in recipe["functions"]
                    for r in f["globals"].values() if r["kind"] in ("module", "attr")}:
        if ref_mod and (ref_mod == "labrnn" or ref_mod.startswith("labrnn.")):
            with contextlib.suppress(ImportError):
                importlib.import_module(ref_mod)
    called = []
    _install_tripwires(called)

    def uses_labrnn(what):
        msg = (f"{name} uses labrnn's own implementation ({what}): the exercise is to write "
               f"it yourself with NumPy, so {name} scores 0 (only sigmoid, tanh, relu and "
               "identity may be imported from labrnn)")
        flags.append({"kind": "labrnn-implementation", "message": msg})
        return msg

    if recipe["labrnn"]:
        write("fail", uses_labrnn("; ".join(recipe["labrnn"])))
        return
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            fn = _rebuild(recipe)
    except BaseException as e:                            # noqa: BLE001
        write("fail", f"defining {name} again in the checking process failed: "
                      f"{type(e).__name__}: {e}", buffer.getvalue()[:2000])
        return
    if not callable(fn):
        write("fail", f"{name} could not be rebuilt from its source")
        return

    # The watchdog: the student's code swallowed the time-out (a bare `except:`).
    def watchdog():
        while True:
            time.sleep(0.05)
            started, limit = WATCH.get("started"), WATCH.get("limit")
            if started is not None and time.monotonic() - started > limit + 1.5:
                write("fail", f"{name} did not return within {limit:g} s, and it caught the "
                      "signal that stops it (a bare `except:` or `except BaseException:` "
                      "inside a loop swallows it): is there an infinite loop? Catch only the "
                      "exceptions you expect (except ValueError:).", buffer.getvalue())
                os._exit(0)
    threading.Thread(target=watchdog, daemon=True).start()
    _set_limits(int(request.get("memory", MEMORY_LIMIT)))
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            for case in request["cases"]:
                getattr(checks, f"check_{name}")(fn, **case)
                if called:
                    break
    except CheckFailed as e:
        if not called:
            text = str(e)
            if "raised NameError" in text and recipe["unsent"]:
                text += ("\n(The check runs your function in a fresh Python process: it sees "
                         "only your functions, imports and simple constants. Not sent: "
                         + ", ".join(f"{k} ({v})" for k, v in recipe["unsent"].items())
                         + ". Create such values inside the function.)")
            if "raised MemoryError" in text or "ArrayMemoryError" in text:
                text += (f"\n(The memory limit of the checking process is "
                         f"{MEMORY_LIMIT // 1024**2} MB more than at its start: does the "
                         "function build huge arrays or ever-growing lists?)")
            write("fail", text, buffer.getvalue())
            return
    except MemoryError:
        write("fail", f"{name} ran out of memory (the memory limit is "
                      f"{MEMORY_LIMIT // 1024**2} MB more than at the start): does it build huge arrays or ever-growing lists?",
              buffer.getvalue()[:2000])
        return
    except BaseException as e:                              # noqa: BLE001
        write("fail", f"the check of {name} failed unexpectedly: {type(e).__name__}: {e}",
              buffer.getvalue())
        return
    if called:
        write("fail", uses_labrnn(", ".join(f"it called {c}" for c in called)),
              buffer.getvalue())
        return
    write("pass", "", buffer.getvalue())

