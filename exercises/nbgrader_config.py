"""nbgrader configuration of the course's graded exercises (see exercises/README.md).

Run every nbgrader command from this folder (``cd exercises``), e.g. the one
command that regenerates the committed student versions from the sources:

    nbgrader generate_assignment --force "part*"
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    Execute, GetGrades, IgnorePattern, LimitOutput,
                                    NbGraderPreprocessor, SaveAutoGrades)

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "labrnn"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# Autograding runs each submission in a fresh kernel. A cell that runs longer
# than this (an infinite loop at the top level of a cell) is interrupted and
# graded as failed; the checks run the student's functions in a separate process
# with their own limits (labrnn.checks.sandbox).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# A student who deleted a test cell gets it back (with a note) and is graded on it.
c.OverwriteCells.add_missing_cells = True


class CapOutputCharacters(NbGraderPreprocessor):
    """Cut every text output of a cell to its first 5000 characters.

    nbgrader's LimitOutput counts lines; one print of a megabyte is one line, and
    would be copied whole into the autograded notebook and the feedback page.
    """

    def preprocess_cell(self, cell, resources, index):
        limit = 5000
        for out in cell.get("outputs", []):
            holders = [(out, "text")] if out.get("output_type") == "stream" else \
                [(out.get("data", {}), k) for k in ("text/plain", "text/html")]
            for holder, key in holders:
                text = holder.get(key)
                if isinstance(text, list):
                    text = "".join(text)
                if isinstance(text, str) and len(text) > limit:
                    holder[key] = (text[:limit] + f"\n... ({len(text) - limit} more characters "
                                   "cut by the grader)\n")
        return cell, resources


class ScrubHiddenTests(NbGraderPreprocessor):
    """Remove the hidden tests' lines from the tracebacks of the test cells.

    IPython prints a few lines of the cell around the line that failed (e.g. a
    NameError for a function the student never defined), hidden tests included;
    nbgrader's ClearHiddenTests clears only the cell's source.
    """

    def preprocess_cell(self, cell, resources, index):
        import re
        source = cell.get("source", "")
        if "BEGIN HIDDEN TESTS" not in source:
            return cell, resources
        hidden, inside = [], False
        for line in source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            if inside and len(line.strip()) > 3:
                hidden.append(line.strip())
            if "END HIDDEN TESTS" in line:
                inside = False
        ansi = re.compile(r"\x1b\[[0-9;]*m")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [
                    "\n".join(line for line in entry.split("\n")
                              if not any(h in ansi.sub("", line) for h in hidden))
                    for entry in out.get("traceback", [])]
        return cell, resources


# nbgrader's autograde pipeline (0.9) with the character cap after the line limit.
c.Autograde.autograde_preprocessors = [
    Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, CapOutputCharacters,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.LimitOutput.max_lines = 200
# The feedback shows the test cells WITHOUT their hidden tests, in the source and in
# tracebacks (the output of the hidden tests, the checks' messages, stays).
c.GenerateFeedback.preprocessors = [GetGrades, ScrubHiddenTests, ClearHiddenTests,
                                    CSSHTMLHeaderPreprocessor]
