"""labrnn.lab.plots for the text applications: token probabilities and the confusion matrix."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.lab.plots import plot_confusion_matrix, plot_token_probabilities


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_token_probabilities(backend):
    sents = [["the", "food", "was", "good"], ["not", "good"]]
    probs = [backend.asarray(np.array([0.5, 0.6, 0.55, 0.9])), np.array([0.3, 0.1])]
    fig = plot_token_probabilities(sents, probs, labels=[1, 0], title="negation")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax0, ax1 = fig.axes
    np.testing.assert_allclose(ax0.get_lines()[0].get_ydata(), [0.5, 0.6, 0.55, 0.9])
    assert ax0.get_lines()[1].get_ydata()[0] == 0.5                  # the dashed 0.5 line
    assert [t.get_text() for t in ax1.get_xticklabels()] == ["not", "good"]
    assert ax1.get_title(loc="left") == "true label: 0"


def test_plot_token_probabilities_bad_input():
    with pytest.raises(ValueError, match="one probability array per sentence .* 1 sentences and 2"):
        plot_token_probabilities([["a"]], [[0.5], [0.5]])
    with pytest.raises(ValueError, match="sentence 0 has 2 words but 1 probabilities"):
        plot_token_probabilities([["a", "b"]], [[0.5]])
    with pytest.raises(ValueError, match="labels has 2 entries for 1 sentences"):
        plot_token_probabilities([["a"]], [[0.5]], labels=[0, 1])


def test_plot_confusion_matrix(backend):
    counts = np.array([[8, 2, 0], [0, 5, 5], [0, 0, 0]])
    fig = plot_confusion_matrix(backend.asarray(counts), ["A", "B", "C"], title="tags")
    ax = fig.axes[0]
    (im,) = ax.get_images()
    np.testing.assert_allclose(im.get_array(), [[0.8, 0.2, 0], [0, 0.5, 0.5], [0, 0, 0]])
    assert sorted(t.get_text() for t in ax.texts) == ["20", "50", "50", "80"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    raw = plot_confusion_matrix(counts, ["A", "B", "C"], normalize=False)
    assert sorted(t.get_text() for t in raw.axes[0].texts) == ["2", "5", "5", "8"]


def test_plot_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match=r"square matrix \(C, C\), received shape \(2, 3\)"):
        plot_confusion_matrix(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="labels has 1 names for a 2 x 2 matrix"):
        plot_confusion_matrix(np.zeros((2, 2)), ["a"])
    with pytest.raises(ValueError, match="non-negative"):
        plot_confusion_matrix(-np.ones((2, 2)), ["a", "b"])
