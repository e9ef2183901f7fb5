"""labrnn.lab.plots helpers of chapters 16 and 17: forecasts with the truth, alignment panels."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.lab.plots import plot_alignments, plot_forecasts


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_forecasts_draws_truth_forecasts_and_origin(backend):
    x = np.arange(10.0)
    fig = plot_forecasts(x, backend.asarray(x ** 2), {"a": (x[5:], x[5:] * 2.0),
                                                      "b": (x[5:], backend.asarray(x[5:] + 1))},
                         origin=4.5, title="t")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 4                                    # truth, two forecasts, origin
    np.testing.assert_array_equal(lines[0].get_ydata(), x ** 2)
    np.testing.assert_array_equal(lines[2].get_ydata(), x[5:] + 1)
    assert lines[3].get_xdata()[0] == 4.5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["observed", "a", "b",
                                                                   "forecast origin"]
    assert ax.get_title() == "t"


def test_plot_forecasts_refuses_bad_input():
    x = np.arange(5.0)
    with pytest.raises(ValueError, match="x and truth must be 1-D of one length"):
        plot_forecasts(x, x[:4], {"a": (x, x)})
    with pytest.raises(ValueError, match="at least one forecast"):
        plot_forecasts(x, x, {})
    with pytest.raises(ValueError, match=r"forecasts\['a'\] must be a pair"):
        plot_forecasts(x, x, {"a": x})
    with pytest.raises(ValueError, match=r"forecasts\['a'\]: x and y must be 1-D of one length"):
        plot_forecasts(x, x, {"a": (x, x[:3])})


def test_plot_alignments_one_panel_per_example(backend):
    a = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5]])
    b = np.eye(4)
    fig = plot_alignments([(backend.asarray(a), list("ab "), ["x", "y"], "first"),
                           (b, list("wxyz"), list("1234"), "second")])
    assert len(fig.axes) == 2
    ax0, ax1 = fig.axes
    np.testing.assert_array_equal(ax0.get_images()[0].get_array(), a)
    assert [t.get_text() for t in ax0.get_xticklabels()] == ["a", "b", "␣"]
    assert [t.get_text() for t in ax1.get_yticklabels()] == list("1234")
    assert ax0.get_title() == "first" and ax1.get_title() == "second"


def test_plot_alignments_refuses_mismatched_labels():
    with pytest.raises(ValueError, match="at least one panel"):
        plot_alignments([])
    with pytest.raises(ValueError, match=r"panels\[0\]: weights of shape \(2, 3\) need 3 xlabels"):
        plot_alignments([(np.zeros((2, 3)), ["a"], ["x", "y"], "t")])
    with pytest.raises(ValueError, match=r"panels\[0\] must be \(weights, xlabels, ylabels, title\)"):
        plot_alignments([(np.zeros((2, 3)), ["a"])])
