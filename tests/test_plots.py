"""labrnn.lab.plots: every helper returns a Figure with what it was asked to draw."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import labrnn
from labrnn.lab.plots import plot_curves, plot_heatmap


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_agg_backend_is_in_use():
    assert matplotlib.get_backend().lower() == "agg"


def test_plot_curves(backend):
    fig = plot_curves({"train": [3.0, 2.0, 1.0], "valid": backend.asarray(np.array([3.5, 2.5, 2.0]))},
                      title="loss", logy=True, hline=1.5, hline_label="baseline")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 3                                   # two curves and the horizontal line
    np.testing.assert_array_equal(lines[1].get_ydata(), [3.5, 2.5, 2.0])
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 1, 2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "valid", "baseline"]
    assert ax.get_yscale() == "log" and ax.get_title() == "loss"


def test_plot_curves_on_given_axes_and_x():
    import matplotlib.pyplot as plt
    fig0, (a1, a2) = plt.subplots(1, 2)
    fig = plot_curves({"a": [1.0, 2.0]}, x=[10, 20], ax=a2)
    assert fig is fig0 and len(a2.get_lines()) == 1 and len(a1.get_lines()) == 0
    np.testing.assert_array_equal(a2.get_lines()[0].get_xdata(), [10, 20])


def test_plot_curves_bad_input():
    with pytest.raises(ValueError, match="at least one curve"):
        plot_curves({})
    with pytest.raises(ValueError, match="must have same first dimension"):   # matplotlib's check
        plot_curves({"a": [1.0, 2.0, 3.0]}, x=[0, 1])


def test_plot_heatmap(backend):
    m = np.arange(6.0).reshape(2, 3)
    fig = plot_heatmap(backend.asarray(m), xlabels=list("abc"), ylabels=["r0", "r1"], title="states")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(fig.axes) == 2                                # the image and its colorbar
    (im,) = ax.get_images()
    np.testing.assert_array_equal(im.get_array(), m)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["r0", "r1"]
    assert len(plot_heatmap(m, colorbar=False).axes) == 1


def test_plot_heatmap_bad_input():
    with pytest.raises(ValueError, match=r"needs a 2-D array, received shape \(4,\)"):
        plot_heatmap(np.ones(4))
    with pytest.raises(ValueError, match=r"needs a 2-D array, received shape \(1, 2, 2\)"):
        plot_heatmap(np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match=r"xlabels has 2 labels but the matrix of shape \(2, 3\) needs 3"):
        plot_heatmap(np.ones((2, 3)), xlabels=["a", "b"])
    with pytest.raises(ValueError, match=r"ylabels has 3 labels but the matrix of shape \(2, 3\) needs 2"):
        plot_heatmap(np.ones((2, 3)), ylabels=["a", "b", "c"])
