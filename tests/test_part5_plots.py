"""Plot helpers of chapters 19 and 20: each draws what it is given and refuses bad shapes."""

import numpy as np
import pytest

from labrnn.lab.plots import (plot_accuracy_by, plot_digit_names, plot_error_growth,
                          plot_fixed_points, plot_name_probabilities, plot_rollout)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_digit_names():
    imgs = np.random.default_rng(0).random((5, 64))
    fig = plot_digit_names(imgs, list("abcde"), ncols=3, title="t")
    axes = fig.axes
    assert len(axes) == 6                                     # 2 rows of 3, one left empty
    np.testing.assert_array_equal(axes[4].get_images()[0].get_array(), imgs[4].reshape(8, 8))
    assert [a.get_title() for a in axes[:5]] == list("abcde") and not axes[5].get_images()
    with pytest.raises(ValueError, match=r"images must have shape \(N, 64\)"):
        plot_digit_names(np.zeros((2, 8, 8)), ["a", "b"])
    with pytest.raises(ValueError, match="1 titles for 2 images"):
        plot_digit_names(np.zeros((2, 64)), ["a"])


def test_plot_name_probabilities():
    a = np.linspace(0, 1, 5)
    P = np.stack([1 - a, a * 0.9, np.zeros(5)], axis=1)
    fig = plot_name_probabilities(a, P, ["one", "seven", "zero"], top=2)
    lines = fig.axes[0].get_lines()
    assert [l.get_label() for l in lines] == ["one", "seven", "any other string"]
    np.testing.assert_allclose(lines[2].get_ydata(), 1 - P.sum(axis=1))
    with pytest.raises(ValueError, match=r"probs must have shape \(len\(alphas\)=5, len\(names\)=2\)"):
        plot_name_probabilities(a, P, ["one", "seven"])


def test_plot_rollout():
    t = np.arange(4) * 0.1
    X, Y = np.ones((4, 3)), np.zeros((4, 3))
    fig = plot_rollout(t, X, Y, diverge_at=0.2)
    assert len(fig.axes) == 3
    lines = fig.axes[1].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), X[:, 1])
    np.testing.assert_array_equal(lines[1].get_ydata(), Y[:, 1])
    assert lines[2].get_xdata()[0] == 0.2
    with pytest.raises(ValueError, match=r"true and pred must have shape \(T=4, D\)"):
        plot_rollout(t, X, Y[:3])


def test_plot_error_growth():
    t = np.linspace(0, 2, 6)
    fig = plot_error_growth(t, {"network": 1e-3 * np.exp(t)}, rate=0.9, threshold=5.0)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert ax.get_yscale() == "log" and len(lines) == 3
    np.testing.assert_allclose(lines[1].get_ydata(), 1e-3 * np.exp(0.9 * t))
    with pytest.raises(ValueError, match="curve 'a' has shape"):
        plot_error_growth(t, {"a": np.ones(3)})
    with pytest.raises(ValueError, match="at least one curve"):
        plot_error_growth(t, {})


@pytest.mark.parametrize("k", [2, 3])
def test_plot_fixed_points(k):
    S = np.random.default_rng(1).normal(size=(50, k))
    P = np.eye(3, k)
    fig = plot_fixed_points(S, P, ["stable", "stable", "saddle"], labels=["+++", "", "s"])
    ax = fig.axes[0]
    labels = [h.get_label() for h in ax.collections]
    assert labels == ["visited states", "stable (attractor)", "saddle"]
    assert [t.get_text() for t in ax.texts] == [" +++", " s"]
    with pytest.raises(ValueError, match="kinds must give one of"):
        plot_fixed_points(S, P, ["stable", "spiral", "saddle"])
    with pytest.raises(ValueError, match="k = 2 or 3"):
        plot_fixed_points(np.zeros((4, 4)), np.zeros((1, 4)), ["stable"])


def test_plot_accuracy_by():
    acc = {"lstm": np.array([[1.0, 0.9], [0.5, 0.7]]), "gru": np.array([[1.0, 1.0], [0.2, 0.4]])}
    fig = plot_accuracy_by([1, 2], acc, "pairs", chance=0.125)
    ax = fig.axes[0]
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [0.95, 0.6])
    assert len(ax.collections) == 4                             # every seed's dots
    assert lines[-1].get_ydata()[0] == 0.125
    with pytest.raises(ValueError, match=r"accuracies\['x'\] must have shape \(len\(x\)=2, seeds\)"):
        plot_accuracy_by([1, 2], {"x": np.ones(2)}, "pairs")
