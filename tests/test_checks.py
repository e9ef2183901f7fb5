"""The exercise checks of ``labrnn.checks``: fair to every correct answer, specific about wrong ones.

* every check passes the instructor's solution AND a differently written correct
  implementation (loops, einsum, in-place updates);
* every plausible mistake of ``tests/exercise_impls.py`` fails with its own message;
* code that raises, returns the wrong type or None, never returns, prints a lot,
  or returns a remembered answer is reported as such, also off the main thread;
* the NumPy re-implementations with which the checks diagnose mistakes reduce to
  ``labrnn``'s own functions when no mistake is switched on.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from exercise_impls import ALTERNATIVES, HANGS, PRINTS_A_LOT, RETURNS_NONE, SOLUTIONS, WRONG, load
from labrnn.checks import CheckFailed, part1, part2, part3, part45

CHECKS = {name: getattr(mod, f"check_{name}") for mod, names in (
    (part1, ["rnn_step_forward", "rnn_step_backward", "rnn_backward", "clip_by_global_norm",
             "masked_cross_entropy", "sample_char"]),
    (part2, ["lstm_step_forward", "lstm_step_backward", "gru_step_forward"]),
    (part3, ["bidirectional_combine", "beam_search", "additive_attention_weights"]),
    (part45, ["masked_sequence_loss", "rmsprop_update", "top_k_sample", "token_accuracy",
              "seasonal_naive_errors", "masked_attention_context", "speed_and_gradient",
              "ctc_alpha"]))
    for name in names}


def _impl(source, name):
    return load(source)[name]


@pytest.mark.parametrize("name", sorted(CHECKS))
@pytest.mark.parametrize("which", ["solution", "alternative"])
def test_correct_implementations_pass(name, which, capsys):
    source = (SOLUTIONS if which == "solution" else ALTERNATIVES)[name]
    CHECKS[name](_impl(source, name))
    out = capsys.readouterr().out
    assert out.startswith(f"\u2714 {name} is correct") and out.count("\n") == 1, out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_correct_implementations_pass_on_other_sizes_and_seeds(name, capsys):
    fn = _impl(SOLUTIONS[name], name)
    if name in ("sample_char", "top_k_sample"):
        for seed in range(5):                 # the statistical test at other seeds
            CHECKS[name](fn, seed=seed)
        return
    for seed in range(3):
        CHECKS[name](fn, seed=seed)
    sizes = {"rnn_backward": dict(T=1, B=1, D=1, H=1), "clip_by_global_norm": dict(max_norm=10.0),
             "masked_cross_entropy": dict(T=1, B=1, C=2),
             "bidirectional_combine": dict(T=3, B=2, H=1, merge="sum"),
             "beam_search": dict(V=3, beam_width=3, max_len=4, alpha=0.7),
             "additive_attention_weights": dict(T=2, B=1, Hq=1, Hk=1, A=1),
             "masked_sequence_loss": dict(T=1, B=1, V=2, boolean_mask=True),
             "rmsprop_update": dict(shape=(7,)),
             "token_accuracy": dict(T=3, B=2, V=3),
             "seasonal_naive_errors": dict(N=60, test_start=36, horizons=(1, 2, 12, 15),
                                           season=12),
             "masked_attention_context": dict(S=2, B=1, H=1, A=1),
             "speed_and_gradient": dict(H=1),
             "ctc_alpha": dict(C=3, blank=2, long_T=300),
             }.get(name, dict(B=1, D=1, H=1))
    CHECKS[name](fn, **sizes)


CASES = [(name, variant, source, fragment) for name, rows in sorted(WRONG.items())
         for variant, source, fragment in rows]


@pytest.mark.parametrize("name,variant,source,fragment", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_mistake_gets_its_message(name, variant, source, fragment):
    with pytest.raises(CheckFailed) as info:
        CHECKS[name](_impl(source, name))
    assert fragment in str(info.value)


def test_every_function_has_at_least_two_mistakes():
    assert set(WRONG) == set(CHECKS) == set(SOLUTIONS) == set(ALTERNATIVES)
    assert all(len(rows) >= 2 for rows in WRONG.values())


# ------------------------------------------------------------------ misbehaving code
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_function_that_never_returns_is_stopped(name):
    with pytest.raises(CheckFailed, match=r"did not return within 0.3 s"):
        CHECKS[name](_impl(HANGS.format(name=name), name), timeout=0.3)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_forgotten_return_is_named(name):
    with pytest.raises(CheckFailed, match=r"None \(did you forget the `return` statement\?\)"):
        CHECKS[name](_impl(RETURNS_NONE.format(name=name), name))


def test_not_implemented_yet():
    def rnn_step_forward(*args):
        raise NotImplementedError()
    with pytest.raises(CheckFailed, match="rnn_step_forward is not implemented yet"):
        part1.check_rnn_step_forward(rnn_step_forward)


def test_an_exception_is_reported_with_the_students_line():
    src = "def gru_step_forward(x_t, h_prev, W_x, W_h, b, b_hn):\n    return 1 / 0\n"
    with pytest.raises(CheckFailed) as info:
        part2.check_gru_step_forward(_impl(src, "gru_step_forward"))
    msg = str(info.value)
    assert "raised ZeroDivisionError: division by zero" in msg and "at line" in msg


def test_wrong_types_are_named():
    def lstm_step_forward(x_t, h_prev, c_prev, W_x, W_h, b):
        return h_prev                                     # one array, not (h, c)
    with pytest.raises(CheckFailed, match=r"must return a tuple of 2 values \(h_t, c_t\); it "
                                          r"returned an array of shape \(3, 5\)"):
        part2.check_lstm_step_forward(lstm_step_forward)

    def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
        return "h_t"
    with pytest.raises(CheckFailed, match="must be an array of shape"):
        part1.check_rnn_step_forward(rnn_step_forward)

    def sample_char(logits, temperature, rng):
        return rng.choice(len(logits), size=1)
    with pytest.raises(CheckFailed, match="ONE integer index"):
        part1.check_sample_char(sample_char)


def test_a_lot_of_printing_is_cut(capsys):
    ns = load(SOLUTIONS["clip_by_global_norm"])
    load(PRINTS_A_LOT.format(name="clip_by_global_norm"), preamble="", namespace=ns)
    part1.check_clip_by_global_norm(ns["clip_by_global_norm"])
    out = capsys.readouterr().out
    assert "more characters cut" in out and len(out) < 2000
    assert "clip_by_global_norm is correct" in out


def test_a_remembered_answer_is_caught():
    solution = _impl(SOLUTIONS["rnn_step_forward"], "rnn_step_forward")
    memory = {}

    def rnn_step_forward(*args):
        if "h" not in memory:
            memory["h"] = solution(*args)
        return memory["h"]
    part1.check_rnn_step_forward(rnn_step_forward)          # the first call is right...
    with pytest.raises(CheckFailed):                          # ...fresh inputs expose it
        part1.check_rnn_step_forward(rnn_step_forward)


def test_off_the_main_thread_a_watchdog_stops_the_call():
    result = {}

    def run():
        try:
            part1.check_clip_by_global_norm(_impl(HANGS.format(name="f"), "f"), timeout=0.3)
        except CheckFailed as e:
            result["message"] = str(e)
    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    assert "did not return within 0.3 s" in result["message"]


def test_failure_renders_as_its_message_in_a_notebook():
    lines = CheckFailed("h_t is wrong: apply tanh\nsecond line")._render_traceback_()
    assert "CheckFailed" in lines[0] and lines[0].endswith("h_t is wrong: apply tanh")
    assert lines[1] == "second line"


# ------------------------------------------------------------------ the diagnosis models
def test_numpy_models_without_mistakes_equal_labrnn():
    rng = np.random.default_rng(0)
    args = part1._bptt_inputs(rng, 4, 2, 3, 5)
    for a, b in zip(part1._np_bptt(*args), part1._bptt_expected(args)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    from labrnn.cells import gru, lstm
    dh, dc, x, h, c, W_x, W_h, b = part2._lstm_bwd_inputs(rng, 3, 4, 5)
    _, cache = lstm.lstm_step_forward(x, (h, c), {"W_x": W_x, "W_h": W_h, "b": b})
    dx, (dhp, dcp), g = lstm.lstm_step_backward((dh, dc), cache)
    for a, e in zip(part2._np_lstm_backward(dh, dc, x, h, c, W_x, W_h, b),
                    (dx, dhp, dcp, g["W_x"], g["W_h"], g["b"])):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)
    gargs = part2._gru_inputs(rng, 3, 4, 5)
    x, h, W_x, W_h, b, b_hn = gargs
    ref, _ = gru.gru_step_forward(x, h, {"W_x": W_x, "W_h": W_h, "b": b, "b_hn": b_hn})
    np.testing.assert_allclose(part2._np_gru(*gargs), ref, rtol=1e-12, atol=1e-12)


def test_part3_models_without_mistakes_equal_labrnn():
    from labrnn.layers import attention, masking
    from labrnn.models import bidirectional, recurrent
    from labrnn.paramtree import subparams
    rng = np.random.default_rng(1)
    # The merge of two real RNN runs (over the padding too) is labrnn's bidirectional layer.
    T, B, D, H = 5, 3, 2, 4
    x = rng.normal(size=(T, B, D))
    lengths = part3._lengths(rng, T, B)
    params = bidirectional.init_bidirectional("elman", D, H, seed=0)
    h_fw = recurrent.recurrent_forward(x, subparams(params, "fw."), None, activation="tanh")[0]
    h_bw_rev = recurrent.recurrent_forward(masking.reverse_padded(x, lengths),
                                           subparams(params, "bw."), None, activation="tanh")[0]
    for merge in ("concat", "sum"):
        y, _, _ = bidirectional.bidirectional_forward(x, params, lengths=lengths, merge=merge)
        np.testing.assert_allclose(part3._np_bidir(h_fw, h_bw_rev, lengths, merge), y,
                                   rtol=1e-12, atol=1e-12)
    # The attention model without mistakes is labrnn.attention_forward's alpha.
    for large in (False, True):
        args = part3._attn_inputs(rng, 5, 3, 4, 6, 7, large)
        q, keys, W_q, W_k, v, mask = args
        _, alpha, _ = attention.attention_forward(q, keys, {"W_q": W_q, "W_k": W_k, "v": v},
                                                  "additive", mask)
        np.testing.assert_allclose(part3._np_attn(*args), alpha, rtol=1e-12, atol=1e-12)


def test_beam_reference_is_exhaustive_search_with_a_wide_beam():
    import itertools
    from labrnn.models.decoding import length_normalized
    rng = np.random.default_rng(2)
    V, max_len, alpha = 3, 4, 0.7
    model = part3._design(rng, V, 2, max_len, alpha)
    best = None
    for n in range(1, max_len + 1):
        for toks in itertools.product(range(V), repeat=n):
            if model.eos in toks[:-1] or (n < max_len and toks[-1] != model.eos):
                continue                      # finished at eos, or cut at max_len
            lp = sum(model.lp((model.bos,) + toks[:k])[t] for k, t in enumerate(toks))
            s = length_normalized(lp, n, alpha)
            if best is None or s > best[0]:
                best = (s, toks)
    hyp = model.search(V ** max_len, max_len, alpha)
    assert hyp.tokens == best[1] and abs(hyp.score - best[0]) < 1e-12


# ------------------------------------------------------------------ reproducible grading
@pytest.mark.parametrize("name", ["beam_search", "sample_char", "additive_attention_weights",
                                  "top_k_sample", "token_accuracy", "ctc_alpha"])
def test_a_fixed_seed_gives_the_same_verdict_every_time(name):
    """Graded tests pass a seed: the same code gets the same message, every time (the
    beam search that drops the live hypotheses at max_len is caught on every run)."""
    source = {"beam_search": dict((v, s) for v, s, _ in WRONG["beam_search"])[
                  "drops_live_at_max_len"],
              "sample_char": WRONG["sample_char"][0][1],
              "additive_attention_weights": WRONG["additive_attention_weights"][0][1],
              "top_k_sample": WRONG["top_k_sample"][3][1],           # ties dropped
              "token_accuracy": WRONG["token_accuracy"][1][1],
              "ctc_alpha": WRONG["ctc_alpha"][0][1]}[name]
    messages = set()
    for _ in range(3):
        with pytest.raises(CheckFailed) as info:
            CHECKS[name](_impl(source, name), seed=123)
        messages.add(str(info.value))
    assert len(messages) == 1, messages


def test_the_dropped_live_beam_is_caught_at_every_seed():
    source = dict((v, s) for v, s, _ in WRONG["beam_search"])["drops_live_at_max_len"]
    for seed in range(8):
        with pytest.raises(CheckFailed, match="count as finished too"):
            part3.check_beam_search(_impl(source, "beam_search"), seed=seed)


def test_visible_bidirectional_check_runs_both_merges(capsys):
    source = dict((v, s) for v, s, _ in WRONG["bidirectional_combine"])["sum_concatenates"]
    with pytest.raises(CheckFailed, match="merge='sum'"):
        part3.check_bidirectional_combine(_impl(source, "bidirectional_combine"))
    part3.check_bidirectional_combine(_impl(SOLUTIONS["bidirectional_combine"],
                                            "bidirectional_combine"))
    assert "merge='concat' and 'sum'" in capsys.readouterr().out


# ------------------------------------------------------------------ the sandbox
from labrnn.checks import notebook, report, sandbox  # noqa: E402


def _nb(source, name):
    """A function defined as in a notebook cell (its source retrievable)."""
    return load(source)[name]


def test_bundle_carries_helpers_imports_constants_and_arrays():
    ns = load('''
import math
SCALE = 2.0
OFFSETS = np.array([0.0, 0.0])

def _act(a):
    return np.tanh(a * SCALE / SCALE)

def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return _act(x_t @ W_xh.T + h_prev @ W_hh.T + b_h) + 0 * math.pi
''')
    recipe = sandbox.bundle(ns["rnn_step_forward"])
    glob = recipe["functions"][recipe["entry"]]["globals"]
    assert glob["_act"]["kind"] == "function" and glob["math"]["name"] == "math"
    helper = recipe["functions"][glob["_act"]["index"]]
    assert helper["globals"]["np"] == {"kind": "module", "name": "numpy"}
    assert helper["globals"]["SCALE"] == {"kind": "literal", "text": "2.0"}
    assert recipe["labrnn"] == [] and recipe["suspicious"] == []
    notebook.check_rnn_step_forward(ns["rnn_step_forward"])


@pytest.mark.parametrize("source,what", [
    ("import labrnn\n\ndef rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
     "    return labrnn.cells.elman.rnn_step_forward(x_t, h_prev, {'W_xh': W_xh, 'W_hh': W_hh, "
     "'b_h': b_h})[0]\n", "labrnn.cells.elman.rnn_step_forward"),
    ("from labrnn import rnn_step_forward as f\n\ndef rnn_step_forward(x_t, h_prev, W_xh, "
     "W_hh, b_h):\n    return f(x_t, h_prev, {'W_xh': W_xh, 'W_hh': W_hh, 'b_h': b_h})[0]\n",
     "f (= labrnn.cells.elman.rnn_step_forward)"),
    ("def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n    from labrnn.cells.elman import "
     "rnn_step_forward as f\n    return f(x_t, h_prev, {'W_xh': W_xh, 'W_hh': W_hh, "
     "'b_h': b_h})[0]\n", "from labrnn.cells.elman import rnn_step_forward"),
])
def test_labrnn_implementation_is_seen_in_the_source(source, what):
    fn = _nb(source, "rnn_step_forward")
    assert any(what in u for u in sandbox.bundle(fn)["labrnn"])
    with pytest.raises(CheckFailed, match="uses labrnn's own implementation"):
        notebook.check_rnn_step_forward(fn)


def test_labrnn_implementation_is_caught_by_a_tripwire_when_the_source_hides_it(capsys):
    fn = _nb("def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
             "    mod = __import__('lab' + 'rnn')\n"
             "    f = getattr(mod, 'rnn_step_' + 'forward')\n"
             "    return f(x_t, h_prev, {'W_xh': W_xh, 'W_hh': W_hh, 'b_h': b_h})[0]\n",
             "rnn_step_forward")
    assert sandbox.bundle(fn)["labrnn"] == []
    with pytest.raises(CheckFailed, match=r"it called labrnn.cells.elman.rnn_step_forward\)"):
        notebook.check_rnn_step_forward(fn)
    out = capsys.readouterr().out
    assert "FLAG [labrnn-implementation]" in out and "FLAG [suspicious]" in out


def test_the_allowed_sigmoid_is_not_labrnn_use():
    ns = load("from labrnn import sigmoid\n" + SOLUTIONS["lstm_step_forward"], preamble=
              "import numpy as np\n")
    notebook.check_lstm_step_forward(ns["lstm_step_forward"])


@pytest.mark.parametrize("body,fragment", [
    ("import os\n    os._exit(0)", "ended before the check finished"),
    ("while True:\n        try:\n            while True:\n                pass\n"
     "        except:\n            pass", "did not return within 0.5 s"),
    ("blocks = []\n    while True:\n        blocks.append(np.empty(10**8))", "memory"),
])
def test_a_function_that_kills_hangs_or_exhausts_its_process_costs_only_its_check(body,
                                                                                   fragment):
    fn = _nb(f"def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n    {body}\n",
             "rnn_step_forward")
    with pytest.raises(CheckFailed, match=fragment):
        notebook.check_rnn_step_forward(fn, timeout=0.5)
    # ...and this process is fine: the next check runs
    notebook.check_rnn_step_forward(_impl(SOLUTIONS["rnn_step_forward"], "rnn_step_forward"))


def test_megabytes_printed_in_the_checking_process_are_cut(capsys):
    fn = _nb("import os\n\ndef rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
             "    print('x' * 1_000_000)\n    os.write(1, b'y' * 1_000_000)\n"
             "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)\n", "rnn_step_forward")
    notebook.check_rnn_step_forward(fn)
    out = capsys.readouterr().out
    assert "rnn_step_forward is correct" in out and len(out) < 10_000
    assert "more characters cut" in out


def test_tampering_in_the_kernel_is_flagged_and_fails(capsys, monkeypatch):
    fn = _impl(SOLUTIONS["rnn_step_forward"], "rnn_step_forward")
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(part1, "check_rnn_step_forward", lambda *a, **k: None)
    with pytest.raises(CheckFailed, match="altered labrnn, its checks or NumPy"):
        notebook.check_rnn_step_forward(fn)
    out = capsys.readouterr().out
    assert "numpy.allclose (replaced)" in out
    assert "labrnn.checks.part1.check_rnn_step_forward (replaced)" in out


def test_grade_flags_a_rebound_checks_name_and_runs_fixed_seeds(capsys):
    fn = _impl(SOLUTIONS["gru_step_forward"], "gru_step_forward")
    ns = {"sandbox": sandbox, "fn": fn, "checks": notebook}
    exec("sandbox.grade('gru_step_forward', fn, [dict(B=2, D=3, H=4, seed=5)])", ns)
    first = capsys.readouterr().out
    exec("sandbox.grade('gru_step_forward', fn, [dict(B=2, D=3, H=4, seed=5)])", ns)
    assert capsys.readouterr().out == first and first.count("\u2714") == 2
    ns["checks"] = object()
    with pytest.raises(CheckFailed):
        exec("sandbox.grade('gru_step_forward', fn, [dict(seed=5)])", ns)
    assert "the name `checks` no longer refers" in capsys.readouterr().out


def test_unsendable_globals_are_named_when_the_function_needs_them():
    ns = load("WEIGHTS = {'scale': object()}\n\n"
              "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
              "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h) * WEIGHTS['s']\n")
    with pytest.raises(CheckFailed, match=r"Not sent: WEIGHTS \(dict\)"):
        notebook.check_rnn_step_forward(ns["rnn_step_forward"])


def test_not_implemented_is_reported_without_a_process():
    ns = load("def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
              "    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    with pytest.raises(CheckFailed, match="rnn_step_forward is not implemented yet"):
        notebook.check_rnn_step_forward(ns["rnn_step_forward"])


def test_fingerprints_of_an_untouched_process_agree_with_a_fresh_one():
    fps = sandbox.fingerprints()
    assert "numpy.allclose" in fps and "labrnn.checks.part1.check_rnn_step_forward" in fps
    assert sandbox._tampering(fps, dict(fps)) == []
    changed = dict(fps, **{"numpy.allclose": "function x"})
    assert sandbox._tampering(fps, changed) == ["numpy.allclose (replaced)"]


def test_report_scans_cells_for_code_that_changes_modules():
    src = ("import numpy as np\nfrom labrnn.checks import notebook as checks\n"
           "np.allclose = lambda *a: True\nsetattr(checks, 'x', 1)\n"
           "import builtins\nx = np.zeros(3)\nx[0] = 1\n")
    found = report.scan_source(src, report._module_aliases([{"cell_type": "code",
                                                             "source": src}]))
    whys = [why for _, why, _ in found]
    assert any("np.allclose" in w for w in whys) and "calls setattr()" in whys
    assert "imports builtins" in whys
    assert not any("x[0]" in code for _, _, code in found)     # a local array is fine


# ------------------------------------------------------------------ Parts IV and V references
def test_part45_references_agree_with_labrnn_brute_force_and_differences():
    from labrnn.training import ctc
    from labrnn.training.gradcheck import numerical_gradient
    rng = np.random.default_rng(45)
    # the CTC model without mistakes is labrnn.training.ctc.ctc_alpha, and its end is the brute force
    for T, target, blank in ((6, [1, 1, 2], 0), (4, [], 0), (6, [1, 1, 2, 2], 0),
                             (5, [0, 1], 2), (3, [1, 1], 0)):
        lp = part45._log_probs(rng, T, 3)
        a = part45._np_ctc_alpha(lp, target, blank)
        ref = np.asarray(ctc.ctc_alpha(lp, np.asarray(target, dtype=np.int64), blank=blank))
        assert part45._log_close(a, ref, rtol=1e-12, atol=1e-12)
        tail = a[-1, -1] if not target else np.logaddexp(a[-1, -1], a[-1, -2])
        np.testing.assert_allclose(-tail, ctc.ctc_brute_force(lp, target, blank=blank)[0],
                                   rtol=1e-12)
    # exactly filled: T = 6 for [1, 1, 2, 2] leaves one path, ending in the last label (the
    # final blank is unreachable at the last frame), and the late nodes are -inf early on
    a = part45._np_ctc_alpha(part45._log_probs(rng, 6, 3), [1, 1, 2, 2], 0)
    assert np.isneginf(a[-1, -1]) and np.isfinite(a[-1, -2]) and np.isneginf(a[0, 2:]).all()
    # the speed's gradient is the central difference of q
    h, W, b = part45._speed_inputs(rng, 5)
    q, g = part45.speed_and_gradient_reference(h, W, b)
    num = numerical_gradient(lambda x: part45.speed_and_gradient_reference(x, W, b)[0], h.copy())
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)
    # RMSProp from a zero state: the first step is lr * g / (sqrt(1 - rho) |g| + eps)
    p, v = part45.rmsprop_reference(np.ones(3), np.array([1.0, -2.0, 0.5]), np.zeros(3),
                                    0.1, 0.9, 0.0)
    np.testing.assert_allclose(p, 1 - 0.1 * np.sign([1.0, -2.0, 0.5]) / np.sqrt(0.1))
    # seasonal naive by hand: a series that repeats every season exactly has zero error
    y = np.tile(np.arange(12.0), 6)
    errs = part45.seasonal_naive_errors_reference(y, 36, [1, 12, 13, 24])
    assert all(e == (0.0, 0.0) for e in errs.values())
    # top-k keeps ties
    p = part45.top_k_probabilities(np.array([1.0, 0.5, 0.5, 0.0]), 2, 1.0)
    assert p[3] == 0 and p[1] == p[2] > 0 and abs(p.sum() - 1) < 1e-12
