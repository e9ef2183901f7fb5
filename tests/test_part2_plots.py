"""labrnn.lab.plots, Part II: scores against the time lag, and time per step."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.lab.plots import plot_by_lag, plot_step_times


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_by_lag_draws_one_marked_line_per_model(backend):
    lags = [10, 20, 40]
    fig = plot_by_lag({"elman": [0.05, 0.16, 0.17], "gru": backend.asarray(np.array([1e-3, 2e-3, 7e-3]))},
                      lags, ylabel="test MSE", logy=True, hline=1 / 6, hline_label="baseline",
                      title="adding")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 3                                  # two models and the baseline
    np.testing.assert_array_equal(lines[0].get_xdata(), lags)
    np.testing.assert_allclose(lines[1].get_ydata(), [1e-3, 2e-3, 7e-3])
    assert lines[0].get_marker() == "o"
    assert ax.get_yscale() == "log" and ax.get_title() == "adding" and ax.get_ylabel() == "test MSE"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["elman", "gru", "baseline"]
    assert ax.get_xlabel() == "time lag $T$ (sequence length)"
    assert plot_by_lag({"a": [1.0, 2.0]}, [2, 3], xlabel="source length").axes[0].get_xlabel() == "source length"
    assert list(ax.get_xticks()) == lags


def test_plot_by_lag_leaves_out_diverged_runs_and_checks_lengths():
    fig = plot_by_lag({"a": [1.0, np.inf, np.nan]}, [1, 2, 3])
    y = fig.axes[0].get_lines()[0].get_ydata()
    assert y[0] == 1.0 and np.isnan(y[1]) and np.isnan(y[2])
    with pytest.raises(ValueError, match="'a' has 2 values but there are 3 lags"):
        plot_by_lag({"a": [1.0, 2.0]}, [1, 2, 3])
    with pytest.raises(ValueError, match="at least one curve"):
        plot_by_lag({}, [1])
    with pytest.raises(ValueError, match="non-empty"):
        plot_by_lag({"a": []}, [])


def test_plot_step_times_shows_microseconds_on_log_axes():
    fig = plot_step_times({"lstm": [2e-4, 3e-4, 1e-3], "gru": [1.5e-4, 2e-4, 8e-4]}, [16, 64, 256],
                          title="CPU")
    (ax,) = fig.axes
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [200.0, 300.0, 1000.0])
    np.testing.assert_array_equal(line.get_xdata(), [16, 64, 256])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "s" in ax.get_ylabel() and ax.get_title() == "CPU"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["16", "64", "256"]


def test_plot_step_times_refuses_bad_timings():
    with pytest.raises(ValueError, match="positive and finite"):
        plot_step_times({"a": [1e-4, 0.0]}, [1, 2])
    with pytest.raises(ValueError, match="2 timings but there are 3 sizes"):
        plot_step_times({"a": [1e-4, 2e-4]}, [1, 2, 3])
    with pytest.raises(ValueError, match="at least one curve"):
        plot_step_times({}, [1])
