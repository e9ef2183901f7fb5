"""Plotting helpers: every figure of the book is one call to a function here.

Each function returns the matplotlib ``Figure`` (so tests can inspect it) and
takes host data (``labrnn.to_numpy`` is applied for you).
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy


def _plt():
    import matplotlib
    import matplotlib.pyplot as plt
    return plt


def plot_curves(curves, xlabel="step", ylabel="loss", title=None, logy=False, x=None, ax=None,
                hline=None, hline_label=None):
    """Line plot of several named curves: ``curves`` maps label -> sequence of values."""
    plt = _plt()
    if not curves:
        raise ValueError("plot_curves needs at least one curve")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 3.5))
    for label, ys in curves.items():
        ys = np.asarray(to_numpy(ys), dtype=float)
        xs = np.arange(len(ys)) if x is None else np.asarray(x)
        ax.plot(xs, ys, label=str(label))
    if hline is not None:
        ax.axhline(hline, color="gray", linestyle="--", linewidth=1, label=hline_label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_heatmap(matrix, xlabels=None, ylabels=None, xlabel="", ylabel="", title=None,
                 cmap="viridis", colorbar=True):
    """Heatmap of a 2-D array with optional tick labels (e.g. alignments, states over time)."""
    plt = _plt()
    m = np.asarray(to_numpy(matrix), dtype=float)
    if m.ndim != 2:
        raise ValueError(f"plot_heatmap needs a 2-D array, received shape {m.shape}")
    for name, labels, n in (("xlabels", xlabels, m.shape[1]), ("ylabels", ylabels, m.shape[0])):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels but the matrix of shape {m.shape} "
                             f"needs {n}")
    fig, ax = plt.subplots(figsize=(max(3, 0.35 * m.shape[1] + 2), max(2.5, 0.3 * m.shape[0] + 1.5)))
    im = ax.imshow(m, cmap=cmap, aspect="auto")
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), [str(s) for s in xlabels])
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), [str(s) for s in ylabels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


# ---- Part I (chapters 2 and 3): diagrams of the recurrence ---------------------------

_CELL_COLOURS = ("#cfe2f3", "#fce5cd")       # cell (encoder), second cell (decoder)
_IO_COLOURS = {"x": "#d9ead3", "y": "#f4cccc"}


def _box(ax, x, y, text, colour, gid, w=0.9, h=0.6, fontsize=11):
    from matplotlib.patches import FancyBboxPatch
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                           facecolor=colour, edgecolor="#333333", linewidth=1.2, gid=gid)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return patch


def _arrow(ax, start, end, label=None, label_offset=(0.0, 0.0), rad=0.0, fontsize=9,
           colour="#333333"):
    from matplotlib.patches import FancyArrowPatch
    arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, linewidth=1.2,
                            color=colour, connectionstyle=f"arc3,rad={rad}", gid="arrow")
    ax.add_patch(arrow)
    if label:
        mx, my = (start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=fontsize, color="#1a4d80")
    return arrow


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, received {value!r} ({type(value).__name__})")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}] (a readable diagram), received {value}")
    return int(value)


def plot_unrolled_rnn(T=4, outputs=True):
    """The Elman RNN folded (one cell with a loop) and unrolled over ``T`` steps.

    Every unrolled box is the *same* cell: the arrows carry the same
    ``W_xh``, ``W_hh`` (and ``W_hy``) at every step (equations ``rnn-state`` and
    ``rnn-output``). Cell boxes carry ``gid="cell"``, inputs ``"input"``,
    outputs ``"output"`` (for tests). ``T`` is an int in [1, 8].
    """
    T = _check_int("T", T, 1, 8)
    plt = _plt()
    dx = 1.55
    x0 = 4.3                                   # first unrolled cell
    yx, yh, yy = 0.0, 1.4, 2.8
    centre = x0 + dx * (T - 1) / 2             # of the unrolled part, for its caption
    x_lo, x_hi = -0.8, max(x0 + dx * (T - 1) + 0.7, centre + 2.9)
    y_lo, y_hi = -1.25, (yy if outputs else yh) + 0.5
    scale = 0.72                               # inches per data unit
    fig, ax = plt.subplots(figsize=(scale * (x_hi - x_lo), scale * (y_hi - y_lo)))
    cell, xin, yout = _CELL_COLOURS[0], _IO_COLOURS["x"], _IO_COLOURS["y"]

    # folded: one cell and a loop
    _box(ax, 0.0, yx, "$x_t$", xin, "input")
    _box(ax, 0.0, yh, "$h_t$", cell, "cell")
    _arrow(ax, (0.0, yx + 0.3), (0.0, yh - 0.33), "$W_{xh}$", (-0.38, 0))
    from matplotlib.patches import FancyArrowPatch
    ax.add_patch(FancyArrowPatch((0.48, yh + 0.15), (0.48, yh - 0.15), arrowstyle="-|>",
                                 mutation_scale=12, linewidth=1.2, color="#333333", gid="arrow",
                                 connectionstyle="arc,angleA=0,angleB=0,armA=28,armB=28,rad=8"))
    ax.text(1.05, yh, "$W_{hh}$", ha="left", va="center", fontsize=9, color="#1a4d80")
    if outputs:
        _box(ax, 0.0, yy, "$y_t$", yout, "output")
        _arrow(ax, (0.0, yh + 0.33), (0.0, yy - 0.3), "$W_{hy}$", (-0.38, 0))
    ax.text(0.0, -0.8, "folded", ha="center", va="center", fontsize=10, style="italic")

    # "unroll" sign
    ax.text(2.25, yh, "unroll\n$\\Longrightarrow$", ha="center", va="center", fontsize=10)

    # unrolled: the same cell T times
    ax.text(x0 - 1.15, yh, "$h_0$", ha="center", va="center", fontsize=11)
    for t in range(1, T + 1):
        xc = x0 + dx * (t - 1)
        _box(ax, xc, yx, f"$x_{{{t}}}$", xin, "input")
        _box(ax, xc, yh, f"$h_{{{t}}}$", cell, "cell")
        _arrow(ax, (xc, yx + 0.3), (xc, yh - 0.33), "$W_{xh}$", (-0.36, 0))
        start = x0 - 0.9 if t == 1 else xc - dx + 0.48
        _arrow(ax, (start, yh), (xc - 0.48, yh), "$W_{hh}$", (0, 0.2))
        if outputs:
            _box(ax, xc, yy, f"$y_{{{t}}}$", yout, "output")
            _arrow(ax, (xc, yh + 0.33), (xc, yy - 0.3), "$W_{hy}$", (-0.36, 0))
    ax.text(centre, -0.8,
            f"unrolled over T = {T} step{'s' if T > 1 else ''}:\n"
            "one cell, the same weights at every step",
            ha="center", va="center", fontsize=10, style="italic")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return fig


# (name, example, flags, [(has_input, has_output, cell index), ...])
IO_PATTERNS = (
    ("one-to-one", "image classification", "T = 1",
     [(1, 1, 0)]),
    ("one-to-many", "generation, captioning", "input -> h0 (or x_1)",
     [(1, 1, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0)]),
    ("many-to-one", "sentiment, classification", "return_sequences=False",
     [(1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 1, 0)]),
    ("many-to-many, aligned", "tagging, labelling", "return_sequences=True",
     [(1, 1, 0), (1, 1, 0), (1, 1, 0), (1, 1, 0)]),
    ("many-to-many, unaligned", "translation (encoder-decoder)", "encoder: return_state=True",
     [(1, 0, 0), (1, 0, 0), (1, 0, 0), (0, 1, 1), (0, 1, 1), (0, 1, 1)]),
)


def plot_io_patterns(patterns=None):
    """The input/output shapes of recurrent networks, one small diagram each.

    ``patterns`` selects some of the names in :data:`IO_PATTERNS` (default:
    all five). Green boxes are inputs, blue the recurrent cell, red the outputs;
    in the encoder-decoder the decoder (orange) is a second RNN with its own
    weights, started from the encoder's final state. One axes per pattern,
    titled with its name; cell boxes carry ``gid="cell"``.
    """
    table = {p[0]: p for p in IO_PATTERNS}
    if patterns is None:
        patterns = list(table)
    if isinstance(patterns, str) or not patterns:
        raise ValueError(f"patterns must be a non-empty list of names from {list(table)}, "
                         f"received {patterns!r}")
    unknown = [p for p in patterns if p not in table]
    if unknown:
        raise ValueError(f"unknown pattern(s) {unknown}; choose from {list(table)}")
    plt = _plt()
    chosen = [table[p] for p in patterns]
    # Manual layout in data units (equal aspect everywhere): greedy rows of at most
    # `max_row` units, each row centred, `unit` inches per data unit.
    unit, gap, max_row, panel_h, row_h = 0.55, 0.7, 14.0, 3.65, 4.3
    widths = [max(len(steps), 3) + 0.4 for *_, steps in chosen]
    rows, row = [], []
    for i, w in enumerate(widths):
        if row and sum(widths[j] for j in row) + gap * len(row) + w > max_row:
            rows.append(row)
            row = []
        row.append(i)
    rows.append(row)
    row_widths = [sum(widths[j] for j in r) + gap * (len(r) - 1) for r in rows]
    fig_w, fig_h = max(row_widths) + 0.4, row_h * len(rows)
    fig = plt.figure(figsize=(unit * fig_w, unit * fig_h))
    for r, (members, rw) in enumerate(zip(rows, row_widths)):
        left = (fig_w - rw) / 2
        bottom = fig_h - (r + 1) * row_h + 0.1
        for j in members:
            name, example, flags, steps = chosen[j]
            w = widths[j]
            ax = fig.add_axes((left / fig_w, bottom / fig_h, w / fig_w, panel_h / fig_h))
            left += w + gap
            offset = (w - len(steps)) / 2 + 0.5
            for i, (has_in, has_out, c) in enumerate(steps):
                xc = offset + i
                _box(ax, xc, 1.0, "", _CELL_COLOURS[c], "cell", w=0.6, h=0.5)
                if i:
                    _arrow(ax, (xc - 0.68, 1.0), (xc - 0.32, 1.0))
                if has_in:
                    _box(ax, xc, 0.0, "", _IO_COLOURS["x"], "input", w=0.6, h=0.45)
                    _arrow(ax, (xc, 0.24), (xc, 0.73))
                if has_out:
                    _box(ax, xc, 2.0, "", _IO_COLOURS["y"], "output", w=0.6, h=0.45)
                    _arrow(ax, (xc, 1.27), (xc, 1.76))
            ax.set_title(name, fontsize=11)
            ax.text(w / 2, -0.6, example, ha="center", va="center", fontsize=9.5)
            ax.text(w / 2, -1.0, flags, ha="center", va="center", fontsize=9,
                    family="monospace", color="#1a4d80")
            ax.set_xlim(0, w)
            ax.set_ylim(-1.25, 2.4)
            ax.axis("off")
    return fig


def plot_gradient_norms(norms, title=None, ylabel=r"$\|\partial h_T/\partial h_t\|_F$",
                        ylim=None):
    """Gradient (Jacobian) norm against the time lag, log-scale y (book chapter 5).

    ``norms`` maps a curve label to an array like the one returned by
    :func:`labrnn.lab.analysis.hidden_jacobian_norms`: entry ``t`` (``t = 0..T``)
    is ``||dh_T/dh_t||``, so it is drawn at the time lag ``T - t``. A dict
    whose values are such dicts draws one panel per outer key (used as the
    panel title), side by side, sharing the y axis. Zeros (a state that no
    longer depends on the past, e.g. dead ReLUs) and non-finite values cannot
    be shown on a log scale and are left out of the line. Returns the Figure.
    """
    plt = _plt()
    if not norms:
        raise ValueError("plot_gradient_norms needs at least one curve")
    panels = norms if all(isinstance(v, dict) for v in norms.values()) else {title: norms}
    if any(not p for p in panels.values()):
        raise ValueError("every panel of plot_gradient_norms needs at least one curve")
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n + 1.2, 3.6), sharey=True, squeeze=False)
    for ax, (ptitle, curves) in zip(axes[0], panels.items()):
        for label, ys in curves.items():
            ys = np.asarray(to_numpy(ys), dtype=float)[::-1].copy()    # index = lag T - t
            ys[~(np.isfinite(ys) & (ys > 0))] = np.nan
            ax.plot(np.arange(len(ys)), ys, label=str(label))
        ax.set_yscale("log")
        ax.set_xlabel("time lag $T - t$")
        if ptitle:
            ax.set_title(ptitle if n > 1 or title is None else title)
        ax.grid(alpha=0.3, which="major")
        ax.legend(frameon=False, fontsize="small")
    axes[0][0].set_ylabel(ylabel)
    if ylim is not None:
        axes[0][0].set_ylim(*ylim)
    if n > 1 and title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_prediction(target, prediction, split=None, split_label="end of training length",
                    xlabel="step t", ylabel="value", title=None, target_label="target",
                    prediction_label="prediction"):
    """A target sequence (dots) and a model's prediction of it (line), both 1-D of one length.

    ``split`` (optional) draws a dashed vertical line at that step, e.g. where the
    training sequences ended and extrapolation begins (chapters 3 and 16).
    """
    plt = _plt()
    t_ = np.asarray(to_numpy(target), dtype=float)
    p_ = np.asarray(to_numpy(prediction), dtype=float)
    if t_.ndim != 1 or p_.ndim != 1:
        raise ValueError(f"target and prediction must be 1-D sequences, received shapes "
                         f"{t_.shape} and {p_.shape}")
    if t_.shape != p_.shape:
        raise ValueError(f"target and prediction must have the same length, received "
                         f"{t_.shape[0]} and {p_.shape[0]}")
    if split is not None and not 0 <= split <= len(t_):
        raise ValueError(f"split must lie in [0, {len(t_)}], received {split}")
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    steps = np.arange(len(t_))
    ax.plot(steps, t_, "o", markersize=5, color="#444444", label=target_label)
    ax.plot(steps, p_, "-", linewidth=1.8, color="#d9541a", label=prediction_label)
    if split is not None:
        ax.axvline(split - 0.5, color="gray", linestyle="--", linewidth=1, label=split_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=True, framealpha=0.9, fontsize="small", loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---- Part II (chapters 6 and 7): comparing cells -------------------------------------

def plot_by_lag(values, lags, ylabel="test loss", title=None, logy=False, hline=None,
                hline_label=None, xlabel="time lag $T$ (sequence length)"):
    """One marked line per model of a score measured at several time lags (chapter 7).

    ``values`` maps a label (e.g. the cell's name) to one number per entry of
    ``lags``; ``hline`` draws a dashed reference level, e.g. the loss of a
    model that ignores its input; ``xlabel`` names the lag axis (a source
    length in chapter 10). Non-finite values (a diverged run) are left
    out of the line. Returns the Figure.
    """
    plt = _plt()
    lags = np.asarray(lags, dtype=float)
    if not values:
        raise ValueError("plot_by_lag needs at least one curve")
    if lags.ndim != 1 or lags.size == 0:
        raise ValueError(f"lags must be a non-empty 1-D sequence, received shape {lags.shape}")
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for label, ys in values.items():
        ys = np.asarray(to_numpy(ys), dtype=float)
        if ys.shape != lags.shape:
            raise ValueError(f"{label!r} has {ys.size} values but there are {lags.size} lags")
        ys = np.where(np.isfinite(ys), ys, np.nan)
        ax.plot(lags, ys, marker="o", label=str(label))
    if hline is not None:
        ax.axhline(hline, color="gray", linestyle="--", linewidth=1, label=hline_label)
    if logy:
        ax.set_yscale("log")
    ax.set_xticks(lags)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_step_times(seconds, sizes, xlabel="hidden size $H$", title=None):
    """Time per time step (forward + backward) against model size, log-log (chapter 7).

    ``seconds`` maps a label to one measurement in seconds per entry of
    ``sizes`` (e.g. from :func:`labrnn.lab.experiments.seconds_per_step`); the
    axis shows microseconds. Timings belong in figures, never in printed
    text: they change from run to run. Returns the Figure.
    """
    plt = _plt()
    sizes = np.asarray(sizes, dtype=float)
    if not seconds:
        raise ValueError("plot_step_times needs at least one curve")
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for label, ys in seconds.items():
        ys = np.asarray(to_numpy(ys), dtype=float)
        if ys.shape != sizes.shape:
            raise ValueError(f"{label!r} has {ys.size} timings but there are {sizes.size} sizes")
        if not np.all(np.isfinite(ys) & (ys > 0)):
            raise ValueError(f"timings must be positive and finite, {label!r} has {ys}")
        ax.plot(sizes, 1e6 * ys, marker="o", label=str(label))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [f"{s:g}" for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"time per step ($\mu$s)")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def plot_training_runs(runs, window=1, baseline=None, baseline_label=None, zoom=None, title=None,
                       xlabel="update", ylabel="training loss", logy=True):
    """Loss curves of training runs side by side (book chapters 4 and 5).

    ``runs`` maps a label to a run: a sequence of per-update losses, or an object
    with a ``loss`` list such as :class:`labrnn.lab.experiments.History`. Each curve
    is smoothed by a moving average over ``window`` updates (drawn at the
    window's last update). ``baseline`` draws a dashed horizontal line (e.g. the
    loss of a trivial predictor). The main panel has a log-scale y axis
    (``logy``), so a diverged run and a trained one fit in one picture; ``zoom =
    (low, high)`` adds a second panel with a linear y axis limited to that range,
    where the runs near the baseline can be told apart. Returns the Figure.
    """
    plt = _plt()
    if not runs:
        raise ValueError("plot_training_runs needs at least one run")
    if not (isinstance(window, int) and window >= 1):
        raise ValueError(f"window must be a positive int, received {window!r}")
    n = 2 if zoom is not None else 1
    fig, axes = plt.subplots(1, n, figsize=(5.6 * n + 0.4, 3.6), squeeze=False)
    axes = axes[0]
    for label, run in runs.items():
        ys = np.asarray(to_numpy(getattr(run, "loss", run)), dtype=float)
        w = min(window, len(ys)) if len(ys) else 1
        smooth = np.convolve(ys, np.full(w, 1.0 / w), mode="valid") if len(ys) else ys
        xs = np.arange(w - 1, w - 1 + len(smooth))
        for ax in axes:
            ax.plot(xs, smooth, label=str(label))
    for i, ax in enumerate(axes):
        if baseline is not None:
            ax.axhline(baseline, color="gray", linestyle="--", linewidth=1, label=baseline_label)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if i == 0:
            if logy:
                ax.set_yscale("log")
            ax.set_ylabel(ylabel + (f" (mean of {window})" if window > 1 else ""))
        else:
            ax.set_ylim(*zoom)
            ax.set_title("zoom, linear scale", fontsize="medium")
    axes[0].legend(frameon=False, fontsize="small")
    if title:
        if n == 1:
            axes[0].set_title(title)
        else:
            fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_dropout_masks(masks, xlabel="feature", ylabel="time step", title=None):
    """Dropout masks of one sequence side by side, one panel per mask (book chapter 8).

    ``masks`` maps a label to a 2-D array ``(T, F)``: the multiplier applied to
    each feature at each step (0 for a dropped entry, ``1/(1-p)`` for a kept
    one). Dropped entries are drawn white, kept ones dark, so a variational
    mask (the same at every step) shows as vertical stripes. Returns the Figure.
    """
    plt = _plt()
    if not masks:
        raise ValueError("plot_dropout_masks needs at least one mask")
    arrays = {}
    for label, m in masks.items():
        m = np.asarray(to_numpy(m), dtype=float)
        if m.ndim != 2:
            raise ValueError(f"mask {label!r} must be 2-D (T, F), received shape {m.shape}")
        arrays[label] = m
    n = len(arrays)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n + 0.4, 3.4), squeeze=False)
    for ax, (label, m) in zip(axes[0], arrays.items()):
        ax.imshow(m > 0, cmap="Greys", vmin=0, vmax=1.4, aspect="auto", interpolation="nearest")
        ax.set_title(str(label), fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---- Part V (chapter 18): connectionist temporal classification ----------------------

def _ctc_reachable(T, ext, blank):
    """Lattice nodes (t, s) on at least one complete path: reachable from the start and the end."""
    L = len(ext)
    skip = [s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] for s in range(L)]
    fwd = np.zeros((T, L), dtype=bool)
    fwd[0, :min(2, L)] = True
    for t in range(1, T):
        for s in range(L):
            fwd[t, s] = fwd[t - 1, s] or (s >= 1 and fwd[t - 1, s - 1]) or (skip[s] and fwd[t - 1, s - 2])
    bwd = np.zeros((T, L), dtype=bool)
    bwd[T - 1, max(0, L - 2):] = True
    for t in range(T - 2, -1, -1):
        for s in range(L):
            bwd[t, s] = bwd[t + 1, s] or (s + 1 < L and bwd[t + 1, s + 1]) or (
                s + 2 < L and skip[s + 2] and bwd[t + 1, s + 2])
    return fwd & bwd, skip


def plot_ctc_lattice(T, target, labels=None, blank=0, occupancy=None, path=None, title=None):
    """The CTC alignment lattice of a target over ``T`` frames (book chapter 18).

    Rows are the extended labelling ``(-, l_1, -, ..., l_S, -)``, columns the
    frames. A node is drawn where some complete path passes (reachable from the
    start and able to reach the end); arrows are the allowed moves: stay,
    advance by one, or skip a blank between two different labels. ``occupancy``
    (T, 2S+1), optional, shades each node by the posterior probability that the
    path is there (``alpha beta / (y p)``); ``path`` (T,) optional, a sequence of
    row indices drawn as a thick line (one alignment). ``labels`` maps class
    indices to names (default: the index; the blank is ``-``). Returns the Figure;
    each node is a marker of the artist with gid ``"nodes"``, each move an arrow
    with gid ``"move"``.
    """
    plt = _plt()
    tgt = [int(v) for v in np.asarray(to_numpy(target)).reshape(-1)]
    if not (isinstance(T, (int, np.integer)) and T >= 1):
        raise ValueError(f"T must be a positive int, received {T!r}")
    ext = [blank]
    for c in tgt:
        ext += [c, blank]
    L = len(ext)
    ok, skip = _ctc_reachable(int(T), ext, blank)
    if not ok.any():
        raise ValueError(f"the target {tgt} cannot be aligned to T={T} frames "
                         f"(it needs at least {len(tgt) + sum(a == b for a, b in zip(tgt, tgt[1:]))})")
    name = (lambda c: "-" if c == blank else str(c if labels is None else labels[c]))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * T + 1.5), max(2.5, 0.42 * L + 1.0)))
    for t in range(T - 1):
        for s in range(L):
            if not ok[t, s]:
                continue
            for d in (0, 1, 2):
                s2 = s + d
                if s2 < L and ok[t + 1, s2] and (d < 2 or skip[s2]):
                    ax.annotate("", xy=(t + 1, s2), xytext=(t, s), gid="move",
                                arrowprops=dict(arrowstyle="-|>", color="0.6", lw=0.8,
                                                shrinkA=7, shrinkB=7))
    ts, ss = np.nonzero(ok)
    if occupancy is not None:
        occ = np.asarray(to_numpy(occupancy), dtype=float)
        if occ.shape != (T, L):
            raise ValueError(f"occupancy must have shape (T={T}, 2S+1={L}), received {occ.shape}")
        colours = occ[ts, ss]
        sc = ax.scatter(ts, ss, c=colours, cmap="Blues", vmin=0, vmax=1, s=180, edgecolors="k",
                        zorder=3, gid="nodes")
        fig.colorbar(sc, ax=ax, label="occupancy", shrink=0.8)
    else:
        ax.scatter(ts, ss, c="white", s=180, edgecolors="k", zorder=3, gid="nodes")
    if path is not None:
        path = [int(v) for v in np.asarray(to_numpy(path)).reshape(-1)]
        if len(path) != T:
            raise ValueError(f"path must give one row per frame (T={T}), received {len(path)}")
        ax.plot(range(T), path, color="C3", lw=2.5, zorder=2, label="one alignment")
        ax.legend(frameon=False, fontsize="small", loc="upper right")
    ax.set_yticks(range(L), [name(c) for c in ext])
    ax.set_xticks(range(T), [str(t + 1) for t in range(T)])
    ax.set_ylim(L - 0.5, -0.5)
    ax.set_xlabel("frame $t$")
    ax.set_ylabel("extended label $l'_s$")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# ---- Part V (chapters 14 and 15): text applications ----------------------------------

def plot_token_probabilities(sentences, probabilities, labels=None, title=None,
                             ylabel="P(positive)"):
    """A model's output after each word, one panel per sentence (book chapter 14).

    ``sentences`` is a list of token lists and ``probabilities`` a list of 1-D arrays of
    the same lengths: entry ``t`` is the model's P(positive) after reading words
    ``1..t`` (e.g. :func:`labrnn.apps.sentiment.prefix_probabilities`). Each panel draws
    the probability as a step line with markers over the words, a dashed line at 0.5,
    and, if ``labels`` are given, the true label in its title. Returns the Figure.
    """
    plt = _plt()
    if not sentences or len(sentences) != len(probabilities):
        raise ValueError(f"plot_token_probabilities needs one probability array per sentence "
                         f"(at least one), received {len(sentences)} sentences and "
                         f"{len(probabilities)} arrays")
    if labels is not None and len(labels) != len(sentences):
        raise ValueError(f"labels has {len(labels)} entries for {len(sentences)} sentences")
    arrays = []
    for k, (toks, p) in enumerate(zip(sentences, probabilities)):
        p = np.asarray(to_numpy(p), dtype=float).reshape(-1)
        if len(p) != len(toks):
            raise ValueError(f"sentence {k} has {len(toks)} words but {len(p)} probabilities")
        arrays.append(p)
    n = len(sentences)
    width = max(4.5, 0.55 * max(len(s) for s in sentences) + 1.5)
    fig, axes = plt.subplots(n, 1, figsize=(width, 1.9 * n + 0.4), squeeze=False)
    for k, (ax, toks, p) in enumerate(zip(axes[:, 0], sentences, arrays)):
        ax.plot(range(len(p)), p, marker="o", drawstyle="steps-mid")
        ax.axhline(0.5, color="gray", linestyle="--", linewidth=1)
        ax.set_ylim(-0.05, 1.05)
        ax.set_xticks(range(len(toks)), [str(t) for t in toks])
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if labels is not None:
            ax.set_title(f"true label: {labels[k]}", fontsize="medium", loc="left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---- Part V (chapters 16 and 17): forecasts and alignments ---------------------------

def plot_forecasts(x, truth, forecasts, origin=None, xlabel="year", ylabel="CO$_2$ (ppm)",
                   title=None, truth_label="observed"):
    """A series (dots) and forecasts of it (lines), e.g. from one origin (chapter 16).

    ``x`` and ``truth`` are 1-D of one length (the time axis and the observed
    series); ``forecasts`` maps a label to ``(x_f, y_f)``, the times and values
    of that forecast; ``origin`` (optional) draws a dashed vertical line at the
    forecast origin, where observation ends.
    """
    plt = _plt()
    x_ = np.asarray(to_numpy(x), dtype=float)
    t_ = np.asarray(to_numpy(truth), dtype=float)
    if x_.ndim != 1 or x_.shape != t_.shape:
        raise ValueError(f"x and truth must be 1-D of one length, received shapes {x_.shape} "
                         f"and {t_.shape}")
    if not forecasts:
        raise ValueError("plot_forecasts needs at least one forecast (label -> (x, y))")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(x_, t_, "o", markersize=3, color="#444444", label=truth_label)
    for label, pair in forecasts.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"forecasts[{label!r}] must be a pair (x, y), received "
                             f"{type(pair).__name__}")
        xf = np.asarray(to_numpy(pair[0]), dtype=float)
        yf = np.asarray(to_numpy(pair[1]), dtype=float)
        if xf.ndim != 1 or xf.shape != yf.shape:
            raise ValueError(f"forecasts[{label!r}]: x and y must be 1-D of one length, "
                             f"received shapes {xf.shape} and {yf.shape}")
        ax.plot(xf, yf, "-", linewidth=1.8, label=str(label))
    from matplotlib.ticker import MaxNLocator
    span = float(np.nanmax(x_) - np.nanmin(x_)) if x_.size else 0.0
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=span >= 3))   # whole years
    if origin is not None:
        ax.axvline(origin, color="gray", linestyle="--", linewidth=1, label="forecast origin")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=True, framealpha=0.9, fontsize="small", loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---- Part V (chapters 19 and 20): generation from a vector, dynamics and memories -------

def plot_digit_names(images, titles, ncols=8, title=None):
    """A grid of 8 x 8 digit images (N, 64) with a caption under each (e.g. the generated name)."""
    plt = _plt()
    imgs = np.asarray(to_numpy(images), dtype=float)
    if imgs.ndim != 2 or imgs.shape[1] != 64:
        raise ValueError(f"images must have shape (N, 64) (8 x 8 pixels per row), received "
                         f"{imgs.shape}")
    if len(titles) != len(imgs):
        raise ValueError(f"{len(titles)} titles for {len(imgs)} images")
    n = len(imgs)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.45 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            ax.imshow(imgs[k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(str(titles[k]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_name_probabilities(alphas, probs, names, xlabel=r"mixing weight $\alpha$", title=None,
                            top=None):
    """Probability of each candidate sequence along a path (e.g. an interpolation between two inputs).

    ``alphas`` (K,), ``probs`` (K, N) with one column per name in ``names``
    (N,); the mass left to sequences not listed, ``1 - sum``, is drawn
    dashed. ``top``: draw only the ``top`` names with the largest peak probability.
    """
    plt = _plt()
    a = np.asarray(alphas, dtype=float)
    P = np.asarray(to_numpy(probs), dtype=float)
    if P.ndim != 2 or P.shape != (len(a), len(names)):
        raise ValueError(f"probs must have shape (len(alphas)={len(a)}, len(names)="
                         f"{len(names)}), received {P.shape}")
    order = np.argsort(-P.max(axis=0), kind="stable")
    keep = order if top is None else order[:top]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for j in sorted(keep):
        ax.plot(a, P[:, j], marker=".", label=str(names[j]))
    ax.plot(a, 1.0 - P.sum(axis=1), color="gray", linestyle="--", label="any other string")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_waveform_spectrogram(samples, rate, features, frame_rate, boundaries=None, title=None):
    """A recording's waveform above its log-mel features (book chapter 18).

    ``samples`` (N,) at ``rate`` Hz; ``features`` (frames, bands) at ``frame_rate``
    frames per second; ``boundaries`` optional ``[(start_s, end_s, text), ...]``
    marks segments (e.g. where each digit was spoken) on both panels. Returns the
    Figure (two axes sharing the time axis).
    """
    plt = _plt()
    x = np.asarray(to_numpy(samples), dtype=float).reshape(-1)
    F = np.asarray(to_numpy(features), dtype=float)
    if F.ndim != 2:
        raise ValueError(f"features must be 2-D (frames, bands), received shape {F.shape}")
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(8, 4.6), sharex=True,
                                 gridspec_kw={"height_ratios": [1, 1.4]})
    a0.plot(np.arange(x.size) / rate, x, lw=0.5, color="C0")
    a0.set_ylabel("amplitude")
    im = a1.imshow(F.T, origin="lower", aspect="auto", cmap="magma",
                   extent=(0, F.shape[0] / frame_rate, -0.5, F.shape[1] - 0.5))
    fig.colorbar(im, ax=[a0, a1], label="log mel power", shrink=0.6)
    a1.set_ylabel("mel band")
    a1.set_xlabel("time (s)")
    for start, end, text in (boundaries or []):
        for ax in (a0, a1):
            ax.axvspan(start, end, color="C2", alpha=0.12)
        a0.text((start + end) / 2, 0.92, str(text), transform=a0.get_xaxis_transform(),
                ha="center", va="top", fontsize=11)
    if title:
        a0.set_title(title)
    return fig


def plot_ctc_posteriors(probs, frame_rate=None, class_names=None, blank=0, title=None):
    """Per-frame class posteriors of a CTC network over time (book chapter 18).

    ``probs`` (T, C): softmax outputs of one utterance. The blank is drawn as a
    grey dashed line, every other class as a coloured line labelled with its
    name at its highest peak, so the "spikes" CTC networks learn are visible.
    ``frame_rate`` (frames per second) puts seconds on the x axis. Returns the Figure.
    """
    plt = _plt()
    P = np.asarray(to_numpy(probs), dtype=float)
    if P.ndim != 2:
        raise ValueError(f"probs must be 2-D (T, C), received shape {P.shape}")
    T, C = P.shape
    names = class_names or [str(c) for c in range(C)]
    if len(names) != C:
        raise ValueError(f"class_names has {len(names)} names for C={C} classes")
    t = np.arange(T) / (frame_rate or 1)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(t, P[:, blank], color="0.6", ls="--", lw=1, label=f"blank ({names[blank]})")
    for c in range(C):
        if c == blank or P[:, c].max() < 0.05:
            continue
        line, = ax.plot(t, P[:, c], lw=1.4, label=names[c])
        k = int(np.argmax(P[:, c]))
        ax.text(t[k], min(P[k, c] + 0.03, 1.08), names[c], color=line.get_color(), ha="center",
                fontsize=11, fontweight="bold")
    ax.set_ylim(0, 1.15)
    ax.set_xlabel("time (s)" if frame_rate else "frame")
    ax.set_ylabel("posterior $y_t(k)$")
    ax.legend(frameon=False, fontsize="x-small", ncol=6, loc="upper right",
              bbox_to_anchor=(1.0, -0.22))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(counts, labels, normalize=True, title=None, annotate_min=0.005):
    """Confusion matrix of a classifier or tagger: row = true class, column = predicted.

    ``counts`` is a square integer matrix ``(C, C)`` and ``labels`` the C class names.
    With ``normalize`` each row is divided by its total (the share of each true class
    given each prediction; rows without examples stay zero). Cells with a share of at
    least ``annotate_min`` are written in the cell in percent (or as counts when not
    normalised). Returns the Figure.
    """
    plt = _plt()
    m = np.asarray(to_numpy(counts), dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"counts must be a square matrix (C, C), received shape {m.shape}")
    if len(labels) != m.shape[0]:
        raise ValueError(f"labels has {len(labels)} names for a {m.shape[0]} x {m.shape[1]} "
                         "matrix")
    if (m < 0).any():
        raise ValueError("counts must be non-negative")
    shown = m
    if normalize:
        totals = m.sum(axis=1, keepdims=True)
        shown = np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)
    C = m.shape[0]
    fig, ax = plt.subplots(figsize=(0.45 * C + 2.5, 0.42 * C + 1.8))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(C), [str(s) for s in labels], rotation=90)
    ax.set_yticks(range(C), [str(s) for s in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = shown.max() if shown.size else 1.0
    for i in range(C):
        for j in range(C):
            share = shown[i, j] if normalize else shown[i, j] / max(m.sum(), 1)
            if share >= annotate_min and m[i, j] > 0:
                text = f"{100 * shown[i, j]:.0f}" if normalize else f"{int(m[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if shown[i, j] > 0.6 * top else "black")
    if title:
        ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def plot_alignments(panels, xlabel="source character", ylabel="output character",
                    cmap="viridis"):
    """Attention weights of several examples side by side, one heatmap each (chapter 17).

    ``panels`` is a list of ``(weights, xlabels, ylabels, title)``: ``weights``
    (T_out, S) with one row per output token and one column per source token,
    and the tick labels for both axes (lengths must match the matrix).
    """
    plt = _plt()
    if not panels:
        raise ValueError("plot_alignments needs at least one panel (weights, xlabels, ylabels, title)")
    mats = []
    for i, panel in enumerate(panels):
        if len(panel) != 4:
            raise ValueError(f"panels[{i}] must be (weights, xlabels, ylabels, title), received "
                             f"{len(panel)} items")
        m = np.asarray(to_numpy(panel[0]), dtype=float)
        if m.ndim != 2 or len(panel[1]) != m.shape[1] or len(panel[2]) != m.shape[0]:
            raise ValueError(f"panels[{i}]: weights of shape {m.shape} need {m.shape[1] if m.ndim == 2 else '?'} "
                             f"xlabels and {m.shape[0] if m.ndim == 2 else '?'} ylabels, received "
                             f"{len(panel[1])} and {len(panel[2])}")
        mats.append(m)
    widths = [max(m.shape[1], 4) for m in mats]
    fig, axes = plt.subplots(1, len(mats), figsize=(0.28 * sum(widths) + 1.2 * len(mats), 3.6),
                             gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, m, (_, xl, yl, title) in zip(axes[0], mats, panels):
        ax.imshow(m, cmap=cmap, aspect="auto", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(xl)), [repr(str(s))[1:-1] if str(s) != " " else "␣" for s in xl])
        ax.set_yticks(range(len(yl)), [str(s) for s in yl])
        ax.set_xlabel(xlabel)
        ax.set_title(str(title), fontsize="small")
    axes[0][0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def plot_rollout(t, true, pred, diverge_at=None, labels=("x", "y", "z"), title=None):
    """Free rollout against the true trajectory, one panel per coordinate.

    ``t`` (T,), ``true`` and ``pred`` (T, D); ``diverge_at`` (a time) draws a
    vertical line where the rollout leaves the truth.
    """
    plt = _plt()
    tt = np.asarray(t, dtype=float)
    X, Y = np.asarray(to_numpy(true), dtype=float), np.asarray(to_numpy(pred), dtype=float)
    if X.shape != Y.shape or X.ndim != 2 or X.shape[0] != len(tt):
        raise ValueError(f"true and pred must have shape (T={len(tt)}, D), received {X.shape} "
                         f"and {Y.shape}")
    D = X.shape[1]
    fig, axes = plt.subplots(D, 1, figsize=(7, 1.6 * D + 0.6), sharex=True, squeeze=False)
    for d, ax in enumerate(axes[:, 0]):
        ax.plot(tt, X[:, d], color="black", label="true system")
        ax.plot(tt, Y[:, d], color="C1", linestyle="--", label="network, free-running")
        if diverge_at is not None:
            ax.axvline(diverge_at, color="C3", linewidth=1)
        ax.set_ylabel(labels[d] if d < len(labels) else f"x{d}")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(frameon=False, fontsize="small", loc="upper right")
    axes[-1, 0].set_xlabel("time")
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def plot_error_growth(t, errors, rate=None, threshold=None, title=None):
    """Distance between trajectories against time on a log axis.

    ``errors`` maps a label to (T,) distances (e.g. the median over several
    trajectories); ``rate`` draws the reference growth ``e0 * exp(rate t)``
    from the first curve's first value (a Lyapunov exponent); ``threshold`` a
    horizontal line (the divergence threshold).
    """
    plt = _plt()
    tt = np.asarray(t, dtype=float)
    if not errors:
        raise ValueError("plot_error_growth needs at least one curve")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    first = None
    for label, e in errors.items():
        e = np.asarray(to_numpy(e), dtype=float)
        if e.shape != tt.shape:
            raise ValueError(f"curve {label!r} has shape {e.shape}, t has {tt.shape}")
        ax.plot(tt, e, label=str(label))
        first = e if first is None else first
    if rate is not None:
        ax.plot(tt, first[0] * np.exp(rate * (tt - tt[0])), color="gray", linestyle=":",
                label=rf"$\propto e^{{{rate:g}\,t}}$")
    if threshold is not None:
        ax.axhline(threshold, color="C3", linewidth=1, label="threshold")
    ax.set_yscale("log")
    ax.set_xlabel("time")
    ax.set_ylabel("distance")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


_FP_STYLE = {"stable": ("o", "C0", "stable (attractor)"), "saddle": ("x", "C3", "saddle"),
             "unstable": ("^", "C2", "unstable")}


def plot_fixed_points(states, points, kinds, labels=None, title=None):
    """Fixed points over the cloud of visited states, in a 2-D or 3-D projection.

    ``states`` (N, k) projected hidden states (drawn faintly), ``points``
    (M, k) projected fixed points, ``kinds`` (M,) each ``"stable"``,
    ``"saddle"`` or ``"unstable"``; ``labels`` (M,) optional text by each point
    (e.g. the bits a stable point stores). ``k`` is 2 or 3.
    """
    plt = _plt()
    S, Pn = np.asarray(to_numpy(states), dtype=float), np.asarray(to_numpy(points), dtype=float)
    if S.ndim != 2 or Pn.ndim != 2 or S.shape[1] != Pn.shape[1] or S.shape[1] not in (2, 3):
        raise ValueError(f"states and points must have shapes (N, k) and (M, k) with k = 2 or 3, "
                         f"received {S.shape} and {Pn.shape}")
    if len(kinds) != len(Pn) or any(k not in _FP_STYLE for k in kinds):
        raise ValueError(f"kinds must give one of {list(_FP_STYLE)} for each of the {len(Pn)} "
                         f"points, received {list(kinds)}")
    k = S.shape[1]
    fig = plt.figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot(projection="3d" if k == 3 else None)
    ax.scatter(*S.T, s=2, color="lightgray", alpha=0.5, label="visited states")
    for kind, (marker, colour, text) in _FP_STYLE.items():
        sel = np.array([c == kind for c in kinds], dtype=bool)
        if sel.any():
            ax.scatter(*Pn[sel].T, marker=marker, s=50, color=colour, label=text)
    if labels is not None:
        for p, lab in zip(Pn, labels):
            if lab:
                ax.text(*p, f" {lab}", fontsize=8)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    if k == 3:
        ax.set_zlabel("PC 3")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_accuracy_by(x, accuracies, xlabel, ylabel="test accuracy", chance=None, title=None):
    """Accuracy against a task parameter for several models, every seed drawn.

    ``accuracies`` maps a model name to an array (len(x), seeds): the median
    is the line, each seed a dot. ``chance`` draws the guessing level.
    """
    plt = _plt()
    xs = np.asarray(x, dtype=float)
    if not accuracies:
        raise ValueError("plot_accuracy_by needs at least one model")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, (name, acc) in enumerate(accuracies.items()):
        A = np.asarray(acc, dtype=float)
        if A.ndim != 2 or A.shape[0] != len(xs):
            raise ValueError(f"accuracies[{name!r}] must have shape (len(x)={len(xs)}, seeds), "
                             f"received {A.shape}")
        ax.plot(xs, np.median(A, axis=1), marker="o", color=f"C{i}", label=str(name))
        for j in range(A.shape[1]):
            ax.scatter(xs, A[:, j], s=10, color=f"C{i}", alpha=0.5)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(xs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_learning_curves(train, val, best_step=None, baselines=None, xlabel="update",
                         ylabel="loss (nats)", title=None):
    """Training and validation curves of one run, with early stopping marked (chapters 12, 13).

    ``train`` and ``val`` are sequences of ``(step, value)`` pairs (the JSON logs of the
    training scripts store them so); ``best_step`` draws a dotted vertical line where the
    validation loss was lowest (the kept parameters); ``baselines`` maps a label to a
    value drawn as a dashed horizontal line (e.g. an n-gram model's loss). Returns the Figure.
    """
    plt = _plt()
    curves = {}
    for name, pairs in (("training", train), ("validation", val)):
        arr = np.asarray(pairs, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
            raise ValueError(f"{name} curve must be a non-empty sequence of (step, value) "
                             f"pairs, received shape {arr.shape}")
        curves[name] = arr
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for (name, arr), style in zip(curves.items(), ("-", "-o")):
        ax.plot(arr[:, 0], arr[:, 1], style, markersize=3, label=name)
    for k, (label, value) in enumerate((baselines or {}).items()):
        ax.axhline(float(value), linestyle="--", linewidth=1, color=f"C{k + 2}", label=label)
    if best_step is not None:
        ax.axvline(float(best_step), linestyle=":", color="gray", label=f"best validation (update {best_step})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


# ---- Parts II and III (chapters 6 to 11): architecture diagrams ----------------------
#
# Every diagram is drawn in data units on one axes with equal aspect. Boxes and circles
# carry a ``gid`` naming their role (``"gate"``, ``"op"``, ``"cell"``, ``"encoder"``, ...)
# so that the tests can count what was drawn; every label is an ``ax.texts`` entry.

_GATE_COLOUR = "#fff2cc"
_OP_COLOUR = "#ffffff"
_PATH_COLOUR = "#b45f06"          # the additive (carousel) path of a gated cell


def _op(ax, x, y, text, r=0.28, fontsize=10):
    """A round operation node (element-wise product, sum, tanh, 1 - z)."""
    from matplotlib.patches import Circle
    patch = Circle((x, y), r, facecolor=_OP_COLOUR, edgecolor="#333333", linewidth=1.2, gid="op")
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return patch


def _line(ax, points, colour="#333333", lw=1.2, gid="wire"):
    xs, ys = zip(*points)
    (ln,) = ax.plot(xs, ys, color=colour, linewidth=lw, solid_capstyle="round", gid=gid)
    return ln


def _label(ax, x, y, text, fontsize=11, colour="#000000", **kw):
    kw.setdefault("ha", "center")
    kw.setdefault("va", "center")
    return ax.text(x, y, text, fontsize=fontsize, color=colour, **kw)


def _finish(fig, ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return fig


def _canvas(xlim, ylim, scale=0.62):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(scale * (xlim[1] - xlim[0]), scale * (ylim[1] - ylim[0])))
    return fig, ax


def plot_lstm_cell():
    """One LSTM step (book chapter 6, equations ``lstm-gates``, ``lstm-cell``, ``lstm-hidden``).

    The four boxes (``gid="gate"``) compute the input gate $i_t$, the forget gate
    $f_t$, the candidate $g_t$ and the output gate $o_t$ from the same pair
    $[h_{t-1}; x_t]$; the round nodes (``gid="op"``) are the element-wise products
    (three), the sum (one) and the tanh of the cell (one). The cell state's path
    from $c_{t-1}$ to $c_t$ (drawn thick, ``gid="cell-path"``) meets only one
    product and one sum: the constant error carousel of equation ``lstm-cec``.
    Returns the Figure.
    """
    xlim, ylim = (-0.9, 10.6), (-1.3, 6.3)
    fig, ax = _canvas(xlim, ylim)
    yc, yg, ybus = 5.0, 2.2, 0.9
    # the cell path: c_{t-1} -> (x f) -> (+) -> c_t
    _label(ax, -0.45, yc, "$c_{t-1}$")
    _line(ax, [(0.0, yc), (2.22, yc)], _PATH_COLOUR, 3.0, gid="cell-path")
    _line(ax, [(2.78, yc), (4.52, yc)], _PATH_COLOUR, 3.0, gid="cell-path")
    _line(ax, [(5.08, yc), (9.6, yc)], _PATH_COLOUR, 3.0, gid="cell-path")
    _label(ax, 10.05, yc, "$c_t$")
    _op(ax, 2.5, yc, r"$\times$")
    _op(ax, 4.8, yc, "$+$")
    # the input bus [h_{t-1}; x_t] feeding every gate
    _label(ax, -0.45, ybus, "$h_{t-1}$")
    _line(ax, [(0.0, ybus), (7.3, ybus)])
    _label(ax, 1.2, -0.95, "$x_t$")
    _arrow(ax, (1.2, -0.65), (1.2, ybus - 0.02))
    _label(ax, 0.65, ybus + 0.35, "$[h_{t-1}; x_t]$", fontsize=9, colour="#1a4d80")
    gates = ((2.5, "$f_t$", r"$\sigma$"), (4.2, "$i_t$", r"$\sigma$"),
             (5.4, "$g_t$", "tanh"), (7.3, "$o_t$", r"$\sigma$"))
    for x, name, fn in gates:
        _arrow(ax, (x, ybus), (x, yg - 0.31))
        _box(ax, x, yg, fn, _GATE_COLOUR, "gate", w=0.85, h=0.6)
        _label(ax, x - 0.62 if name == "$o_t$" else x + 0.62, yg + 0.55, name, fontsize=11)
    # forget gate scales the old cell
    _arrow(ax, (2.5, yg + 0.31), (2.5, yc - 0.3))
    # input gate times candidate, added to the cell
    _op(ax, 4.8, 3.6, r"$\times$")
    _arrow(ax, (4.2, yg + 0.31), (4.62, 3.38))
    _arrow(ax, (5.4, yg + 0.31), (4.98, 3.38))
    _arrow(ax, (4.8, 3.9), (4.8, yc - 0.3))
    # output: h_t = o_t * tanh(c_t)
    _line(ax, [(8.3, yc), (8.3, 4.35)])
    _op(ax, 8.3, 4.05, "tanh", r=0.32, fontsize=8)
    _arrow(ax, (8.3, 3.73), (8.3, 3.08))
    _op(ax, 8.3, 2.8, r"$\times$")
    _arrow(ax, (7.3, yg + 0.31), (8.04, 2.68))
    _arrow(ax, (8.58, 2.8), (9.6, 2.8))
    _label(ax, 10.05, 2.8, "$h_t$")
    _label(ax, 4.8, 5.75, r"cell path: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$",
           fontsize=10, colour=_PATH_COLOUR)
    _label(ax, 6.2, -0.95, r"$h_t = o_t \odot \tanh(c_t)$", fontsize=10, colour="#1a4d80")
    return _finish(fig, ax, xlim, ylim)


def plot_gru_cell(reset="after"):
    """One GRU step (book chapter 7, equations ``gru-gates``, ``gru-candidate``, ``gru-update``).

    Two gate boxes (``gid="gate"``) compute the reset gate $r_t$ and the update gate
    $z_t$, a third box the candidate $n_t$ (tanh). The state's path from $h_{t-1}$
    to $h_t$ (thick, ``gid="state-path"``) meets one product with $z_t$ and one
    sum; the node ``1-`` turns $z_t$ into the fraction $1 - z_t$ written from the
    candidate. ``reset`` (``"after"`` or ``"before"``) selects where the reset
    gate acts, which the candidate's label spells out. Returns the Figure.
    """
    if reset not in ("after", "before"):
        raise ValueError(f"reset must be 'after' or 'before', received {reset!r}")
    xlim, ylim = (-0.9, 10.6), (-1.3, 6.3)
    fig, ax = _canvas(xlim, ylim)
    yc, yg, ybus = 5.0, 2.2, 0.9
    _label(ax, -0.45, yc, "$h_{t-1}$")
    _line(ax, [(0.0, yc), (2.72, yc)], _PATH_COLOUR, 3.0, gid="state-path")
    _line(ax, [(3.28, yc), (7.02, yc)], _PATH_COLOUR, 3.0, gid="state-path")
    _line(ax, [(7.58, yc), (9.6, yc)], _PATH_COLOUR, 3.0, gid="state-path")
    _label(ax, 10.05, yc, "$h_t$")
    _op(ax, 3.0, yc, r"$\times$")
    _op(ax, 7.3, yc, "$+$")
    # h_{t-1} drops to the input bus
    _line(ax, [(0.35, yc), (0.35, ybus), (6.3, ybus)])
    _label(ax, 1.4, -0.95, "$x_t$")
    _arrow(ax, (1.4, -0.65), (1.4, ybus - 0.02))
    _label(ax, 0.95, ybus + 0.35, "$[h_{t-1}; x_t]$", fontsize=9, colour="#1a4d80")
    gates = ((3.0, "$z_t$", r"$\sigma$"), (4.9, "$r_t$", r"$\sigma$"), (6.3, "$n_t$", "tanh"))
    for x, name, fn in gates:
        _arrow(ax, (x, ybus), (x, yg - 0.31))
        _box(ax, x, yg, fn, _GATE_COLOUR, "gate", w=0.85, h=0.6)
        _label(ax, x + 0.62, yg + 0.55, name, fontsize=11)
    # reset gate into the candidate
    _arrow(ax, (5.33, yg), (5.87, yg))
    where = (r"$r_t \odot (W_{hn} h_{t-1} + b_{hn})$" if reset == "after"
             else r"$W_{hn} (r_t \odot h_{t-1})$")
    _label(ax, 5.6, yg - 0.75, f"reset {reset}: {where}", fontsize=8.5, colour="#1a4d80")
    # update gate keeps z_t of the old state ...
    _arrow(ax, (3.0, yg + 0.31), (3.0, yc - 0.3))
    # ... and writes 1 - z_t of the candidate
    _op(ax, 4.2, 3.5, "1-", fontsize=9)
    _arrow(ax, (3.0, 3.5), (3.92, 3.5))
    _op(ax, 6.3, 3.9, r"$\times$")
    _arrow(ax, (4.48, 3.56), (6.02, 3.86))
    _arrow(ax, (6.3, yg + 0.31), (6.3, 3.62))
    _line(ax, [(6.58, 3.9), (7.3, 3.9)])
    _arrow(ax, (7.3, 3.9), (7.3, yc - 0.3))
    _arrow(ax, (8.6, yc), (8.6, 3.0))
    _label(ax, 9.3, 2.75, "$h_t$ (output)", fontsize=10)
    _label(ax, 4.6, 5.75, r"state path: $h_t = z_t \odot h_{t-1} + (1 - z_t) \odot n_t$",
           fontsize=10, colour=_PATH_COLOUR)
    return _finish(fig, ax, xlim, ylim)


def plot_stacked_rnn(L=3, T=4, residual=False):
    """A stack of ``L`` recurrent layers unrolled over ``T`` steps (book chapter 8).

    Cell ``(l, t)`` (``gid="cell"``, label $h^{(l)}_t$) receives $h^{(l-1)}_t$
    from below and $h^{(l)}_{t-1}$ from the left (equation ``deep-stack``); each
    row has its own weights, named at the left. ``residual=True`` adds the skip
    connections $u^{(l+1)}_t = h^{(l)}_t + u^{(l)}_t$ (``deep-residual``, ``gid="skip"``) from the
    input of each layer above the first to its output. ``L`` in [1, 5], ``T`` in
    [1, 6]. Returns the Figure.
    """
    L = _check_int("L", L, 1, 5)
    T = _check_int("T", T, 1, 6)
    dx, dy = 1.7, 1.45
    xlim, ylim = (-1.6, dx * (T - 1) + 1.0), (-1.0, dy * (L + 1) + 0.1)
    fig, ax = _canvas(xlim, ylim, scale=0.7)
    for t in range(1, T + 1):
        xc = dx * (t - 1)
        _box(ax, xc, 0.0, f"$x_{{{t}}}$", _IO_COLOURS["x"], "input", w=0.8, h=0.5)
        _box(ax, xc, dy * (L + 1) - 0.35, f"$y_{{{t}}}$", _IO_COLOURS["y"], "output", w=0.8, h=0.5)
        _arrow(ax, (xc, dy * L + 0.3), (xc, dy * (L + 1) - 0.62))
        for l in range(1, L + 1):
            yc = dy * l
            _box(ax, xc, yc, f"$h^{{({l})}}_{{{t}}}$", _CELL_COLOURS[0], "cell", w=0.95, h=0.6)
            _arrow(ax, (xc, yc - dy + (0.27 if l == 1 else 0.32)), (xc, yc - 0.32))
            if t > 1:
                _arrow(ax, (xc - dx + 0.49, yc), (xc - 0.49, yc))
            if residual and l > 1:           # u^(l+1) = h^(l) + u^(l): around the box
                ym0, ym1 = yc - dy / 2, yc + dy / 2
                _line(ax, [(xc, ym0), (xc + 0.66, ym0), (xc + 0.66, ym1)], _PATH_COLOUR, 1.4)
                _arrow(ax, (xc + 0.66, ym1), (xc + 0.06, ym1), colour=_PATH_COLOUR).set_gid("skip")
    for l in range(1, L + 1):
        _label(ax, -1.05, dy * l, f"layer {l}", fontsize=9, colour="#1a4d80")
    return _finish(fig, ax, xlim, ylim)


def plot_bidirectional_rnn(T=4):
    """A bidirectional layer unrolled over ``T`` steps (book chapter 9, ``bidir-directions``, ``bidir-merge``).

    The forward row (``gid="forward"``) runs left to right from $\\overrightarrow{h}_0$,
    the backward row (``gid="backward"``) right to left from $\\overleftarrow{h}_{T+1}$;
    both read every $x_t$, and the output at step $t$ reads the concatenation
    $[\\overrightarrow{h}_t; \\overleftarrow{h}_t]$ (``gid="concat"``), so it depends on
    the whole sequence. ``T`` in [2, 6]. Returns the Figure.
    """
    T = _check_int("T", T, 2, 6)
    dx = 1.9
    xlim, ylim = (-1.5, dx * (T - 1) + 1.5), (-0.8, 5.4)
    fig, ax = _canvas(xlim, ylim, scale=0.7)
    yx, yb, yf, yc, yy = 0.0, 1.35, 2.6, 3.75, 4.85
    for t in range(1, T + 1):
        xc = dx * (t - 1)
        _box(ax, xc, yx, f"$x_{{{t}}}$", _IO_COLOURS["x"], "input", w=0.8, h=0.5)
        _box(ax, xc - 0.15, yf, rf"$\overrightarrow{{h}}_{{{t}}}$", _CELL_COLOURS[0], "forward",
             w=0.9, h=0.55)
        _box(ax, xc + 0.15, yb, rf"$\overleftarrow{{h}}_{{{t}}}$", _CELL_COLOURS[1], "backward",
             w=0.9, h=0.55)
        _box(ax, xc, yc, "concat", "#eeeeee", "concat", w=0.9, h=0.45)
        _box(ax, xc, yy, f"$y_{{{t}}}$", _IO_COLOURS["y"], "output", w=0.8, h=0.5)
        _arrow(ax, (xc + 0.15, yx + 0.26), (xc + 0.15, yb - 0.29))
        _arrow(ax, (xc - 0.3, yx + 0.26), (xc - 0.3, yf - 0.29), colour="#555555")
        _arrow(ax, (xc - 0.15, yf + 0.29), (xc - 0.15, yc - 0.24))
        _arrow(ax, (xc + 0.35, yb + 0.29), (xc + 0.35, yc - 0.24), colour="#555555")
        _arrow(ax, (xc, yc + 0.24), (xc, yy - 0.26))
        if t > 1:
            _arrow(ax, (xc - dx + 0.3, yf), (xc - 0.6, yf))
            _arrow(ax, (xc - 0.3, yb), (xc - dx + 0.6, yb))
    _label(ax, -1.05, yf, r"$\overrightarrow{h}_0$")
    _arrow(ax, (-0.8, yf), (-0.6, yf))
    _label(ax, dx * (T - 1) + 1.1, yb, rf"$\overleftarrow{{h}}_{{{T + 1}}}$")
    _arrow(ax, (dx * (T - 1) + 0.8, yb), (dx * (T - 1) + 0.6, yb))
    return _finish(fig, ax, xlim, ylim)


def plot_encoder_decoder(S=4, T=3, decoder="init"):
    """An encoder-decoder unrolled (book chapter 10, ``seq2seq-encoder``, ``seq2seq-decoder``).

    The encoder (``gid="encoder"``) reads $x_1, \\dots, x_S$; its final state is the
    context $\\mathrm{ctx} = h_S$ (``gid="context"``). The decoder
    (``gid="decoder"``, states $s_1, \\dots, s_T$) starts from it, reads the
    previous output token ($\\langle\\text{bos}\\rangle$ at the first step) and writes
    $y_t$. ``decoder="feed"`` also draws the context entering every decoder
    step (``gid="feed"`` arrows); ``"init"`` gives it to the initial state only.
    ``S`` in [1, 6], ``T`` in [1, 6]. Returns the Figure.
    """
    S = _check_int("S", S, 1, 6)
    T = _check_int("T", T, 1, 6)
    if decoder not in ("init", "feed"):
        raise ValueError(f"decoder must be 'init' or 'feed', received {decoder!r}")
    dx = 1.45
    xc0 = dx * S + 0.4                          # context node
    xd0 = xc0 + 1.6                             # first decoder step
    xlim = (-0.9, xd0 + dx * (T - 1) + 0.8)
    ylim = (-0.8, 3.9 if decoder == "feed" else 3.4)
    fig, ax = _canvas(xlim, ylim, scale=0.7)
    yx, yh, yy = 0.0, 1.4, 2.8
    _label(ax, -0.8, yh, "$0$")
    for s in range(1, S + 1):
        xc = dx * (s - 1)
        _box(ax, xc, yx, f"$x_{{{s}}}$", _IO_COLOURS["x"], "input", w=0.75, h=0.5)
        _box(ax, xc, yh, f"$h_{{{s}}}$", _CELL_COLOURS[0], "encoder", w=0.85, h=0.6)
        _arrow(ax, (xc, yx + 0.26), (xc, yh - 0.31))
        _arrow(ax, (xc - dx + 0.43 if s > 1 else -0.66, yh), (xc - 0.43, yh))
    _box(ax, xc0, yh, r"$\mathrm{ctx}$", "#eeeeee", "context", w=0.8, h=0.6)
    _arrow(ax, (dx * (S - 1) + 0.43, yh), (xc0 - 0.41, yh))
    tokens = [r"$\langle\mathrm{bos}\rangle$"] + [f"$y_{{{t}}}$" for t in range(1, T)]
    for t in range(1, T + 1):
        xc = xd0 + dx * (t - 1)
        _box(ax, xc, yx, tokens[t - 1], _IO_COLOURS["x"], "input", w=0.9, h=0.5, fontsize=9)
        _box(ax, xc, yh, f"$s_{{{t}}}$", _CELL_COLOURS[1], "decoder", w=0.85, h=0.6)
        _box(ax, xc, yy, f"$y_{{{t}}}$", _IO_COLOURS["y"], "output", w=0.75, h=0.5)
        _arrow(ax, (xc, yx + 0.26), (xc, yh - 0.31))
        _arrow(ax, (xc, yh + 0.31), (xc, yy - 0.26))
        _arrow(ax, ((xc0 + 0.41) if t == 1 else xc - dx + 0.43, yh), (xc - 0.43, yh))
        if t < T:                               # the written token is the next input
            _arrow(ax, (xc + 0.38, yy - 0.1), (xc + dx - 0.3, yx + 0.26), colour="#999999")
        if decoder == "feed":
            _arrow(ax, (xc0 + 0.1, yh + 0.31), (xc - 0.1, yh + 0.31), rad=-0.35,
                   colour=_PATH_COLOUR).set_gid("feed")
    _label(ax, dx * (S - 1) / 2, -0.6, "encoder", fontsize=10, style="italic")
    _label(ax, xd0 + dx * (T - 1) / 2, -0.6, "decoder", fontsize=10, style="italic")
    return _finish(fig, ax, xlim, ylim)


def plot_attention_decoder(weights=(0.1, 0.2, 0.6, 0.1), t=2):
    """One decoder step with attention (book chapter 11, ``attn-weights``, ``attn-context``).

    The encoder states $h_1, \\dots, h_S$ (``gid="encoder"``, $S$ = ``len(weights)``)
    are each scored against the decoder state $s_{t-1}$; a softmax turns the scores
    into weights $\\alpha_{t,s}$ (one ``gid="attention"`` line per source step,
    its width proportional to the weight, labelled with it) and the context
    $\\mathrm{ctx}_t = \\sum_s \\alpha_{t,s} h_s$ (``gid="context"``) enters the
    decoder step $s_t$ (``gid="decoder"``). ``weights`` must be non-negative and
    sum to 1 (2 to 8 of them); ``t`` is the decoder step drawn. Returns the Figure.
    """
    w = np.asarray(to_numpy(weights), dtype=float)
    if w.ndim != 1 or not 2 <= w.size <= 8:
        raise ValueError(f"weights must be a 1-d sequence of 2 to 8 numbers, received shape {w.shape}")
    if (w < 0).any() or not np.isclose(w.sum(), 1.0, atol=1e-6):
        raise ValueError(f"weights must be non-negative and sum to 1 (a softmax), received {w}")
    t = _check_int("t", t, 1, 99)
    S = w.size
    dx = 1.3
    xlim, ylim = (-0.9, dx * (S - 1) + 5.0), (-0.8, 5.0)
    fig, ax = _canvas(xlim, ylim, scale=0.7)
    yx, yh, yctx, ys = 0.0, 1.3, 3.1, 4.3
    xctx = dx * (S - 1) / 2
    xd = dx * (S - 1) + 2.6
    for s in range(1, S + 1):
        xc = dx * (s - 1)
        _box(ax, xc, yx, f"$x_{{{s}}}$", _IO_COLOURS["x"], "input", w=0.75, h=0.5)
        _box(ax, xc, yh, f"$h_{{{s}}}$", _CELL_COLOURS[0], "encoder", w=0.8, h=0.55)
        _arrow(ax, (xc, yx + 0.26), (xc, yh - 0.29))
        if s > 1:
            _arrow(ax, (xc - dx + 0.41, yh), (xc - 0.41, yh))
        a = float(w[s - 1])
        _line(ax, [(xc, yh + 0.29), (xctx, yctx - 0.28)], _PATH_COLOUR, 0.4 + 6.0 * a,
              gid="attention")
        fx = 0.22
        _label(ax, xc + fx * (xctx - xc), yh + 0.29 + fx * (yctx - 0.28 - yh - 0.29),
               rf"$\alpha_{{{t},{s}}}$={a:.2f}", fontsize=8, colour=_PATH_COLOUR,
               bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    _op(ax, xctx, yctx, r"$\Sigma$", r=0.28)
    _label(ax, xctx - 0.95, yctx, rf"$\mathrm{{ctx}}_{{{t}}}$", fontsize=11)
    _box(ax, xd, ys, f"$s_{{{t}}}$", _CELL_COLOURS[1], "decoder", w=0.85, h=0.6)
    _box(ax, xd, yctx - 0.05, rf"$\mathrm{{ctx}}_{{{t}}}$", "#eeeeee", "context", w=0.8, h=0.5)
    _arrow(ax, (xctx + 0.29, yctx), (xd - 0.41, yctx - 0.05))
    _arrow(ax, (xd, yctx + 0.2), (xd, ys - 0.31))
    _label(ax, xd + 1.55, ys, f"$s_{{{t - 1}}}$", fontsize=11)
    _arrow(ax, (xd + 1.25, ys), (xd + 0.43, ys))
    _label(ax, xd + 0.6, yh + 0.2,
           f"scores of $s_{{{t - 1}}}$\nagainst every $h_s$,\nsoftmax over $s$", fontsize=9,
           colour="#1a4d80")
    return _finish(fig, ax, xlim, ylim)
