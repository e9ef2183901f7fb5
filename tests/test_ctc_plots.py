"""labrnn.lab.plots, chapter 18: the CTC lattice, waveform and features, posteriors over time."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from labrnn.lab.plots import plot_ctc_lattice, plot_ctc_posteriors, plot_waveform_spectrogram


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def _count(fig, gid):
    ax = fig.axes[0]
    return sum(1 for a in ax.get_children() if a.get_gid() == gid)


def test_lattice_of_a_tight_target_is_a_single_path():
    # [1, 1] in 3 frames: only 1 - 1; the nodes on complete paths are exactly those three
    fig = plot_ctc_lattice(3, [1, 1])
    assert isinstance(fig, Figure)
    nodes = [a for a in fig.axes[0].collections if a.get_gid() == "nodes"][0]
    np.testing.assert_array_equal(nodes.get_offsets(), [[0, 1], [1, 2], [2, 3]])
    assert _count(fig, "move") == 2
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["-", "1", "-", "1", "-"]


def test_lattice_counts_moves_with_and_without_the_skip():
    # [1, 2] in 3 frames, rows (-, 1, -, 2, -) = 0..4: the five alignments 1 2 -, 1 2 2,
    # 1 - 2, - 1 2, 1 1 2 visit 7 nodes and use 8 moves (4 per frame step), one a skip 1 -> 3
    fig = plot_ctc_lattice(3, [1, 2], labels={1: "a", 2: "b"})
    nodes = [a for a in fig.axes[0].collections if a.get_gid() == "nodes"][0]
    assert len(nodes.get_offsets()) == 7
    assert _count(fig, "move") == 8
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["-", "a", "-", "b", "-"]


def test_lattice_with_occupancy_and_path():
    occ = np.full((4, 3), 0.5)
    fig = plot_ctc_lattice(4, [2], occupancy=occ, path=[0, 1, 1, 2], title="t")
    nodes = [a for a in fig.axes[0].collections if a.get_gid() == "nodes"][0]
    np.testing.assert_allclose(nodes.get_array(), 0.5)
    assert fig.axes[0].get_title() == "t"
    assert fig.axes[0].lines[0].get_ydata().tolist() == [0, 1, 1, 2]


def test_lattice_refuses_bad_input():
    with pytest.raises(ValueError, match=r"cannot be aligned to T=2 frames \(it needs at least 3\)"):
        plot_ctc_lattice(2, [1, 1])
    with pytest.raises(ValueError, match=r"occupancy must have shape \(T=3, 2S\+1=3\)"):
        plot_ctc_lattice(3, [1], occupancy=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"path must give one row per frame \(T=3\)"):
        plot_ctc_lattice(3, [1], path=[0, 1])


def test_waveform_spectrogram_panels():
    x = np.sin(np.arange(8000) / 5)
    F = np.random.default_rng(0).normal(size=(50, 32))
    fig = plot_waveform_spectrogram(x, 8000, F, 50, boundaries=[(0.1, 0.4, "7")], title="u")
    a0, a1 = fig.axes[:2]
    assert a0.get_title() == "u" and a1.get_xlabel() == "time (s)"
    assert a1.get_images()[0].get_array().shape == (32, 50)
    assert [t.get_text() for t in a0.texts] == ["7"]
    with pytest.raises(ValueError, match="features must be 2-D"):
        plot_waveform_spectrogram(x, 8000, F[0], 50)


def test_posteriors_draw_blank_and_active_classes_only():
    P = np.zeros((10, 4))
    P[:, 0] = 1.0
    P[3, 0], P[3, 2] = 0.1, 0.9
    fig = plot_ctc_posteriors(P, frame_rate=25, class_names=["-", "a", "b", "c"])
    ax = fig.axes[0]
    assert len(ax.lines) == 2                      # blank and "b"; "a" and "c" never fire
    assert [t.get_text() for t in ax.texts] == ["b"]
    assert ax.get_xlabel() == "time (s)"
    with pytest.raises(ValueError, match="class_names has 2 names for C=4"):
        plot_ctc_posteriors(P, class_names=["a", "b"])
