"""The suite: check equality, then time every implementation in its own pinned process.

:func:`run_suite` does, for a preset (:data:`labrnn.bench.cases.PRESETS`):

1. **Equality.** For every case, each implementation other than labrnn that
   runs it is compared with labrnn in float64 (:func:`labrnn.bench.check.check_case`);
   any disagreement stops the suite with :class:`~labrnn.bench.check.EquivalenceError`.
2. **Timing.** For each thread count, one worker process per implementation
   (:mod:`labrnn.bench.worker`) with the thread variables pinned; for each case
   every worker builds and calibrates its workload, then ``rounds`` rounds
   alternate between the implementations (A B, then B A, ...) so that drift
   in the machine's speed falls on all of them alike.
3. **Figures** per implementation and case (:func:`labrnn.bench.timing.summarize`)
   and **ratios** ``time(labrnn) / time(reference)`` against the issue's targets.
4. **Memory**: the activations BPTT keeps, against ``T``, for each cell of the
   selection (:mod:`labrnn.bench.memory`).

The report is a JSON-ready dict (keys documented in :mod:`labrnn.bench`).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .cases import KINDS, CELLS, PRESETS, preset_cases
from .check import check_case
from .flops import case_flops
from .machine import library_versions, machine_info
from .timing import all_cores, summarize, thread_env
from .worker import implementation

__all__ = ["SCHEMA", "BenchError", "select_cases", "run_suite", "compute_ratios",
           "figures_table", "compare_table", "write_report"]

SCHEMA = "labrnn-bench/1"


class BenchError(RuntimeError):
    """A worker failed (its traceback is in the message) or the suite was misconfigured."""


class _Worker:
    """One implementation's worker process and its line protocol."""

    def __init__(self, impl, threads, dtype, peak_n, fast_paths="auto"):
        self.impl = impl
        env = thread_env(threads)
        env["LABRNN_FAST_PATHS"] = str(fast_paths)            # read by the labrnn worker
        root = str(Path(__file__).resolve().parents[2])      # the labrnn this process imports
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in
                                                       env.get("PYTHONPATH", "").split(os.pathsep) if p])
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "labrnn.bench.worker", impl, str(threads), dtype, str(peak_n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env)

    def ask(self, **msg):
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.stderr.seek(0)
            raise BenchError(f"the {self.impl} worker exited (code {self.proc.poll()}); its "
                             f"stderr:\n{self.stderr.read()[-3000:]}")
        reply = json.loads(line)
        if "error" in reply:
            raise BenchError(f"the {self.impl} worker failed on {msg}:\n{reply['error']}")
        return reply

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def _split(value):
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def select_cases(preset, cells=None, kinds=None):
    """The cases of ``preset`` whose cell is in ``cells`` and kind in ``kinds`` (None: all)."""
    cases = preset_cases(preset)
    cells, kinds = _split(cells), _split(kinds)
    for name, given, allowed in (("cells", cells, CELLS), ("kinds", kinds, KINDS)):
        bad = sorted(set(given or ()) - set(allowed))
        if bad:
            raise ValueError(f"{name} must be among {list(allowed)}, received {bad}")
    cases = [c for c in cases if (cells is None or c.cell in cells)
             and (kinds is None or c.kind in kinds)]
    if not cases:
        raise ValueError(f"no case of preset {preset!r} matches cells={cells} and kinds={kinds}")
    return cases


def _threads(threads):
    out = []
    for t in _split(threads) or ["1"]:
        if t == "all":
            out.append(all_cores())
        elif t.isdigit() and int(t) >= 1:
            out.append(int(t))
        else:
            raise ValueError(f"threads must be positive integers or 'all', received {t!r}")
    return list(dict.fromkeys(out))


def _implementations(impls, want_torch):
    names = _split(impls) or ["labrnn", "torch", "numpy"]
    bad = sorted(set(names) - {"labrnn", "torch", "numpy"})
    if bad:
        raise ValueError(f"impls must be among ['labrnn', 'torch', 'numpy'], received {bad}")
    if "labrnn" not in names:
        names = ["labrnn"] + names
    notes = {}
    if "torch" in names and not implementation("torch").available():
        names.remove("torch")
        notes["torch"] = "not installed: pip install -e '.[bench]' (or torch) to compare"
        if want_torch:
            raise BenchError("impls asks for torch, but torch is not installed")
    return names, notes


def run_suite(preset="targets", threads="1", cells=None, kinds=None, dtype="float32",
              impls=None, rounds=None, min_round_s=None, progress=None, out=None, log=None,
              fast_paths="auto"):
    """Check, time and compare; returns the report dict and writes it to ``out`` (JSON) if given.

    ``threads``: thread counts, e.g. ``"1"`` or ``"1,all"``; ``cells``, ``kinds``:
    filters (comma-separated or lists); ``impls``: implementations to run (default
    every available one; labrnn always runs); ``rounds``, ``min_round_s``: override
    the preset's timing settings; ``progress``: show a tqdm bar (``None``: only on
    a terminal); ``log``: a function for status lines (default: stderr); ``fast_paths``:
    the mode of :func:`labrnn.fast.set_fast_paths` labrnn runs in (``"off"`` times the
    generic array-API loop; the ``overhead`` cases always run it).
    """
    from ..fast import fast_paths as _fast_paths, set_fast_paths
    set_fast_paths(set_fast_paths(fast_paths))           # check the mode before any work
    log = log or (lambda s: print(s, file=sys.stderr))
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', received {dtype!r}")
    settings = dict(PRESETS[preset][2]) if preset in PRESETS else None
    cases = select_cases(preset, cells, kinds)
    thread_counts = _threads(threads)
    if rounds is not None:
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"rounds must be a positive int, received {rounds!r}")
        settings["rounds"] = rounds
    if min_round_s is not None:
        if not min_round_s > 0:
            raise ValueError(f"min_round_s must be positive, received {min_round_s!r}")
        settings["min_round_s"] = float(min_round_s)
    names, notes = _implementations(impls, want_torch="torch" in (_split(impls) or []))
    mods = {n: implementation(n) for n in names}
    # no worker for an implementation that runs none of the selected cases
    names = [n for n in names if n == "labrnn" or any(mods[n].supports(c) for c in cases)]
    report = {"schema": SCHEMA,
              "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "command": sys.argv, "preset": preset, "dtype": dtype, "threads": thread_counts,
              "settings": settings, "machine": machine_info(), "libraries": library_versions(),
              "fast_paths": fast_paths,
              "implementations": names, "notes": notes, "checks": [], "workers": [],
              "results": [], "ratios": [], "memory": []}

    # 1. equality, float64, before anything is timed
    seen = set()
    for case in cases:
        full = case.replace(mode="fwdbwd")      # a forward-only case is checked as fwd + bwd
        for n in names:
            if n != "labrnn" and mods[n].supports(case) and (full.id, n) not in seen:
                seen.add((full.id, n))
                with _fast_paths("off" if case.kind == "overhead" else fast_paths):
                    report["checks"].append(check_case(full, mods[n]))
    log(f"equality: {len(report['checks'])} checks passed (float64, relative error <= 1e-8)")

    # 2. timing
    from tqdm.auto import tqdm
    units = sum(settings["rounds"] * sum(mods[n].supports(c) for n in names) for c in cases)
    bar = tqdm(total=units * len(thread_counts), desc="bench", unit="round", file=sys.stderr,
               disable=(None if progress is None else not progress), dynamic_ncols=True)
    try:
        for threads_n in thread_counts:
            workers = {n: _Worker(n, threads_n, dtype, settings["peak_n"], fast_paths)
                       for n in names}
            timed = []
            try:
                infos = {n: w.ask(op="info") for n, w in workers.items()}
                report["workers"] += list(infos.values())
                for case in cases:
                    here = [n for n in names if mods[n].supports(case)]
                    bar.set_postfix_str(f"{threads_n}t {case.id}")
                    calls = {n: workers[n].ask(op="setup", case=case.to_dict(),
                                               min_round_s=settings["min_round_s"])["n"]
                             for n in here}
                    times = {n: [] for n in here}
                    for r in range(settings["rounds"]):
                        for n in (here if r % 2 == 0 else here[::-1]):
                            times[n] += workers[n].ask(op="time", n=calls[n])["times"]
                            bar.update(1)
                    timed += [(case, n, times[n]) for n in here]
                # the peak again at the end: the larger of the two is the machine's
                for n, w in workers.items():
                    end = w.ask(op="peak")["gemm_peak_gflops"]
                    infos[n]["gemm_peak_gflops_start"] = infos[n]["gemm_peak_gflops"]
                    infos[n]["gemm_peak_gflops_end"] = end
                    infos[n]["gemm_peak_gflops"] = max(end, infos[n]["gemm_peak_gflops"])
                for case, n, t in timed:
                    flops = case_flops(case)
                    report["results"].append({
                        "case": case.to_dict(), "impl": n, "threads": threads_n,
                        "dtype": dtype, "flops": flops,
                        **summarize(t, flops, case.T, infos[n]["gemm_peak_gflops"])})
            finally:
                for w in workers.values():
                    w.close()
    finally:
        bar.close()
    report["ratios"] = compute_ratios(report["results"])

    # 3. activation memory of BPTT against T, for every cell of the selection
    from .cases import TORCH_CELLS
    from .memory import activation_memory
    mem = settings["memory"]
    for cell in dict.fromkeys(c.cell for c in cases):
        mem_impls = ["labrnn"] + (["torch"] if "torch" in names and cell in TORCH_CELLS else [])
        report["memory"] += activation_memory(cell, mem["Ts"], mem["B"], mem["D"], mem["H"],
                                              dtype, mem_impls)
    if out:
        write_report(report, out)
    return report


def compute_ratios(results):
    """``time(labrnn) / time(reference)`` for every case and thread count that has both.

    The reference is the case's (``"torch"``; ``"numpy"`` for the overhead case).
    Each entry: ``case`` (its id), ``threads``, ``reference``, ``ratio`` (of the
    medians), ``ratio_min`` (of the minima), ``target`` (None where the issue
    sets none) and ``met`` (``ratio <= target``; None without a target).
    """
    index = {(r["case"]["id"], r["threads"], r["impl"]): r for r in results}
    out = []
    for (cid, threads, impl), r in index.items():
        if impl != "labrnn":
            continue
        ref_name = r["case"].get("reference", "torch")
        ref = index.get((cid, threads, ref_name))
        if ref is None:
            continue
        ratio = r["median_s"] / ref["median_s"]
        target = r["case"].get("target")
        out.append({"case": cid, "threads": threads, "reference": ref_name,
                    "labrnn_us_per_step": r["us_per_step"],
                    "reference_us_per_step": ref["us_per_step"],
                    "ratio": ratio, "ratio_min": r["min_s"] / ref["min_s"],
                    "target": target, "met": None if target is None else bool(ratio <= target)})
    return out


def figures_table(report):
    """Every result of a report as a text table: us/step (median, min), GFLOP/s, % of the GEMM peak."""
    head = (f"{'case':<44} {'impl':>6} {'thr':>3} {'us/step':>10} {'(min)':>10} "
            f"{'GFLOP/s':>8} {'% peak':>7}")
    lines = [head, "-" * len(head)]
    for r in report["results"]:
        frac = "-" if r["peak_fraction"] is None else f"{100 * r['peak_fraction']:.1f}"
        lines.append(f"{r['case']['id']:<44} {r['impl']:>6} {r['threads']:>3} "
                     f"{r['us_per_step']:>10.1f} {r['us_per_step_min']:>10.1f} "
                     f"{r['gflops']:>8.2f} {frac:>7}")
    peaks = ", ".join(f"{w['impl']} {w['threads']}t {w['gemm_peak_gflops']:.1f}"
                      for w in report["workers"])
    lines.append(f"GEMM peak (numpy.matmul {report['dtype']}, GFLOP/s): {peaks}")
    return "\n".join(lines)


def compare_table(report):
    """The figures and the ratios of a report as text: one block per thread count, with met/missed."""
    lines = [figures_table(report)]
    for note, text in report.get("notes", {}).items():
        lines.append(f"{note}: {text}")
    by_threads = {}
    for r in report["ratios"]:
        by_threads.setdefault(r["threads"], []).append(r)
    head = (f"{'case':<44} {'labrnn us/step':>14} {'ref us/step':>12} {'ref':>6} "
            f"{'ratio':>7} {'(min)':>7} {'target':>7}  verdict")
    for threads, rows in sorted(by_threads.items()):
        lines += ["", f"threads = {threads}, dtype = {report['dtype']} "
                      f"(ratio = median time of labrnn / median time of the reference)", head,
                  "-" * len(head)]
        for r in rows:
            target = "-" if r["target"] is None else f"{r['target']:.2f}"
            verdict = "" if r["met"] is None else ("met" if r["met"] else
                                                   f"MISSED by {r['ratio'] / r['target']:.2f}x")
            lines.append(f"{r['case']:<44} {r['labrnn_us_per_step']:>14.1f} "
                         f"{r['reference_us_per_step']:>12.1f} {r['reference']:>6} "
                         f"{r['ratio']:>7.2f} {r['ratio_min']:>7.2f} {target:>7}  {verdict}")
    if not by_threads:
        lines.append("no ratios: no case ran with both labrnn and its reference")
    if report.get("memory"):
        lines += ["", "BPTT activation memory (forward's cache, parameters and x excluded)"]
        for m in report["memory"]:
            lines.append(f"  {m['impl']:<7} {m['cell']:<7} B={m['B']} D={m['D']} H={m['H']}: "
                         f"{m['bytes_per_step'] / 1024:.1f} KiB per step = "
                         f"{m['bytes_per_step'] / m['state_bytes']:.2f} x one (B, H) state; "
                         f"{m['bytes'][-1] / 2**20:.1f} MiB at T={m['T'][-1]}")
    return "\n".join(lines)


def write_report(report, path):
    """Write ``report`` as indented JSON to ``path`` (folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return path
