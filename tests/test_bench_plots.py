"""labrnn.bench.plots: each figure draws what the report holds; bad input names the argument."""

import json
import pathlib

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.bench.plots import (plot_activation_memory, plot_checkpoint_tradeoff,
                                plot_speed_ratios, plot_us_per_step, speed_ratios)

BASELINE = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / \
    "targets-1thread-before-fast-paths.json"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def _case(cell, B, mode="fwdbwd", kind="cell"):
    cid = f"{kind}/{cell}/T10-B{B}-D3-H4/{mode}"
    return {"kind": kind, "cell": cell, "T": 10, "B": B, "D": 3, "H": 4, "mode": mode, "id": cid}


def _report(r_lstm=1.5, r_gru=0.4):
    """A tiny report: two targeted cases, one untargeted forward-only case."""
    results, ratios = [], []
    for cell, B, mode, ratio, target in (("lstm", 2, "fwdbwd", r_lstm, 1.0),
                                         ("gru", 1, "fwdbwd", r_gru, 0.5),
                                         ("lstm", 2, "fwd", 2.0, None)):
        c = _case(cell, B, mode)
        results += [{"case": c, "impl": "labrnn", "threads": 1, "us_per_step": 10.0 * ratio},
                    {"case": c, "impl": "torch", "threads": 1, "us_per_step": 10.0}]
        ratios.append({"case": c, "threads": 1, "reference": "torch", "ratio": ratio,
                       "target": target, "met": None if target is None else ratio <= target})
    return {"results": results, "ratios": ratios}


def test_agg_backend_is_in_use():
    assert matplotlib.get_backend().lower() == "agg"


def test_speed_ratios_rows():
    rows = speed_ratios(_report())
    assert [r["case"] for r in rows] == ["cell/lstm/T10-B2-D3-H4/fwdbwd", "cell/gru/T10-B1-D3-H4/fwdbwd"]
    assert [r["met"] for r in rows] == [False, True]
    assert len(speed_ratios(_report(), targeted_only=False)) == 3
    assert speed_ratios(_report(), threads=2) == []


def test_speed_ratios_of_the_committed_baseline():
    report = json.loads(BASELINE.read_text())
    rows = speed_ratios(report)
    assert len(rows) == 13                                  # the 13 targets
    assert sum(r["met"] for r in rows) == 4                 # README: 4 of the 13 are met
    assert all((r["ratio"] <= r["target"]) == r["met"] for r in rows)


def test_plot_speed_ratios_one_report():
    fig = plot_speed_ratios(_report(), title="t")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == [0.4, 1.5]
    target_x = sorted(l.get_xdata()[0] for l in ax.get_lines() if len(l.get_xdata()) == 2
                      and l.get_xdata()[0] == l.get_xdata()[1] and l.get_linestyle() == "-")
    assert target_x == [0.5, 1.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["lstm T10-B2-D3-H4", "gru T10-B1-D3-H4"]
    assert ax.get_title() == "t"


def test_plot_speed_ratios_before_after():
    fig = plot_speed_ratios(_report(0.9, 0.45), before=_report(), labels=("old", "new"))
    ax = fig.axes[0]
    assert sorted(p.get_width() for p in ax.patches) == [0.4, 0.45, 0.9, 1.5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["target", "old", "new"]


def test_plot_speed_ratios_bad_input():
    with pytest.raises(ValueError, match="report must be a labrnn-bench report"):
        plot_speed_ratios({"results": []})
    with pytest.raises(ValueError, match="before must be a labrnn-bench report"):
        plot_speed_ratios(_report(), before=[1, 2])
    with pytest.raises(ValueError, match="no targeted ratios at threads=4"):
        plot_speed_ratios(_report(), threads=4)


def test_plot_us_per_step():
    fig = plot_us_per_step(_report())
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [4.0, 10.0, 10.0, 15.0]               # the two fwdbwd cases, two impls
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["labrnn", "torch"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lstm\nT10 B2\nD3 H4",
                                                           "gru\nT10 B1\nD3 H4"]
    fig = plot_us_per_step(_report(), mode="fwd")
    assert sorted(p.get_height() for p in fig.axes[0].patches) == [10.0, 20.0]
    with pytest.raises(ValueError, match="no results of kind='bidir'"):
        plot_us_per_step(_report(), kind="bidir")


def _memory():
    return [{"impl": impl, "cell": "lstm", "B": 2, "D": 3, "H": 4, "dtype": "float32",
             "T": [2, 4, 8], "bytes": [k * 32 * T for T in (2, 4, 8)], "bytes_per_step": k * 32,
             "state_bytes": 32} for impl, k in (("labrnn", 7), ("torch", 16))]


def test_plot_activation_memory():
    fig = plot_activation_memory({"memory": _memory()}, per_state=True)
    (ax,) = fig.axes
    l0, l1 = ax.get_lines()
    np.testing.assert_array_equal(l0.get_xdata(), [2, 4, 8])
    np.testing.assert_allclose(l0.get_ydata(), [14, 28, 56])   # 7 states per step
    np.testing.assert_allclose(l1.get_ydata(), [32, 64, 128])
    assert l1.get_linestyle() == "--"
    fig = plot_activation_memory(_memory())
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(),
                               np.array([448, 896, 1792]) / 2 ** 20)
    with pytest.raises(ValueError, match="memory must be a non-empty list"):
        plot_activation_memory({"memory": []})
    with pytest.raises(ValueError, match="memory must be a non-empty list"):
        plot_activation_memory([{"impl": "labrnn"}])


def test_plot_checkpoint_tradeoff():
    entries = [{"k": None, "bytes": 100 * 2 ** 20, "time_ratio": 1.0},
               {"k": 20, "bytes": 10 * 2 ** 20, "time_ratio": 1.3},
               {"k": 5, "bytes": 21 * 2 ** 20, "time_ratio": 1.35}]
    fig = plot_checkpoint_tradeoff(entries, T=400)
    a1, a2 = fig.axes
    mem = a1.get_lines()[0]
    np.testing.assert_array_equal(mem.get_xdata(), [5, 20])       # sorted by k, plain pass apart
    np.testing.assert_allclose(mem.get_ydata(), [21, 10])
    np.testing.assert_allclose(a2.get_lines()[0].get_ydata(), [1.35, 1.3])
    assert a1.get_lines()[1].get_ydata()[0] == 100                # the plain pass's line
    assert a1.get_lines()[2].get_xdata()[0] == 20                 # sqrt(400)
    assert a1.get_xscale() == "log" and a1.get_ylim()[0] == 0
    assert [t.get_text() for t in a1.get_xticklabels()] == ["5", "20"]
    with pytest.raises(ValueError, match="entries must be a list of dicts with 'k'"):
        plot_checkpoint_tradeoff([{"k": 5}])
    with pytest.raises(ValueError, match="no checkpointed run"):
        plot_checkpoint_tradeoff(entries[:1])
