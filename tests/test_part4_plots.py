"""labrnn.lab.plots.plot_learning_curves (chapters 12 and 13)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.lab.plots import plot_learning_curves


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_learning_curves_draws_both_curves_and_marks():
    fig = plot_learning_curves([(10, 3.0), (20, 2.0)], [[10, 3.1], [20, 2.5], [30, 2.6]],
                               best_step=20, baselines={"5-gram": 2.2}, title="t")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_xdata(), [10, 20])
    np.testing.assert_array_equal(lines[1].get_ydata(), [3.1, 2.5, 2.6])
    assert list(lines[2].get_ydata()) == [2.2, 2.2]              # the baseline
    assert list(lines[3].get_xdata()) == [20, 20]                # the best step
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training", "validation", "5-gram", "best validation (update 20)"]
    assert ax.get_title() == "t"


def test_plot_learning_curves_bad_input():
    with pytest.raises(ValueError, match=r"training curve must be a non-empty sequence of \(step, value\) pairs, received shape \(3,\)"):
        plot_learning_curves([1.0, 2.0, 3.0], [(1, 2.0)])
    with pytest.raises(ValueError, match="validation curve must be a non-empty"):
        plot_learning_curves([(1, 2.0)], [])
