"""The instructor's whole nbgrader loop, run on the committed sample submissions.

In a temporary copy of ``exercises/`` (never in the working tree): generate the
release from the sources, put the samples under nbgrader's ``submitted/`` layout
(plus the untouched release as one more student), autograde them all in fresh
kernels with a per-cell time limit, export the grades to CSV and generate the
feedback - the commands of ``exercises/README.md``. Then, from the gradebook,
per test cell:

* ``full`` (the instructor's solutions) and ``alternative`` (other correct code:
  loops, einsum, in-place updates) score full points;
* ``untouched`` (the release as handed out) scores 0 and says "not implemented";
* ``wrong_1`` and ``wrong_2`` each carry one plausible mistake in EVERY function
  at once (the first two of tests/exercise_impls.py's ``WRONG``; all of them are
  run against the checks in test_checks.py): each function loses its own points,
  and its autograded test cell holds the expected explanation;
* ``misbehaving``: a function that never returns, one that returns None, a cell
  with an infinite loop at the top level (stopped by nbgrader's time limit), one
  that prints 10 000 lines, one that raises at import, and a deleted test cell -
  all graded and reported, none crashing the grader.

Needs nbgrader (``pip install -e ".[instructor]"``); skipped without it. Runs
without network and without a Jupyter server; about 100 s on 2 busy cores, most of it
kernel start-ups and nbgrader's own start-up.
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

from exercise_impls import WRONG  # noqa: E402  (tests/ is on sys.path under pytest)

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
FUNCS = {"part1_elman": ["rnn_step_forward", "rnn_step_backward", "rnn_backward",
                         "clip_by_global_norm", "masked_cross_entropy", "sample_char"],
         "part2_gated": ["lstm_step_forward", "lstm_step_backward", "gru_step_forward"],
         "part3_architectures": ["bidirectional_combine", "beam_search",
                                 "additive_attention_weights"]}
CELL_TIMEOUT = 10          # nbgrader's per-cell limit in this test (the course uses 120)
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
                    f"--Execute.timeout={CELL_TIMEOUT}")
    # Feedback for one student is enough to test it (each notebook costs a conversion).
    _nbgrader(course, "generate_feedback", "--force", "part*", "--student=wrong_1")
    _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    return course, log


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
    course, _ = graded
    scores = _scores(course, student, assignment)
    assert scores and all(s == m for s, m in scores.values()), scores
    for func in FUNCS[assignment]:
        assert f"\u2714 {func} is correct" in _outputs(course, student, assignment)[f"test_{func}"]


@pytest.mark.parametrize("assignment", sorted(FUNCS))
def test_untouched_release_scores_zero(graded, assignment):
    course, _ = graded
    for func in FUNCS[assignment]:
        _assert_cell(course, "untouched", assignment, func, full=False,
                     fragment=f"{func} is not implemented yet")


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("assignment", sorted(FUNCS))
def test_each_wrong_implementation_loses_its_points(graded, assignment, k):
    course, _ = graded
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
    course, _ = graded
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
    # An import that fails: reported in the student's cell, the test cell scores 0.
    assert "ModuleNotFoundError" in out["masked_cross_entropy"]
    _assert_cell(course, "misbehaving", a, "masked_cross_entropy", False,
                 "name 'masked_cross_entropy' is not defined")
    # The deleted test cell is put back by nbgrader and graded.
    assert "missing from the submission" in out["source:test_sample_char"]
    _assert_cell(course, "misbehaving", a, "sample_char", True, "sample_char is correct")


def test_grades_exported_to_csv(graded):
    course, _ = graded
    rows = list(csv.DictReader((course / "grades.csv").open()))
    by = {(r["student_id"], r["assignment"]): r for r in rows}
    for assignment in FUNCS:
        full = by[("full", assignment)]
        assert float(full["score"]) == float(full["max_score"]) > 0
        assert float(by[("untouched", assignment)]["score"]) == 0


def test_feedback_generated(graded):
    course, _ = graded
    html = (course / "feedback" / "wrong_1" / "part1_elman" / "part1_elman.html").read_text()
    assert "does not change when b_h changes" in html
    html = (course / "feedback" / "wrong_1" / "part2_gated" / "part2_gated.html").read_text()
    assert "input and forget gates swapped" in html
    html = (course / "feedback" / "wrong_1" / "part3_architectures" /
            "part3_architectures.html").read_text()
    assert "reversing the whole padded time axis" in html
