"""labrnn.lab.plots.plot_gradient_norms: the chapter 5 figure of gradient norm against time lag."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import labrnn
from labrnn.lab.analysis import hidden_jacobian_norms
from labrnn.lab.plots import plot_gradient_norms


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_one_panel_is_drawn_against_the_lag_on_a_log_scale():
    norms = np.array([1e-3, 1e-2, 1e-1, 1.0])          # entry t = ||dh_T/dh_t||, T = 3
    fig = plot_gradient_norms({"rho=0.1": norms}, title="tanh")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])         # lag T - t
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 1e-1, 1e-2, 1e-3])
    assert ax.get_yscale() == "log" and ax.get_title() == "tanh"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["rho=0.1"]
    assert "lag" in ax.get_xlabel()


def test_nested_dict_draws_one_panel_per_key_sharing_y(backend):
    T = 5
    p = backend.params(2, 3, W_hh_scale=0.9)
    x = backend.asarray(np.random.default_rng(0).normal(size=(T, 1, 2)))
    n = hidden_jacobian_norms(p, x)                      # an array of the backend
    fig = plot_gradient_norms({"tanh": {"a": n, "b": 2 * n}, "relu": {"a": n}}, ylim=(1e-3, 1e2))
    a1, a2 = fig.axes
    assert [a1.get_title(), a2.get_title()] == ["tanh", "relu"]
    assert len(a1.get_lines()) == 2 and len(a2.get_lines()) == 1
    assert a1.get_shared_y_axes().joined(a1, a2)
    np.testing.assert_allclose(a2.get_lines()[0].get_ydata(), backend.to_numpy(n)[::-1])
    assert a1.get_ylim() == pytest.approx((1e-3, 1e2))


def test_zeros_and_non_finite_values_are_left_out():
    fig = plot_gradient_norms({"dead": [0.0, np.inf, 1.0, 2.0]})
    y = fig.axes[0].get_lines()[0].get_ydata()
    assert y[0] == 2.0 and y[1] == 1.0 and np.isnan(y[2]) and np.isnan(y[3])


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="at least one curve"):
        plot_gradient_norms({})
    with pytest.raises(ValueError, match="every panel"):
        plot_gradient_norms({"tanh": {}, "relu": {"a": [1.0]}})


# labrnn.lab.plots.plot_training_runs: loss curves of chapters 4 and 5

from labrnn.lab.experiments import History                       # noqa: E402
from labrnn.lab.plots import plot_training_runs                  # noqa: E402


def test_training_runs_are_smoothed_and_drawn_on_a_log_scale():
    runs = {"a": [4.0, 2.0, 1.0, 1.0], "b": History(loss=[1e17, 0.1, 0.2, 0.3])}
    fig = plot_training_runs(runs, window=2, baseline=0.5, baseline_label="guess", title="t")
    (ax,) = fig.axes
    a, b, base = ax.get_lines()
    np.testing.assert_allclose(a.get_xdata(), [1, 2, 3])     # drawn at the window's last update
    np.testing.assert_allclose(a.get_ydata(), [3.0, 1.5, 1.0])
    np.testing.assert_allclose(b.get_ydata()[1:], [0.15, 0.25])  # a History's loss; small values kept
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert base.get_ydata()[0] == 0.5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "guess"]
    assert "mean of 2" in ax.get_ylabel()


def test_zoom_adds_a_linear_panel(backend):
    fig = plot_training_runs({"x": backend.asarray(np.array([1.0, 0.5, 0.2]))}, zoom=(0.0, 0.3),
                             logy=True)
    main, zoom = fig.axes
    assert main.get_yscale() == "log" and zoom.get_yscale() == "linear"
    assert zoom.get_ylim() == pytest.approx((0.0, 0.3))
    np.testing.assert_allclose(zoom.get_lines()[0].get_ydata(), [1.0, 0.5, 0.2])


def test_short_runs_and_bad_arguments():
    fig = plot_training_runs({"short": [1.0, 2.0], "empty": []}, window=5, logy=False)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.5])   # window shrinks to the run
    assert len(ax.get_lines()[1].get_ydata()) == 0
    with pytest.raises(ValueError, match="at least one run"):
        plot_training_runs({})
    with pytest.raises(ValueError, match="window"):
        plot_training_runs({"a": [1.0]}, window=0)
