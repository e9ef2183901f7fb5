"""Tests of the Part I diagrams: plot_unrolled_rnn (chapter 2) and plot_io_patterns (chapter 3)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from labrnn.lab.plots import IO_PATTERNS, plot_io_patterns, plot_unrolled_rnn  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _patches(fig, gid):
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("T", [1, 3, 4, 8])
def test_unrolled_rnn_has_one_folded_cell_and_T_copies(T):
    fig = plot_unrolled_rnn(T=T)
    assert isinstance(fig, Figure)
    assert len(_patches(fig, "cell")) == T + 1          # the folded cell and T unrolled steps
    assert len(_patches(fig, "input")) == T + 1
    assert len(_patches(fig, "output")) == T + 1
    texts = _texts(fig)
    for t in range(1, T + 1):
        assert f"$h_{{{t}}}$" in texts and f"$x_{{{t}}}$" in texts and f"$y_{{{t}}}$" in texts
    assert "$h_0$" in texts
    # every step's arrows carry the same weight names: one W_hh per recurrent arrow,
    # plus one at the folded loop
    assert texts.count("$W_{hh}$") == T + 1
    assert texts.count("$W_{xh}$") == T + 1
    assert texts.count("$W_{hy}$") == T + 1
    assert any(f"T = {T} step" in s for s in texts)


def test_unrolled_rnn_without_outputs():
    fig = plot_unrolled_rnn(T=3, outputs=False)
    assert len(_patches(fig, "output")) == 0
    assert "$W_{hy}$" not in _texts(fig)


def test_unrolled_rnn_figure_is_drawable():
    fig = plot_unrolled_rnn(T=2)
    fig.canvas.draw()          # mathtext and patches render without error


@pytest.mark.parametrize("bad", [0, -1, 9, 100])
def test_unrolled_rnn_refuses_out_of_range_T(bad):
    with pytest.raises(ValueError, match=r"T must lie in \[1, 8\]"):
        plot_unrolled_rnn(T=bad)


@pytest.mark.parametrize("bad", ["4", 4.0, True, None])
def test_unrolled_rnn_refuses_non_int_T(bad):
    with pytest.raises(TypeError, match="T must be an int"):
        plot_unrolled_rnn(T=bad)


def test_unrolled_rnn_accepts_numpy_int():
    assert len(_patches(plot_unrolled_rnn(T=np.int64(2)), "cell")) == 3


def test_io_patterns_draws_all_five_by_default():
    fig = plot_io_patterns()
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [p[0] for p in IO_PATTERNS]
    assert titles == ["one-to-one", "one-to-many", "many-to-one", "many-to-many, aligned",
                      "many-to-many, unaligned"]
    fig.canvas.draw()


@pytest.mark.parametrize("name,n_in,n_cell,n_out", [
    ("one-to-one", 1, 1, 1),
    ("one-to-many", 1, 4, 4),
    ("many-to-one", 4, 4, 1),
    ("many-to-many, aligned", 4, 4, 4),
    ("many-to-many, unaligned", 3, 6, 3),
])
def test_io_pattern_box_counts(name, n_in, n_cell, n_out):
    fig = plot_io_patterns([name])
    assert [ax.get_title() for ax in fig.axes] == [name]
    assert len(_patches(fig, "input")) == n_in
    assert len(_patches(fig, "cell")) == n_cell
    assert len(_patches(fig, "output")) == n_out


def test_io_patterns_show_the_layer_flags():
    texts = _texts(plot_io_patterns())
    assert "return_sequences=False" in texts
    assert "return_sequences=True" in texts
    assert any("return_state=True" in s for s in texts)


def test_encoder_and_decoder_cells_have_different_colours():
    fig = plot_io_patterns(["many-to-many, unaligned"])
    colours = [tuple(p.get_facecolor()) for p in _patches(fig, "cell")]
    assert len(set(colours[:3])) == 1 and len(set(colours[3:])) == 1
    assert colours[0] != colours[3]


@pytest.mark.parametrize("bad,match", [
    (["one-to-two"], r"unknown pattern\(s\) \['one-to-two'\]"),
    ("many-to-one", "non-empty list of names"),
    ([], "non-empty list of names"),
])
def test_io_patterns_refuses_bad_names(bad, match):
    with pytest.raises(ValueError, match=match):
        plot_io_patterns(bad)


def test_prediction_plot_has_dots_line_and_split():
    from labrnn.lab.plots import plot_prediction
    target = np.sin(np.arange(30) / 3)
    fig = plot_prediction(target, target + 0.1, split=20, title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    dots, line = ax.lines[0], ax.lines[1]
    assert dots.get_linestyle() == "None" and dots.get_marker() == "o"
    np.testing.assert_allclose(dots.get_ydata(), target)
    np.testing.assert_allclose(line.get_ydata(), target + 0.1)
    assert len(ax.lines) == 3                                  # the split line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "target", "prediction", "end of training length"]
    assert len(plot_prediction(target, target).axes[0].lines) == 2   # no split


@pytest.mark.parametrize("target,prediction,split,match", [
    (np.zeros(5), np.zeros(4), None, "same length"),
    (np.zeros((5, 1)), np.zeros((5, 1)), None, "1-D sequences"),
    (np.zeros(5), np.zeros(5), 7, r"split must lie in \[0, 5\]"),
])
def test_prediction_plot_refuses_bad_input(target, prediction, split, match):
    from labrnn.lab.plots import plot_prediction
    with pytest.raises(ValueError, match=match):
        plot_prediction(target, prediction, split=split)
