"""Figures of the benchmark results (book chapter 21): each is one call on a saved JSON report.

The functions read the dicts that :func:`labrnn.bench.run_suite` writes (schema
``"labrnn-bench/1"``, documented in :mod:`labrnn.bench`) and the activation-memory
entries of :func:`labrnn.bench.memory.activation_memory`; they never time anything,
so a figure drawn from a committed file is the same on every machine. Each returns
the matplotlib ``Figure``.

* :func:`speed_ratios` (a table, no figure): the targeted cases' labrnn / reference ratios;
* :func:`plot_speed_ratios`: those ratios per case against the targets, one report or
  two side by side (before / after an optimisation);
* :func:`plot_us_per_step`: microseconds per time step of each implementation per case;
* :func:`plot_activation_memory`: BPTT activation memory against ``T`` per cell and
  implementation;
* :func:`plot_checkpoint_tradeoff`: memory and time of gradient checkpointing against the
  segment length ``k``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["speed_ratios", "plot_speed_ratios", "plot_us_per_step", "plot_activation_memory",
           "plot_checkpoint_tradeoff"]


def _plt():
    import matplotlib.pyplot as plt
    return plt


def _case_id(entry):
    c = entry["case"]
    return c["id"] if isinstance(c, dict) else str(c)


def _check_report(report, name="report"):
    if not isinstance(report, dict) or "ratios" not in report or "results" not in report:
        got = sorted(report) if isinstance(report, dict) else type(report).__name__
        raise ValueError(f"{name} must be a labrnn-bench report (a dict with 'results' and "
                         f"'ratios'), received {got}")


def speed_ratios(report, threads=1, targeted_only=True):
    """Rows ``{"case", "reference", "ratio", "target", "met"}`` of ``report``'s ratios.

    ``ratio`` is labrnn's median time over the reference's (PyTorch, or NumPy for the
    overhead cases); ``targeted_only`` keeps the cases the issue sets a target for. The
    order is the report's.
    """
    _check_report(report)
    rows = []
    for r in report["ratios"]:
        if r.get("threads", 1) != threads:
            continue
        if targeted_only and r.get("target") is None:
            continue
        rows.append({"case": _case_id(r), "reference": r["reference"], "ratio": r["ratio"],
                     "target": r.get("target"), "met": r.get("met")})
    return rows


def _short(case_id):
    """``cell/lstm/T100-B32-D128-H256/fwdbwd`` -> ``lstm T100-B32-D128-H256`` (kind kept if not cell)."""
    kind, cell, size, _mode = case_id.split("/")
    return f"{cell} {size}" if kind == "cell" else f"{kind} {cell} {size}"


def plot_speed_ratios(report, before=None, threads=1, labels=("before", "after"), title=None):
    """Horizontal bars of labrnn / reference time per targeted case, with each case's target.

    With ``before`` (an earlier report of the same cases), two bars per case: ``before``
    then ``report`` (``labels`` names them). A bar left of its target's mark (a black tick)
    meets the target; the dotted line marks 1 (as fast as the reference).
    """
    plt = _plt()
    rows = speed_ratios(report, threads)
    if not rows:
        raise ValueError(f"report has no targeted ratios at threads={threads}")
    old = None
    if before is not None:
        _check_report(before, "before")
        old = {r["case"]: r["ratio"] for r in speed_ratios(before, threads)}
    ids = [r["case"] for r in rows]
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(rows) + 1.2))
    h = 0.38 if old is not None else 0.7
    if old is not None:
        ax.barh(y + h / 2, [old.get(i, np.nan) for i in ids], height=h, color="0.7",
                label=labels[0])
        ax.barh(y - h / 2, [r["ratio"] for r in rows], height=h, color="C0", label=labels[1])
    else:
        ax.barh(y, [r["ratio"] for r in rows], height=h, color="C0", label="labrnn / reference")
    for yi, r in zip(y, rows):
        if r["target"] is not None:
            ax.plot([r["target"]] * 2, [yi - 0.45, yi + 0.45], color="k", linewidth=2)
    ax.plot([], [], color="k", linewidth=2, label="target")
    ax.axvline(1.0, color="gray", linestyle=":", linewidth=1)
    ax.set_yticks(y, [_short(i) + ("" if r["reference"] == "torch" else f" vs {r['reference']}")
                      for i, r in zip(ids, rows)])
    ax.set_xlabel("time labrnn / time reference (lower is faster)")
    ax.set_title(title or "forward + backward, one thread")
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_us_per_step(report, kind="cell", mode="fwdbwd", threads=1, title=None):
    """Grouped bars: microseconds per time step (median) of every implementation, per case.

    Only the cases of ``kind`` and ``mode`` at ``threads``; logarithmic axis (the sizes
    span two orders of magnitude).
    """
    plt = _plt()
    _check_report(report)
    cases, impls, val, names = [], [], {}, {}
    for r in report["results"]:
        c = r["case"]
        if c["kind"] != kind or c["mode"] != mode or r.get("threads", 1) != threads:
            continue
        if c["id"] not in cases:
            cases.append(c["id"])
            names[c["id"]] = f"{c['cell']}\nT{c['T']} B{c['B']}\nD{c['D']} H{c['H']}"
        if r["impl"] not in impls:
            impls.append(r["impl"])
        val[(c["id"], r["impl"])] = r["us_per_step"]
    if not cases:
        raise ValueError(f"report has no results of kind={kind!r}, mode={mode!r}, "
                         f"threads={threads}")
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(cases) + 1.5), 4))
    x = np.arange(len(cases))
    w = 0.8 / len(impls)
    for j, impl in enumerate(impls):
        ax.bar(x + (j - (len(impls) - 1) / 2) * w, [val.get((c, impl), np.nan) for c in cases],
               width=w, label=impl, color=f"C{j}")
    ax.set_xticks(x, [names[c] for c in cases], fontsize="small")
    ax.set_yscale("log")
    ax.set_ylabel("µs per time step (median)")
    ax.set_title(title or f"{kind}, {'forward + backward' if mode == 'fwdbwd' else 'forward'}, "
                          f"{threads} thread{'s' if threads != 1 else ''}")
    ax.legend(frameon=False, fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _memory_entries(memory):
    entries = memory.get("memory") if isinstance(memory, dict) else memory
    if not isinstance(entries, (list, tuple)) or not entries or not all(
            isinstance(e, dict) and {"impl", "cell", "T", "bytes"} <= set(e) for e in entries):
        raise ValueError("memory must be a non-empty list of activation_memory entries (dicts "
                         "with 'impl', 'cell', 'T', 'bytes') or a report holding one under "
                         f"'memory', received {type(memory).__name__}")
    return entries


def plot_activation_memory(memory, per_state=False, title=None):
    """Activation memory against ``T``: one line per (cell, implementation).

    ``memory``: a report (its ``"memory"`` list) or the list itself, entries of
    :func:`labrnn.bench.memory.activation_memory`. In MiB, or with ``per_state`` in
    units of one ``(B, H)`` state (``state_bytes``), which makes the slope the number
    of states kept per step.
    """
    plt = _plt()
    entries = _memory_entries(memory)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    cells = list(dict.fromkeys(e["cell"] for e in entries))
    styles = {"labrnn": "-", "torch": "--"}
    for e in entries:
        scale = e["state_bytes"] if per_state else 2.0 ** 20
        ax.plot(e["T"], np.asarray(e["bytes"], dtype=float) / scale, marker="o", markersize=3,
                linestyle=styles.get(e["impl"], ":"), color=f"C{cells.index(e['cell'])}",
                label=f"{e['cell']}, {e['impl']}")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("(B, H) states kept" if per_state else "activation memory (MiB)")
    e0 = entries[0]
    ax.set_title(title or f"memory BPTT keeps (B={e0.get('B')}, D={e0.get('D')}, "
                          f"H={e0.get('H')}, {e0.get('dtype')})")
    ax.legend(frameon=False, fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_checkpoint_tradeoff(entries, T=None, k_key="k", bytes_key="bytes",
                             time_key="time_ratio", title=None):
    """Gradient checkpointing: memory (left) and time (right) against the segment length ``k``.

    ``entries``: one dict per ``k`` with ``k_key`` (an int, or None for the plain pass),
    ``bytes_key`` (activation bytes) and ``time_key`` (forward + backward time relative to
    the plain pass). The plain pass is drawn as a dashed horizontal line in both panels;
    with ``T`` a dotted line marks ``k = sqrt(T)``, the memory optimum of ``T/k + k``.
    """
    plt = _plt()
    if not isinstance(entries, (list, tuple)) or not all(
            isinstance(e, dict) and {k_key, bytes_key, time_key} <= set(e) for e in entries):
        raise ValueError(f"entries must be a list of dicts with {k_key!r}, {bytes_key!r} and "
                         f"{time_key!r}, received {type(entries).__name__}")
    ck = sorted((e for e in entries if e[k_key] is not None), key=lambda e: e[k_key])
    plain = [e for e in entries if e[k_key] is None]
    if not ck:
        raise ValueError(f"entries hold no checkpointed run (every {k_key!r} is None)")
    ks = [e[k_key] for e in ck]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.4))
    a1.plot(ks, [e[bytes_key] / 2.0 ** 20 for e in ck], marker="o", label="checkpointed")
    a2.plot(ks, [e[time_key] for e in ck], marker="o", label="checkpointed")
    if plain:
        a1.axhline(plain[0][bytes_key] / 2.0 ** 20, color="gray", linestyle="--",
                   label="plain BPTT")
        a2.axhline(plain[0][time_key], color="gray", linestyle="--", label="plain BPTT")
    if T is not None:
        for a in (a1, a2):
            a.axvline(float(np.sqrt(T)), color="k", linestyle=":", linewidth=1,
                      label=r"$k=\sqrt{T}$")
    for a, yl in ((a1, "activation memory (MiB)"), (a2, "time / plain BPTT")):
        a.set_xscale("log")
        a.set_xticks(ks, [str(k) for k in ks])
        a.minorticks_off()
        a.set_ylim(bottom=0)
        a.set_xlabel("checkpoint every k steps")
        a.set_ylabel(yl)
        a.grid(alpha=0.3)
        a.legend(frameon=False, fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
