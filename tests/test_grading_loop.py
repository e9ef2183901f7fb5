"""The instructor's whole nbgrader loop, run on the committed sample submissions.

In a temporary copy of ``exercises/`` (never in the working tree): generate the
release from the sources, put the samples under nbgrader's ``submitted/`` layout
(plus the untouched release as one more student), autograde them all in fresh
kernels with a per-cell time limit, write the flag report, export the grades to
CSV and generate feedback - the commands of ``exercises/README.md``. Then, from
the gradebook, per test cell:

* ``full`` (the instructor's solutions) and ``alternative`` (other correct code:
  loops, einsum, in-place updates on copies) score full points, and raise no flag;
* ``untouched`` (the release as handed out) scores 0 and says "not implemented";
* ``wrong_1`` and ``wrong_2`` each carry one plausible mistake in EVERY function
  at once (the first two of tests/exercise_impls.py's ``WRONG``; all of them are
  run against the checks in test_checks.py): each function loses its own points,
  and its autograded test cell holds the expected explanation;
* ``misbehaving``: a function that never returns, one that returns None, a cell
  with an infinite loop at the top level (stopped by nbgrader's time limit), one
  that prints 10 000 lines, one that raises at import, and a deleted test cell -
  all graded and reported, none crashing the grader;
* ``tamper``: correct code, but a cell switches the checks off and patches NumPy:
  every test scores 0 and is flagged ``tampering``;
* ``abuse``: one case per function (``ABUSE`` in tests/exercise_impls.py): labrnn's
  implementation wrapped, imported under an alias or called from a helper,
  ``os._exit``, an infinite loop whose bare ``except:`` swallows the time-out, a
  memory hog, megabyte prints, an input changed in place, a list returned: each
  costs that function its points only (the megabyte prints none), with its message
  and flag.

Grading twice gives the same result: the ``abuse`` student (whose verdicts depend on
time and memory limits, if any do) is graded again and the grades CSV, the flags and
the test cells' text must not change. (The instructor's loop of exercises/README.md
was run twice in full on all samples too.)

Needs nbgrader (``pip install -e ".[instructor]"``); skipped without it. Runs
without network and without a Jupyter server; most of its time is kernel and
interpreter start-ups and the time limits of the misbehaving samples.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader", reason="the grading loop needs nbgrader: "
                    "pip install -e '.[instructor]'")

from exercise_impls import ABUSE, WRONG  # noqa: E402  (tests/ is on sys.path under pytest)

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
FUNCS = {"part1_elman": ["rnn_step_forward", "rnn_step_backward", "rnn_backward",
                         "clip_by_global_norm", "masked_cross_entropy", "sample_char"],
         "part2_gated": ["lstm_step_forward", "lstm_step_backward", "gru_step_forward"],
         "part3_architectures": ["bidirectional_combine", "beam_search",
                                 "additive_attention_weights"],
         "part45_applications": ["masked_sequence_loss", "rmsprop_update", "top_k_sample",
                                 "token_accuracy", "seasonal_naive_errors",
                                 "masked_attention_context", "speed_and_gradient",
                                 "ctc_alpha"]}
#: the points of each test cell (exercises/README.md's table says the same)
POINTS = {"rnn_step_forward": 2, "rnn_step_backward": 3, "rnn_backward": 3,
          "clip_by_global_norm": 2, "masked_cross_entropy": 2, "sample_char": 2,
          "lstm_step_forward": 3, "lstm_step_backward": 4, "gru_step_forward": 3,
          "bidirectional_combine": 3, "beam_search": 4, "additive_attention_weights": 3,
          "masked_sequence_loss": 3, "rmsprop_update": 2, "top_k_sample": 3,
          "token_accuracy": 2, "seasonal_naive_errors": 3, "masked_attention_context": 3,
          "speed_and_gradient": 3, "ctc_alpha": 4}
CELL_TIMEOUT = 20          # nbgrader's per-cell limit in this test (the course uses 120)
REGRADED = ("abuse",)    # graded a second time: the results must not change
HIDDEN_TEXT = ("BEGIN HIDDEN TESTS", "sandbox.grade", "Graded in a fresh process")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _nbgrader(course, *args, timeout=400):
    env = dict(os.environ)
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")     # nbgrader runs `alembic`
    env["JUPYTER_PATH"] = str(course / "_jupyter")              # the kernel: this interpreter
    env.pop("JUPYTER_CONFIG_DIR", None)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def _report(course):
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "labrnn.checks.report"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (course / "flags.csv").read_text()


def _cell_texts(course, students):
    return {(s, p.parent.name): _outputs(course, s, p.parent.name)
            for s in students for p in sorted((course / "autograded" / s).glob("*/*.ipynb"))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(EXERCISES / "nbgrader_config.py", course)
    shutil.copytree(EXERCISES / "source", course / "source")
    # A kernelspec for exactly this interpreter (which has labrnn installed), found
    # before any user- or system-wide "python3" kernel through JUPYTER_PATH.
    spec = course / "_jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    _nbgrader(course, "generate_assignment", "--force", "part*")
    for student_dir in (EXERCISES / "samples" / "submitted").iterdir():
        for assignment in student_dir.iterdir():
            shutil.copytree(assignment, course / "submitted" / student_dir.name / assignment.name)
    for assignment in FUNCS:
        shutil.copytree(course / "release" / assignment,
                        course / "submitted" / "untouched" / assignment)
    log = _nbgrader(course, "autograde", "--create", "--force", "part*",
                    f"--Execute.timeout={CELL_TIMEOUT}", timeout=1200)
    flags = _report(course)
    # Feedback for a few students is enough to test it (each notebook costs a conversion).
    for student in ("wrong_1", "abuse", "misbehaving"):
        _nbgrader(course, "generate_feedback", "--force", "part*", f"--student={student}")
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    first = {"csv": (course / "grades.csv").read_text(), "flags": flags,
             "cells": _cell_texts(course, REGRADED)}
    # Grade some students again, from scratch: the same grades, flags and messages.
    for student in REGRADED:
        _nbgrader(course, "autograde", "--force", "part*", f"--student={student}",
                  f"--Execute.timeout={CELL_TIMEOUT}", timeout=600)
    _nbgrader(course, "export", "--to", str(course / "grades_again.csv"))
    second = {"csv": (course / "grades_again.csv").read_text(), "flags": _report(course),
              "cells": _cell_texts(course, REGRADED)}
    return course, log, first, second


def _flags(course):
    return list(csv.DictReader((course / "flags.csv").open()))


def _scores(course, student, assignment):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades}


def _outputs(course, student, assignment):
    """grade_id -> all text the cell showed (stdout, errors), for the autograded notebook."""
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    nb = json.loads(path.read_text())
    out = {}
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        text = []
        for o in cell.get("outputs", []):
            text.append(o.get("text", "") if isinstance(o.get("text", ""), str)
                        else "".join(o["text"]))
            text.extend(o.get("traceback", []))
            text.append(o.get("evalue", ""))
        out[gid] = ANSI.sub("", "\n".join(text))
        out[f"source:{gid}"] = "".join(cell["source"])
    return out


def _assert_cell(course, student, assignment, func, full, fragment=None):
    scores = _scores(course, student, assignment)
    score, max_score = scores[f"test_{func}"]
    text = _outputs(course, student, assignment)[f"test_{func}"]
    expected = max_score if full else 0
    assert score == expected, (f"{student}/{func}: scored {score} of {max_score}, expected "
                               f"{expected}; the cell showed:\n{text}")
    if fragment:
        assert fragment in text, f"{student}/{func}: expected {fragment!r} in:\n{text}"


@pytest.mark.parametrize("student", ["full", "alternative"])
@pytest.mark.parametrize("assignment", sorted(FUNCS))
def test_correct_code_scores_full_points(graded, student, assignment):
    course = graded[0]
    scores = _scores(course, student, assignment)
    assert scores and all(s == m for s, m in scores.values()), scores
    assert scores == {f"test_{f}": (POINTS[f], POINTS[f]) for f in FUNCS[assignment]}, scores
    for func in FUNCS[assignment]:
        assert f"\u2714 {func} is correct" in _outputs(course, student, assignment)[f"test_{func}"]


@pytest.mark.parametrize("assignment", sorted(FUNCS))
def test_untouched_release_scores_zero(graded, assignment):
    course = graded[0]
    for func in FUNCS[assignment]:
        _assert_cell(course, "untouched", assignment, func, full=False,
                     fragment=f"{func} is not implemented yet")


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("assignment", sorted(FUNCS))
def test_each_wrong_implementation_loses_its_points(graded, assignment, k):
    course = graded[0]
    if not (EXERCISES / "samples" / "submitted" / f"wrong_{k}" / assignment).exists():
        pytest.skip(f"no wrong_{k} sample for {assignment}")
    for func in FUNCS[assignment]:
        if k <= len(WRONG[func]):
            _assert_cell(course, f"wrong_{k}", assignment, func, full=False,
                         fragment=WRONG[func][k - 1][2])
        else:                                # that function is the correct solution
            _assert_cell(course, f"wrong_{k}", assignment, func, full=True)


def test_at_least_two_wrong_variants_per_function():
    for funcs in FUNCS.values():
        for func in funcs:
            assert len(WRONG[func]) >= 2, func


def test_misbehaving_code_is_graded_and_reported(graded):
    course = graded[0]
    a = "part1_elman"
    _assert_cell(course, "misbehaving", a, "rnn_step_forward", False,
                 "did not return within 5 s")
    _assert_cell(course, "misbehaving", a, "rnn_step_backward", False,
                 "did you forget the `return` statement?")
    # A top-level infinite loop: nbgrader interrupts the cell, the function is never defined.
    out = _outputs(course, "misbehaving", a)
    assert re.search("Timeout|KeyboardInterrupt", out["rnn_backward"]), out["rnn_backward"]
    _assert_cell(course, "misbehaving", a, "rnn_backward", False,
                 "name 'rnn_backward' is not defined")
    # 10 000 printed lines are cut, and the (correct) function still scores.
    _assert_cell(course, "misbehaving", a, "clip_by_global_norm", True,
                 "more characters cut: remove debugging prints")
    assert len(out["test_clip_by_global_norm"]) < 5000
    # the checks ran each function in its own process: the time-out names the function
    assert "did not return within" in out["test_rnn_step_forward"]
    # An import that fails: reported in the student's cell, the test cell scores 0.
    assert "ModuleNotFoundError" in out["masked_cross_entropy"]
    _assert_cell(course, "misbehaving", a, "masked_cross_entropy", False,
                 "name 'masked_cross_entropy' is not defined")
    # The deleted test cell is put back by nbgrader and graded.
    assert "missing from the submission" in out["source:test_sample_char"]
    _assert_cell(course, "misbehaving", a, "sample_char", True, "sample_char is correct")


def test_grades_exported_to_csv(graded):
    course = graded[0]
    rows = list(csv.DictReader((course / "grades.csv").open()))
    by = {(r["student_id"], r["assignment"]): r for r in rows}
    for assignment in FUNCS:
        full = by[("full", assignment)]
        assert float(full["score"]) == float(full["max_score"]) > 0
        assert float(by[("untouched", assignment)]["score"]) == 0


def test_feedback_generated_without_hidden_tests(graded):
    course = graded[0]
    html = (course / "feedback" / "wrong_1" / "part1_elman" / "part1_elman.html").read_text()
    assert "does not change when b_h changes" in html
    html = (course / "feedback" / "wrong_1" / "part2_gated" / "part2_gated.html").read_text()
    assert "input and forget gates swapped" in html
    html = (course / "feedback" / "wrong_1" / "part3_architectures" /
            "part3_architectures.html").read_text()
    assert "reversing the whole padded time axis" in html
    html = (course / "feedback" / "wrong_1" / "part45_applications" /
            "part45_applications.html").read_text()
    assert "allowed over a REPEATED label" in html
    for page in sorted((course / "feedback").glob("*/*/*.html")):
        text = page.read_text()
        for secret in HIDDEN_TEXT:
            assert secret not in text, f"{page}: hidden test text {secret!r} in the feedback"
        # megabyte prints are cut: a page stays small (the styles alone are ~150 kB)
        assert page.stat().st_size < 400_000, f"{page}: {page.stat().st_size} bytes"
    # the megabyte printed at the top level of a cell is cut by the grader
    out = _outputs(course, "abuse", "part1_elman")
    assert "more characters cut by the grader" in out["sample_char"]
    assert len(out["sample_char"]) < 10_000


# ------------------------------------------------------------------ cheating and abuse
def test_tampering_scores_zero_and_is_flagged(graded):
    course = graded[0]
    a = "part1_elman"
    for func in FUNCS[a]:
        _assert_cell(course, "tamper", a, func, full=False,
                     fragment="FLAG [tampering] this notebook changed labrnn, its checks or "
                              "NumPy")
    text = _outputs(course, "tamper", a)["test_rnn_step_forward"]
    assert "numpy.allclose (replaced)" in text
    assert "labrnn.checks.notebook.check_" in text and "more in labrnn.checks.notebook" in text
    rows = [r for r in _flags(course) if r["student_id"] == "tamper"]
    assert {r["cell"] for r in rows if r["kind"] == "tampering"} == \
        {f"test_{f}" for f in FUNCS[a]}
    code = [r["message"] for r in rows if r["kind"] == "suspicious-code"]
    assert any("calls setattr()" in m for m in code), code
    assert any("assigns to np.allclose" in m for m in code), code


@pytest.mark.parametrize("assignment,func", [(a, f) for a, cases in sorted(ABUSE.items())
                                             for f in cases])
def test_each_abuse_costs_its_function_only(graded, assignment, func):
    course = graded[0]
    _, fragment, flag = ABUSE[assignment][func]
    full = func == "sample_char"              # megabyte prints, correct code: full points
    _assert_cell(course, "abuse", assignment, func, full=full, fragment=fragment)
    if flag:
        kinds = {r["kind"] for r in _flags(course) if r["student_id"] == "abuse"
                 and r["assignment"] == assignment and r["cell"] == f"test_{func}"}
        assert flag in kinds, kinds


def test_flags_are_reported_and_correct_code_raises_none(graded):
    course = graded[0]
    rows = _flags(course)
    by_student = {}
    for r in rows:
        by_student.setdefault(r["student_id"], []).append(r)
    for clean in ("full", "alternative", "untouched", "wrong_1", "wrong_2"):
        assert clean not in by_student, by_student.get(clean)
    labrnn_use = {(r["assignment"], r["cell"]) for r in by_student["abuse"]
                  if r["kind"] == "labrnn-implementation"}
    assert labrnn_use == {("part1_elman", "test_rnn_step_forward"),
                          ("part1_elman", "test_rnn_step_backward"),
                          ("part3_architectures", "test_beam_search"),
                          ("part45_applications", "test_seasonal_naive_errors"),
                          ("part45_applications", "test_ctc_alpha")}
    assert any(r["kind"] == "suspicious-code" and "_exit" in r["message"]
               for r in by_student["abuse"])
    assert {(r["cell"], r["kind"]) for r in by_student["misbehaving"]} >= \
        {("test_sample_char", "deleted-cell")}


def test_grading_twice_gives_the_same_results(graded):
    _, _, first, second = graded
    assert first["csv"] == second["csv"]
    assert first["flags"] == second["flags"]
    assert first["cells"] == second["cells"]
