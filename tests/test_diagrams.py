"""Architecture diagrams of Parts II and III (labrnn.lab.plots): each returns a Figure whose
boxes, operation nodes and labels are the ones its chapter's equations name."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from labrnn.lab.plots import (plot_attention_decoder, plot_bidirectional_rnn,  # noqa: E402
                          plot_encoder_decoder, plot_gru_cell, plot_lstm_cell,
                          plot_stacked_rnn)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _patches(fig, gid):
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def _lines(fig, gid):
    return [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _drawable(fig):
    fig.canvas.draw()              # mathtext and patches render without error
    return fig


def test_lstm_cell_has_four_gates_five_operations_and_the_cell_path():
    fig = _drawable(plot_lstm_cell())
    assert isinstance(fig, Figure)
    gates = _patches(fig, "gate")
    assert len(gates) == 4
    texts = _texts(fig)
    for name in ("$i_t$", "$f_t$", "$g_t$", "$o_t$", "$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$"):
        assert texts.count(name) == 1, name
    assert texts.count(r"$\sigma$") == 3 and texts.count("tanh") == 2    # gate boxes + cell tanh
    ops = _patches(fig, "op")
    assert len(ops) == 5
    assert texts.count(r"$\times$") == 3 and texts.count("$+$") == 1
    assert len(_lines(fig, "cell-path")) == 3                            # split by the two nodes
    assert any("f_t \\odot c_{t-1} + i_t \\odot g_t" in s for s in texts)


@pytest.mark.parametrize("reset, formula", [("after", r"r_t \odot (W_{hn} h_{t-1} + b_{hn})"),
                                            ("before", r"W_{hn} (r_t \odot h_{t-1})")])
def test_gru_cell_has_two_gates_a_candidate_and_the_reset_variant(reset, formula):
    fig = _drawable(plot_gru_cell(reset))
    texts = _texts(fig)
    assert len(_patches(fig, "gate")) == 3
    for name in ("$r_t$", "$z_t$", "$n_t$", "$h_{t-1}$", "$x_t$"):
        assert texts.count(name) == 1, name
    assert texts.count(r"$\sigma$") == 2 and texts.count("tanh") == 1
    assert len(_patches(fig, "op")) == 4 and "1-" in texts                # x, +, 1-, x
    assert any(s.startswith(f"reset {reset}:") and formula in s for s in texts)
    assert len(_lines(fig, "state-path")) == 3
    assert any("z_t \\odot h_{t-1} + (1 - z_t) \\odot n_t" in s for s in texts)


def test_gru_cell_refuses_unknown_variant():
    with pytest.raises(ValueError, match="reset must be 'after' or 'before', received 'middle'"):
        plot_gru_cell("middle")


@pytest.mark.parametrize("L, T", [(1, 1), (2, 3), (3, 4), (5, 6)])
def test_stacked_rnn_is_an_L_by_T_grid(L, T):
    fig = _drawable(plot_stacked_rnn(L, T))
    assert len(_patches(fig, "cell")) == L * T
    assert len(_patches(fig, "input")) == T and len(_patches(fig, "output")) == T
    texts = _texts(fig)
    for l in range(1, L + 1):
        assert f"layer {l}" in texts
        for t in range(1, T + 1):
            assert texts.count(f"$h^{{({l})}}_{{{t}}}$") == 1
    assert not _patches(fig, "skip")


def test_stacked_rnn_residual_draws_one_skip_per_layer_above_the_first_and_step():
    fig = plot_stacked_rnn(3, 4, residual=True)
    assert len(_patches(fig, "skip")) == (3 - 1) * 4


@pytest.mark.parametrize("bad", [{"L": 0}, {"L": 6}, {"T": 0}, {"T": 7}])
def test_stacked_rnn_refuses_unreadable_sizes(bad):
    with pytest.raises(ValueError, match="must lie in"):
        plot_stacked_rnn(**bad)


@pytest.mark.parametrize("T", [2, 4, 6])
def test_bidirectional_rnn_has_a_forward_and_a_backward_row(T):
    fig = _drawable(plot_bidirectional_rnn(T))
    assert len(_patches(fig, "forward")) == T and len(_patches(fig, "backward")) == T
    assert len(_patches(fig, "concat")) == T and len(_patches(fig, "output")) == T
    texts = _texts(fig)
    for t in range(1, T + 1):
        assert rf"$\overrightarrow{{h}}_{{{t}}}$" in texts
        assert rf"$\overleftarrow{{h}}_{{{t}}}$" in texts
    assert r"$\overrightarrow{h}_0$" in texts and rf"$\overleftarrow{{h}}_{{{T + 1}}}$" in texts


def test_bidirectional_rnn_refuses_a_single_step():
    with pytest.raises(ValueError, match=r"T must lie in \[2, 6\]"):
        plot_bidirectional_rnn(1)


@pytest.mark.parametrize("decoder, fed", [("init", 0), ("feed", 3)])
def test_encoder_decoder_draws_S_encoder_and_T_decoder_steps(decoder, fed):
    fig = _drawable(plot_encoder_decoder(S=4, T=3, decoder=decoder))
    assert len(_patches(fig, "encoder")) == 4 and len(_patches(fig, "decoder")) == 3
    assert len(_patches(fig, "context")) == 1 and len(_patches(fig, "output")) == 3
    assert len(_patches(fig, "feed")) == fed
    texts = _texts(fig)
    assert r"$\mathrm{ctx}$" in texts and r"$\langle\mathrm{bos}\rangle$" in texts
    assert [f"$s_{{{t}}}$" in texts for t in (1, 2, 3)] == [True] * 3
    assert [f"$h_{{{s}}}$" in texts for s in (1, 2, 3, 4)] == [True] * 4


def test_encoder_decoder_refuses_unknown_decoder():
    with pytest.raises(ValueError, match="decoder must be 'init' or 'feed', received 'attention'"):
        plot_encoder_decoder(decoder="attention")


def test_attention_decoder_line_widths_follow_the_weights(backend):
    w = np.array([0.1, 0.2, 0.6, 0.1])
    fig = _drawable(plot_attention_decoder(backend.asarray(w), t=2))
    lines = _lines(fig, "attention")
    assert len(lines) == 4 and len(_patches(fig, "encoder")) == 4
    widths = np.array([ln.get_linewidth() for ln in lines])
    assert np.argmax(widths) == 2 and np.all(np.diff(widths[[0, 1, 2]]) > 0)
    texts = _texts(fig)
    for s, a in enumerate(w, start=1):
        assert rf"$\alpha_{{2,{s}}}$={a:.2f}" in texts
    assert len(_patches(fig, "decoder")) == 1 and len(_patches(fig, "context")) == 1
    assert "$s_{2}$" in texts and "$s_{1}$" in texts


@pytest.mark.parametrize("bad, message", [([1.0], "2 to 8 numbers"), ([[0.5, 0.5]], "2 to 8 numbers"),
                                          ([0.5, 0.6], "sum to 1"), ([1.5, -0.5], "non-negative")])
def test_attention_decoder_refuses_weights_that_are_not_a_softmax(bad, message):
    with pytest.raises(ValueError, match=message):
        plot_attention_decoder(bad)
