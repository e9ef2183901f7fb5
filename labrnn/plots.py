"""Plotting helpers: every figure of the book is one call to a function here.

Each function returns the matplotlib ``Figure`` (so tests can inspect it) and
takes host data (``labrnn.to_numpy`` is applied for you).
"""

from __future__ import annotations

import numpy as np

from .backend import to_numpy


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
    :func:`labrnn.analysis.hidden_jacobian_norms`: entry ``t`` (``t = 0..T``)
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
                hline_label=None):
    """One marked line per model of a score measured at several time lags (chapter 7).

    ``values`` maps a label (e.g. the cell's name) to one number per entry of
    ``lags``; ``hline`` draws a dashed reference level, e.g. the loss of a
    model that ignores its input. Non-finite values (a diverged run) are left
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
    ax.set_xlabel("time lag $T$ (sequence length)")
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
    ``sizes`` (e.g. from :func:`labrnn.experiments.seconds_per_step`); the
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
    with a ``loss`` list such as :class:`labrnn.experiments.History`. Each curve
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
