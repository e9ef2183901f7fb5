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
