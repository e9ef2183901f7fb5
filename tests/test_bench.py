"""The benchmark suite (labrnn.bench): its JSON, its equality check, its FLOP count, its errors.

Timings themselves are not asserted (they depend on the machine); what is
asserted is that the suite runs, pins threads, reports self-consistent figures
with the documented keys, and refuses to time implementations that disagree.
PyTorch is optional: its tests skip, saying so, where it is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labrnn.bench import cases, check, flops, impl_numpy, runner, timing
from labrnn.bench.cases import Case
from labrnn.bench.check import EquivalenceError

ROOT = Path(__file__).resolve().parents[1]

HAVE_TORCH = importlib.util.find_spec("torch") is not None    # without importing it (seconds)
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed (optional "
                                                        "'bench' extra): its side is not tested")

TOP_KEYS = {"schema", "created", "command", "preset", "dtype", "threads", "settings", "machine",
            "libraries", "implementations", "notes", "checks", "workers", "results", "ratios",
            "memory", "fast_paths"}
RESULT_KEYS = {"case", "impl", "threads", "dtype", "flops", "calls", "median_s", "min_s",
               "us_per_step", "us_per_step_min", "gflops", "gflops_best", "peak_fraction"}
RATIO_KEYS = {"case", "threads", "reference", "labrnn_us_per_step", "reference_us_per_step",
              "ratio", "ratio_min", "target", "met"}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "")
                                                       .split(os.pathsep) if p])
    return env


# ---------------------------------------------------------------- the quick preset, end to end
@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """``python -m labrnn.bench --preset quick`` without PyTorch (labrnn and the NumPy reference)."""
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    proc = subprocess.run([sys.executable, "-m", "labrnn.bench", "--preset", "quick",
                           "--impls", "labrnn,numpy", "--out", str(out), "--no-progress",
                           "--compare"], capture_output=True, text=True, env=_env(),
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stdout


def test_quick_preset_writes_the_documented_json(quick_report):
    report, _ = quick_report
    assert set(report) == TOP_KEYS
    assert report["schema"] == runner.SCHEMA and report["preset"] == "quick"
    assert report["threads"] == [1] and report["dtype"] == "float32"
    assert report["implementations"] == ["labrnn", "numpy"]
    ids = {c.id for c in cases.preset_cases("quick")}
    timed = {(r["case"]["id"], r["impl"]) for r in report["results"]}
    # every case timed with labrnn, the overhead case with the NumPy reference too
    assert {cid for cid, impl in timed if impl == "labrnn"} == ids
    assert {cid for cid, impl in timed if impl == "numpy"} == {i for i in ids
                                                                if i.startswith("overhead/")}
    for r in report["results"]:
        assert set(r) == RESULT_KEYS
        case = Case.from_dict(r["case"])
        assert r["flops"] == flops.case_flops(case)
        assert r["calls"] >= report["settings"]["rounds"]
        assert 0 < r["min_s"] <= r["median_s"]
        assert r["us_per_step"] == pytest.approx(r["median_s"] / case.T * 1e6)
        assert r["gflops"] == pytest.approx(r["flops"] / r["median_s"] / 1e9)
        peak = next(w["gemm_peak_gflops"] for w in report["workers"] if w["impl"] == r["impl"])
        assert r["peak_fraction"] == pytest.approx(r["gflops"] / peak)


def test_quick_preset_checks_equality_before_timing(quick_report):
    report, _ = quick_report
    assert [(c["case"], c["impl"]) for c in report["checks"]] == [
        (c.id, "numpy") for c in cases.preset_cases("quick") if c.kind == "overhead"]
    for c in report["checks"]:
        assert c["passed"] and c["max_rel_error"] <= check.RTOL


def test_workers_run_with_pinned_threads(quick_report):
    report, _ = quick_report
    assert {w["impl"] for w in report["workers"]} == {"labrnn", "numpy"}
    for w in report["workers"]:
        assert w["threads"] == 1
        assert all(w["env"][k] == "1" for k in timing.THREAD_VARS)
        assert w["gemm_peak_gflops"] == max(w["gemm_peak_gflops_start"],
                                            w["gemm_peak_gflops_end"]) > 0
        pools = w["blas"]["threadpools"]
        if pools is None:
            print("threadpoolctl is not installed: the BLAS thread count is not read back")
            continue
        blas = [p for p in pools if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas), pools


def test_quick_preset_ratios_and_compare_table(quick_report):
    report, table = quick_report
    assert report["notes"] == {}        # torch was not asked for
    (ratio,) = report["ratios"]         # only the overhead case has its reference (numpy) here
    assert set(ratio) == RATIO_KEYS
    assert ratio["case"].startswith("overhead/") and ratio["reference"] == "numpy"
    lab, ref = (next(r for r in report["results"] if r["case"]["id"] == ratio["case"]
                     and r["impl"] == impl) for impl in ("labrnn", "numpy"))
    assert ratio["ratio"] == pytest.approx(lab["median_s"] / ref["median_s"])
    assert ratio["target"] == 1.05 and ratio["met"] == (ratio["ratio"] <= 1.05)
    assert ratio["case"] in table and ("met" in table or "MISSED" in table)


def test_from_json_reprints_the_table(quick_report, tmp_path):
    report, table = quick_report
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    proc = subprocess.run([sys.executable, "-m", "labrnn.bench", "--from", str(path)],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == table.strip()


def test_quick_preset_measures_activation_memory_against_T(quick_report):
    report, _ = quick_report
    assert [(m["impl"], m["cell"]) for m in report["memory"]] == [
        ("labrnn", cell) for cell in cases.CELLS]
    for m in report["memory"]:
        b, Ts = m["bytes"], m["T"]
        assert Ts == [2, 4, 8] and m["state_bytes"] == 2 * 4 * 4       # B=2, H=4, float32
        # linear in T: T=2 -> 4 adds as much per step as 4 -> 8, the slope is that
        assert (b[1] - b[0]) / 2 == (b[2] - b[1]) / 4 == pytest.approx(m["bytes_per_step"])
        # backward needs at least every hidden state h_t
        assert m["bytes_per_step"] >= m["state_bytes"]


@needs_torch
def test_torch_activation_memory_is_measured():
    from labrnn.bench.memory import activation_memory
    lab, tor = activation_memory("elman", (3, 6), B=2, D=3, H=4, impls=("labrnn", "torch"))
    # an Elman layer must keep h_t (the tanh output) of every step; labrnn keeps only that
    assert lab["bytes_per_step"] == pytest.approx(2 * 4 * 4)
    assert tor["bytes_per_step"] >= 2 * 4 * 4 and tor["bytes"][1] > tor["bytes"][0]


@needs_torch
def test_torch_side_runs_checked_and_pinned(tmp_path):
    report = runner.run_suite("quick", kinds="cell", cells="lstm,gru", progress=False,
                              out=tmp_path / "t.json", log=lambda s: None)
    assert report["implementations"] == ["labrnn", "torch"]   # no NumPy worker without its case
    assert json.loads((tmp_path / "t.json").read_text())["ratios"] == report["ratios"]
    assert {(c["case"], c["impl"]) for c in report["checks"]} == {
        (c.id, "torch") for c in cases.preset_cases("quick")
        if c.kind == "cell" and c.cell in ("lstm", "gru") and c.mode == "fwdbwd"}
    assert len(report["ratios"]) == 4 and {r["reference"] for r in report["ratios"]} == {"torch"}
    (tw,) = [w for w in report["workers"] if w["impl"] == "torch"]
    assert tw["torch"]["num_threads"] == 1 and tw["torch_mm_peak_gflops"] > 0


# ---------------------------------------------------------------- the equality check
def test_equality_check_passes_for_the_numpy_reference():
    case = Case("overhead", "lstm", 5, 3, 4, 6, reference="numpy")
    res = check.check_case(case, impl_numpy)
    assert res["passed"] and res["max_rel_error"] < 1e-12


def test_equality_check_fails_loudly_on_a_wrong_implementation(monkeypatch):
    right = impl_numpy.lstm_backward

    def wrong(dh, cache):           # dx off by one part in a million: far above 1e-8
        dx, grads = right(dh, cache)
        return dx * (1 + 1e-6), grads

    monkeypatch.setattr(impl_numpy, "lstm_backward", wrong)
    case = Case("overhead", "lstm", 5, 3, 4, 6, reference="numpy")
    with pytest.raises(EquivalenceError, match=r"numpy and labrnn disagree on "
                                               r"overhead/lstm/T5-B3-D4-H6/fwdbwd: .*dx"):
        check.check_case(case, impl_numpy)
    # and the suite stops before timing anything
    with pytest.raises(EquivalenceError, match="dx"):
        runner.run_suite("quick", kinds="overhead", impls="labrnn,numpy", progress=False,
                         log=lambda s: None)


def test_cli_reports_a_failed_equality_check(monkeypatch, capsys):
    from labrnn.bench.__main__ import main
    monkeypatch.setattr(impl_numpy, "_sigmoid", lambda a: 1.0 / (1.0 + np.exp(-a)) + 1e-7)
    assert main(["--preset", "quick", "--kinds", "overhead", "--impls", "labrnn,numpy",
                 "--no-progress", "--out", os.devnull]) == 1
    err = capsys.readouterr().err
    assert "EQUALITY CHECK FAILED, nothing was timed" in err and "out (relative error" in err


@needs_torch
def test_equality_check_catches_a_dropped_torch_bias(monkeypatch):
    from labrnn.bench import impl_torch
    right = impl_torch.to_torch_state

    def no_bias(cell, params, suffix="_l0"):
        state = right(cell, params, suffix)
        return {k: (v * 0 if k.startswith("bias_ih") else v) for k, v in state.items()}

    monkeypatch.setattr(impl_torch, "to_torch_state", no_bias)
    with pytest.raises(EquivalenceError, match="torch and labrnn disagree on cell/gru"):
        check.check_case(Case("cell", "gru", 4, 2, 3, 5), impl_torch)


def test_compare_outputs_names_what_differs():
    a = {"out": np.ones(3), "grad.W": np.zeros((2, 2))}
    assert check.compare_outputs(a, {k: v.copy() for k, v in a.items()}) == {"grad.W": 0.0,
                                                                             "out": 0.0}
    with pytest.raises(EquivalenceError, match=r"different arrays: \['grad.W'\] present on one side only"):
        check.compare_outputs(a, {"out": np.ones(3)})
    with pytest.raises(EquivalenceError, match=r"out: shape \(4,\) differs .* \(3,\)"):
        check.compare_outputs(a, {"out": np.ones(4), "grad.W": np.zeros((2, 2))})
    with pytest.raises(EquivalenceError, match=r"out \(relative error inf\)"):
        check.compare_outputs(a, {"out": np.array([1.0, np.nan, 1.0]), "grad.W": np.zeros((2, 2))})
    with pytest.raises(EquivalenceError, match=r"grad.W \(relative error 1e-07\)"):
        check.compare_outputs(a, {"out": np.ones(3), "grad.W": np.full((2, 2), 1e-7)})


# ---------------------------------------------------------------- FLOPs and figures
def test_flop_formula_by_hand():
    # LSTM, T=2, B=3, D=4, H=5: per step x_t W_x^T is (3x4)(4x20): 2*3*4*20 = 480 FLOPs,
    # h W_h^T is (3x5)(5x20): 2*3*5*20 = 600; 1080 a step, 2160 for two steps.
    assert flops.cell_flops("lstm", 2, 3, 4, 5, "fwd") == 2160
    # backward: dx = da W_x (480), dW_x += da^T x (480), dh = da W_h (600), dW_h += da^T h (600)
    assert flops.cell_flops("lstm", 2, 3, 4, 5, "fwdbwd") == 2160 + 2 * 2160
    # Elman, T=1, B=1, D=2, H=3: (1x2)(2x3) = 12, (1x3)(3x3) = 18
    assert flops.cell_flops("elman", 1, 1, 2, 3, "fwd") == 30
    # a two-layer stack: layer 0 reads D=4, layer 1 reads H=5 (5+5 instead of 4+5)
    st = Case("stacked", "lstm", 2, 3, 4, 5, "fwd", layers=2)
    assert flops.case_flops(st) == 2160 + 2 * 2 * 3 * 20 * 10
    # the language model adds its output layer: (3x5)(5x7) per step, 210, two steps
    lm = Case("charlm", "lstm", 2, 3, 4, 5, "fwd", V=7)
    assert flops.case_flops(lm) == 2160 + 2 * 210


def test_summarize_by_hand():
    s = timing.summarize([0.3, 0.1, 0.2], flops=4e8, T=100, peak_gflops=8.0)
    assert s["calls"] == 3 and s["median_s"] == 0.2 and s["min_s"] == 0.1
    assert s["us_per_step"] == pytest.approx(2000.0) and s["us_per_step_min"] == pytest.approx(1000.0)
    assert s["gflops"] == pytest.approx(2.0) and s["gflops_best"] == pytest.approx(4.0)
    assert s["peak_fraction"] == pytest.approx(0.25)


def test_targets_preset_holds_the_issue_targets():
    targets = {c.id: c.target for c in cases.preset_cases("targets") if c.target is not None}
    assert targets["cell/lstm/T100-B32-D128-H256/fwdbwd"] == 1.0
    assert targets["cell/lstm/T50-B1-D128-H64/fwdbwd"] == 1.0
    assert targets["cell/gru/T50-B1-D128-H64/fwdbwd"] == 0.5
    assert targets["cell/elman/T100-B64-D256-H512/fwdbwd"] == 0.9
    assert targets["charlm/lstm/T100-B32-D32-H256-V65/fwdbwd"] == 1.0
    assert targets["overhead/lstm/T100-B32-D128-H256/fwdbwd"] == 1.05
    assert not any(cid.endswith("/fwd") for cid in targets)   # targets are forward + backward


# ---------------------------------------------------------------- errors name the argument
def test_bad_arguments_have_clear_errors():
    with pytest.raises(ValueError, match=r"case kind must be one of .* received 'rnn'"):
        Case("rnn", "lstm", 1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"case H must be a positive int, received 0"):
        Case("cell", "lstm", 1, 1, 1, 0)
    with pytest.raises(ValueError, match=r"charlm case needs a vocabulary V >= 2, received V=0"):
        Case("charlm", "lstm", 1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"preset must be one of .* received 'fast'"):
        cases.preset_cases("fast")
    with pytest.raises(ValueError, match=r"cells must be among .* received \['lsmt'\]"):
        runner.select_cases("quick", cells="lsmt")
    with pytest.raises(ValueError, match=r"threads must be positive integers or 'all', received '0'"):
        runner.run_suite("quick", threads="0")
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64', received 'int8'"):
        runner.run_suite("quick", dtype="int8")
    with pytest.raises(ValueError, match=r"threads must be a positive int, received -1"):
        timing.thread_env(-1)
    from labrnn.bench.memory import activation_memory
    with pytest.raises(ValueError, match=r"Ts must hold at least two increasing sequence lengths, "
                                         r"received \[50\]"):
        activation_memory("lstm", Ts=(50,))
    with pytest.raises(ValueError, match=r"impls must be among .* received \['jax'\]"):
        runner.run_suite("quick", impls="labrnn,jax")


def test_cli_bad_option_exits_with_a_message(capsys):
    from labrnn.bench.__main__ import main
    assert main(["--preset", "quick", "--cells", "lsmt", "--no-progress"]) == 2
    assert "error: cells must be among" in capsys.readouterr().err


def test_a_failing_worker_reports_its_traceback():
    w = runner._Worker("labrnn", 1, "float32", 64)
    try:
        with pytest.raises(runner.BenchError, match=r"(?s)labrnn worker failed .*unknown op 'dance'"):
            w.ask(op="dance")
    finally:
        w.close()


def test_without_torch_the_suite_times_labrnn_and_says_why(monkeypatch):
    from labrnn.bench import impl_torch
    monkeypatch.setattr(impl_torch, "available", lambda: False)
    names, notes = runner._implementations(None, want_torch=False)
    assert names == ["labrnn", "numpy"] and "not installed" in notes["torch"]
    with pytest.raises(runner.BenchError, match="impls asks for torch, but torch is not installed"):
        runner._implementations("labrnn,torch", want_torch=True)
    table = runner.compare_table({"notes": notes, "ratios": [], "results": [], "workers": [],
                                  "dtype": "float32"})
    assert "torch: not installed" in table and "no ratios" in table


def test_masking_benchmark_times_every_layout_and_reports_ratios(tmp_path):
    from labrnn.bench import masking
    assert masking.lengths_for("full", 10, 4) is None
    np.testing.assert_array_equal(masking.lengths_for("worst", 10, 4), [1, 4, 7, 10])
    assert masking.lengths_for("padded", 10, 3).min() == 5
    r = masking.measure("gru", T=6, B=3, D=2, H=2, rounds=2, min_round_s=0.001)
    assert set(r["median_s"]) == set(masking.LAYOUTS)
    assert r["ratio_worst"] == r["median_s"]["worst"] / r["median_s"]["full"] > 0
    out = tmp_path / "m.json"
    assert masking.main(["--cells", "elman", "--T", "5", "--B", "2", "--D", "2", "--H", "2",
                         "--rounds", "1", "--min-round-s", "0.001", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["benchmark"] == "masking" and record["results"][0]["cell"] == "elman"
    assert "machine" in record and "versions" in record


def test_memory_command_writes_activation_and_checkpointing_json(tmp_path):
    """``python -m labrnn.bench.memory`` on a tiny size: the T sweep and the k trade-off."""
    out = tmp_path / "memory.json"
    proc = subprocess.run([sys.executable, "-m", "labrnn.bench.memory", "--cells", "elman,lstm",
                           "--Ts", "3,6", "--B", "2", "--D", "3", "--H", "4", "--ckpt-T", "12",
                           "--ks", "3,6", "--rounds", "1", "--min-round-s", "0.001",
                           "--no-torch", "--out", str(out)],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(out.read_text())
    assert record["benchmark"] == "memory" and "--no-torch" in record["notes"]["torch"]
    assert {"cpu", "logical_cores"} <= set(record["machine"])
    assert "numpy" in record["versions"]
    assert [(m["impl"], m["cell"], m["T"]) for m in record["activation"]] == [
        ("labrnn", "elman", [3, 6]), ("labrnn", "lstm", [3, 6])]
    # the Elman cell keeps h_t of every step: 2 * 4 float32 per step
    assert record["activation"][0]["bytes_per_step"] == 2 * 4 * 4
    trade = record["checkpointing"]
    assert (trade["cell"], trade["T"], trade["dtype"]) == ("lstm", 12, "float32")
    rows = trade["results"]
    assert [r["k"] for r in rows] == [None, 3, 6] and [r["segments"] for r in rows] == [1, 4, 2]
    assert rows[0]["memory_ratio"] == rows[0]["time_ratio"] == 1.0
    assert rows[1]["activation_bytes"] < rows[0]["activation_bytes"]
    assert "Gradient checkpointing, lstm T=12" in proc.stdout


def test_labrnn_worker_runs_the_requested_fast_path_mode(tmp_path):
    """--fast-paths reaches the labrnn worker (recorded in its info) and is checked first."""
    from labrnn.bench.runner import run_suite
    report = run_suite("quick", cells="lstm", kinds="cell", impls="labrnn", rounds=1,
                       min_round_s=0.001, progress=False, fast_paths="off",
                       out=str(tmp_path / "b.json"), log=lambda s: None)
    assert report["fast_paths"] == "off"
    assert [w["fast_paths"]["mode"] for w in report["workers"] if w["impl"] == "labrnn"] == ["off"]
    with pytest.raises(ValueError, match="mode must be one of"):
        run_suite("quick", fast_paths="fastest", log=lambda s: None)
