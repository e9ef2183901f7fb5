"""The instructor's flag report: ``flags.csv`` beside nbgrader's ``grades.csv``.

Run it from the course folder (``exercises/``) after ``nbgrader autograde``::

    python -m labrnn.checks.report            # writes flags.csv, prints a summary

One row per flag: ``student_id, assignment, cell, kind, message``, sorted, so
that the same submissions give the same file. Two sources, neither of which the
student's code can influence:

1. **the autograded notebooks** (``autograded/<student>/<assignment>/*.ipynb``):
   every ``⚑ FLAG [kind] message`` line that the checks printed in a test cell
   (``tampering``, ``labrnn-implementation``, ``suspicious``; see
   :mod:`labrnn.checks.sandbox`), and test cells stopped by nbgrader's time limit
   (``cell-timeout``);
2. **the submitted notebooks as handed in** (``submitted/...``), read as text, not
   run: code in the student's cells that changes an imported module, the
   interpreter or IPython (``np.allclose = ...``, ``setattr(checks, ...)``,
   ``sys.modules``, ``builtins``, ``get_ipython()``, ``exec``/``eval``,
   ``importlib.reload``, ``os._exit``): ``suspicious-code``, with the line; locked
   cells the student edited or deleted (nbgrader put them back and logged "checksum
   ... has changed!"): ``edited-locked-cell``, ``deleted-cell``; and a submission
   without an autograded notebook (nbgrader removed it, e.g. the kernel died at the
   top level of a cell): ``not-graded``.

A flag is for the instructor to look at; the score is decided by the tests
(``tampering`` and ``labrnn-implementation`` already scored 0).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import re
from pathlib import Path

__all__ = ["collect_flags", "scan_source", "main"]

_FLAG_LINE = re.compile(r"\u2691 FLAG \[([a-z-]+)\] (.*)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CALLS = {"setattr", "delattr", "exec", "eval", "compile", "__import__", "globals",
          "get_ipython", "reload", "_exit", "system", "kill"}
_MODULE_ROOTS = {"sys", "builtins", "os", "signal", "subprocess", "importlib", "ctypes", "gc"}


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _text(output):
    parts = []
    text = output.get("text", "")
    parts.append("".join(text) if isinstance(text, list) else text)
    for key in ("text/plain",):
        data = output.get("data", {}).get(key)
        if data:
            parts.append("".join(data) if isinstance(data, list) else data)
    parts.extend(output.get("traceback", []))
    parts.append(output.get("ename", "") + ": " + output.get("evalue", ""))
    return _ANSI.sub("", "\n".join(parts))


def _module_aliases(cells):
    """Names bound to modules by the notebook's import statements."""
    names = {"np", "numpy", "labrnn", "checks", "sandbox", "math"} | _MODULE_ROOTS
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {(a.asname or a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                root = node.module.split(".")[0]
                if root in ("labrnn", "numpy"):
                    names |= {a.asname or a.name for a in node.names}
    return names


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan_source(source, modules):
    """Lines of ``source`` (a student cell) that change a module, the interpreter or
    IPython: ``[(line_number, why, code)]``. ``modules``: names bound to modules."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines()
    found = []

    def add(node, why):
        code = lines[node.lineno - 1].strip() if 0 < node.lineno <= len(lines) else ""
        found.append((node.lineno, why, code[:160]))

    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            if isinstance(t, (ast.Attribute, ast.Subscript)) and _root(t) in modules:
                add(node, f"assigns to {ast.unparse(t)[:60]}, part of an imported module")
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) \
                else None
            if name in _CALLS:
                add(node, f"calls {name}()")
        if isinstance(node, ast.Attribute) and node.attr in ("modules", "__dict__",
                                                              "input_transformers_cleanup",
                                                              "showtraceback") \
                and isinstance(node.ctx, ast.Load) and _root(node) in modules | {"ip"}:
            add(node, f"uses {ast.unparse(node)[:60]}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for m in mods:
                if m.split(".")[0] in _MODULE_ROOTS - {"os"} or m == "builtins":
                    add(node, f"imports {m}")
    return sorted(set(found))


def collect_flags(course="."):
    """Every flag of the course folder ``course``: a sorted list of row dicts."""
    course = Path(course)
    rows = []
    released = {}
    for path in sorted((course / "release").glob("*/*.ipynb")):
        released[(path.parent.name, path.name)] = {
            _meta(c).get("grade_id"): c for c in _cells(path) if _meta(c).get("grade_id")}
    submitted = sorted((course / "submitted").glob("*/*/*.ipynb"))
    for path in submitted:
        student, assignment = path.parent.parent.name, path.parent.name
        cells = _cells(path)
        modules = _module_aliases(cells)
        release = released.get((assignment, path.name), {})
        seen = set()
        for cell in cells:
            meta = _meta(cell)
            gid = meta.get("grade_id", "")
            seen.add(gid)
            src = _source(cell)
            ref = release.get(gid)
            if ref is not None and _meta(ref).get("locked"):
                if src.strip() != _source(ref).strip():
                    rows.append((student, assignment, gid, "edited-locked-cell",
                                 "the student changed a locked cell; nbgrader graded the "
                                 "original (its log says the checksum has changed)"))
                continue
            if cell.get("cell_type") != "code":
                continue
            for lineno, why, code in scan_source(src, modules):
                rows.append((student, assignment, gid or "(new cell)", "suspicious-code",
                             f"line {lineno}: {why}: {code}"))
        for gid, ref in release.items():
            if gid not in seen and _meta(ref).get("locked"):
                rows.append((student, assignment, gid, "deleted-cell",
                             "the student deleted this locked cell; nbgrader put it back"))
        graded = course / "autograded" / student / assignment / path.name
        if not graded.exists():
            rows.append((student, assignment, "", "not-graded",
                         "no autograded notebook: nbgrader failed on it (see its log: a "
                         "kernel that died, or a cell that could not be interrupted)"))
            continue
        for cell in _cells(graded):
            gid = _meta(cell).get("grade_id", "")
            for out in cell.get("outputs", []):
                text = _text(out)
                for m in _FLAG_LINE.finditer(text):
                    rows.append((student, assignment, gid, m.group(1), m.group(2).strip()))
                if _meta(cell).get("grade") and re.search(r"CellTimeoutError|"
                                                          r"KeyboardInterrupt", text):
                    rows.append((student, assignment, gid, "cell-timeout",
                                 "nbgrader's per-cell time limit stopped this test cell"))
    keys = ("student_id", "assignment", "cell", "kind", "message")
    return [dict(zip(keys, r)) for r in sorted(set(rows))]


def main(argv=None):
    """``python -m labrnn.checks.report [--course DIR] [--out flags.csv]``."""
    parser = argparse.ArgumentParser(prog="python -m labrnn.checks.report",
                                     description="Write the flags of an nbgrader course "
                                                 "folder to a CSV file (see the module doc).")
    parser.add_argument("--course", default=".", help="the course folder (default: .)")
    parser.add_argument("--out", default=None, help="the CSV file (default: COURSE/flags.csv)")
    args = parser.parse_args(argv)
    rows = collect_flags(args.course)
    out = Path(args.out) if args.out else Path(args.course) / "flags.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id", "assignment", "cell", "kind",
                                               "message"])
        writer.writeheader()
        writer.writerows(rows)
    kinds = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    print(f"{len(rows)} flags ({summary}) written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
