"""labrnn.lab.plots, Part III: dropout masks (chapter 8)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.lab.plots import plot_dropout_masks


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_dropout_masks_one_panel_per_mask_kept_entries_dark(backend):
    fresh = np.array([[0.0, 2.0, 2.0], [2.0, 0.0, 2.0]])
    same = backend.asarray(np.array([[2.0, 0.0, 2.0], [2.0, 0.0, 2.0]]))
    fig = plot_dropout_masks({"fresh": fresh, "variational": same}, title="masks")
    assert isinstance(fig, Figure)
    ax0, ax1 = fig.axes
    assert ax0.get_title() == "fresh" and ax1.get_title() == "variational"
    assert ax0.get_xlabel() == "feature" and ax0.get_ylabel() == "time step"
    np.testing.assert_array_equal(ax0.get_images()[0].get_array(), fresh > 0)
    np.testing.assert_array_equal(ax1.get_images()[0].get_array(), [[1, 0, 1], [1, 0, 1]])
    assert fig._suptitle.get_text() == "masks"


def test_plot_dropout_masks_refuses_empty_and_non_2d():
    with pytest.raises(ValueError, match="at least one mask"):
        plot_dropout_masks({})
    with pytest.raises(ValueError, match="must be 2-D"):
        plot_dropout_masks({"a": np.ones((2, 3, 4))})
