"""nbgrader configuration of the course's graded exercises (see exercises/README.md).

Run every nbgrader command from this folder (``cd exercises``), e.g. the one
command that regenerates the committed student versions from the sources:

    nbgrader generate_assignment --force "part*"
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "labrnn"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# Autograding runs each submission in a fresh kernel. A cell that runs longer
# than this (an infinite loop outside the checked functions) is interrupted and
# graded as failed; the checks themselves stop a function after 5-20 s.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# A student who deleted a test cell gets it back (with a note) and is graded on it.
c.OverwriteCells.add_missing_cells = True
