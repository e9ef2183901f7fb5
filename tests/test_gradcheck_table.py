"""GradcheckReport.table: a gradient-check report that prints the same on every machine."""

import numpy as np

from labrnn.training.gradcheck import GradcheckReport, gradcheck


def test_noise_prints_as_the_tolerance_and_failures_with_two_digits():
    rep = GradcheckReport(rows=[("W_hh", (5, 5), 1.03e-9, 0.0), ("b_h", (5,), 9.7e-10, 0.0),
                                ("x", (6, 3, 4), 0.4468, 0.1)])
    lines = rep.table(1e-7).splitlines()
    assert lines[0].split() == ["argument", "shape", "relative", "error"]
    assert lines[1].endswith("< 1e-07") and lines[2].endswith("< 1e-07")   # both sides of 1e-9
    assert lines[3].endswith("0.45  FAIL")
    assert rep.table(1e-12).splitlines()[1].endswith("1e-09  FAIL")


def test_table_of_a_real_check():
    x = np.array([1.0, -2.0, 3.0])
    rep = gradcheck(lambda v: np.sum(v["x"] ** 3), {"x": x}, {"x": 3 * x ** 2})
    assert rep.table().splitlines()[1].split() == ["x", "(3,)", "<", "1e-07"]
    bad = gradcheck(lambda v: np.sum(v["x"] ** 3), {"x": x}, {"x": 2 * x ** 2})
    assert bad.table().splitlines()[1].endswith("0.2  FAIL")
