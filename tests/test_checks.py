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
from labrnn.checks import CheckFailed, part1, part2, part3

CHECKS = {name: getattr(mod, f"check_{name}") for mod, names in (
    (part1, ["rnn_step_forward", "rnn_step_backward", "rnn_backward", "clip_by_global_norm",
             "masked_cross_entropy", "sample_char"]),
    (part2, ["lstm_step_forward", "lstm_step_backward", "gru_step_forward"]),
    (part3, ["bidirectional_combine", "beam_search", "additive_attention_weights"]))
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
    if name == "sample_char":
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
    from labrnn import gru, lstm
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
    from labrnn import attention, bidirectional, masking, recurrent
    from labrnn.paramtree import subparams
    rng = np.random.default_rng(1)
    # The merge of two real RNN runs (over the padding too) is labrnn's bidirectional layer.
    T, B, D, H = 5, 3, 2, 4
    x = rng.normal(size=(T, B, D))
    lengths = part3._lengths(rng, T, B)
    params = bidirectional.init_bidirectional("elman", D, H, seed=0)
    h_fw = recurrent.recurrent_forward(x, subparams(params, "fw."), None, "tanh")[0]
    h_bw_rev = recurrent.recurrent_forward(masking.reverse_padded(x, lengths),
                                           subparams(params, "bw."), None, "tanh")[0]
    for merge in ("concat", "sum"):
        y, _ = bidirectional.bidirectional_forward(x, params, lengths=lengths, merge=merge)
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
    from labrnn.decoding import length_normalized
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
