"""Connectionist temporal classification (labrnn.training.ctc, chapter 18).

The loss and its gradient are checked against brute-force enumeration of every
alignment (C**T paths) on tiny inputs, and against float64 central differences;
the prefix beam search against exhaustive search over labellings. Every numerical
test runs on every backend (tests/conftest.py).
"""

import math
import pathlib

import numpy as np
import pytest

import labrnn
from labrnn.training.ctc import (collapse, ctc_alpha, ctc_beta, ctc_brute_force, ctc_exhaustive_decode,
                        ctc_greedy_decode, ctc_loss, ctc_loss_and_grad, ctc_prefix_beam_search,
                        edit_distance, extend_labels)
from labrnn.errors import DTypeError, ShapeError
from labrnn.training.gradcheck import gradcheck

REF = pathlib.Path(__file__).resolve().parent / "reference" / "ctc_torch.npz"

# (T, C, target): repeats, a target of maximal length (S + repeats = T), the empty target
CASES = [
    (4, 3, [1]),
    (5, 3, [1, 2]),
    (5, 3, [1, 1]),
    (6, 3, [2, 1, 2]),
    (6, 3, [1, 1, 2, 2]),          # needs 4 + 2 = 6 frames: exactly one path
    (6, 4, [3, 3, 3]),             # needs 5 frames
    (4, 3, []),
    (1, 2, [1]),
]


def _log_probs(T, C, seed, scale=1.5):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=scale, size=(T, C))
    return z, np.asarray(labrnn.log_softmax(z))


def _loss_from_alpha(a, S):
    a = labrnn.to_numpy(a)
    return -(np.logaddexp(a[-1, -1], a[-1, -2]) if S else a[-1, -1])


# ------------------------------------------------------------------ helpers

def test_collapse_extend_and_edit_distance():
    assert collapse([1, 1, 0, 1, 2, 2, 0]) == (1, 1, 2)
    assert collapse([0, 0, 0]) == ()
    assert collapse([3, 3, 1], blank=3) == (1,)
    np.testing.assert_array_equal(extend_labels([1, 1, 2]), [0, 1, 0, 1, 0, 2, 0])
    np.testing.assert_array_equal(extend_labels([], blank=2), [2])
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance([1, 2, 3], [4, 1, 2, 3, 5]) == 2
    assert edit_distance([], [1, 2]) == 2
    assert edit_distance([5, 6], [6, 5]) == 2


# ------------------------------------------------------------------ loss vs brute force

@pytest.mark.parametrize("T,C,target", CASES)
def test_alpha_loss_equals_brute_force(backend, T, C, target):
    _, lp = _log_probs(T, C, seed=T * 10 + len(target))
    bf, _ = ctc_brute_force(lp, target)
    a = ctc_alpha(backend.asarray(lp), target)
    assert backend.on_this_device(a)
    assert tuple(a.shape) == (T, 2 * len(target) + 1)
    assert abs(_loss_from_alpha(a, len(target)) - bf) < 1e-12 * max(1.0, bf)
    loss = ctc_loss(backend.asarray(lp[:, None, :]), backend.asarray(np.array([target], dtype=np.int64).reshape(1, -1)),
                    [T], [len(target)], reduction="sum")
    assert backend.on_this_device(loss)
    assert abs(float(loss) - bf) < 1e-12 * max(1.0, bf)


def test_brute_force_knows_the_single_path_of_a_maximal_target():
    # [1, 1, 2, 2] in 6 frames: only 1 - 1 2 - 2 collapses to it
    _, lp = _log_probs(6, 3, seed=1)
    bf, gamma = ctc_brute_force(lp, [1, 1, 2, 2])
    path = [1, 0, 1, 2, 0, 2]
    assert abs(bf + sum(lp[t, k] for t, k in enumerate(path))) < 1e-12
    np.testing.assert_array_equal(gamma, np.eye(3)[path])


@pytest.mark.parametrize("T,C,target", CASES)
def test_alpha_beta_give_p_at_every_frame(backend, T, C, target):
    # sum_s alpha_t(s) beta_t(s) / y_t(l'_s) = p(l|x) for every t (equation ctc-beta)
    _, lp = _log_probs(T, C, seed=3)
    a = backend.to_numpy(ctc_alpha(backend.asarray(lp), target))
    b_ = ctc_beta(backend.asarray(lp), target)
    assert backend.on_this_device(b_)
    b_ = backend.to_numpy(b_)
    e = lp[:, extend_labels(target)]
    per_t = np.logaddexp.reduce(a + b_ - e, axis=1)
    bf, _ = ctc_brute_force(lp, target)
    np.testing.assert_allclose(per_t, -bf, rtol=0, atol=1e-12)


@pytest.mark.parametrize("T,C,target", CASES)
def test_gradient_equals_softmax_minus_brute_force_occupancy(backend, T, C, target):
    z, lp = _log_probs(T, C, seed=7)
    _, gamma = ctc_brute_force(lp, target)
    loss, d = ctc_loss_and_grad(backend.asarray(z[:, None, :]),
                                backend.asarray(np.array(target, dtype=np.int64)),
                                [T], [len(target)], reduction="sum")
    assert backend.on_this_device(d)
    np.testing.assert_allclose(backend.to_numpy(d)[:, 0, :], np.exp(lp) - gamma, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ batches and reductions

def _batch(seed=0, C=4):
    """Padded batch of 4 sequences of different lengths (one with an empty target)."""
    rng = np.random.default_rng(seed)
    il = np.array([6, 3, 5, 4])
    targets = [[1, 2, 2], [3], [1, 1], []]
    T = int(il.max())
    z = rng.normal(size=(T, len(il), C))
    S = max(len(t) for t in targets)
    padded = np.zeros((len(il), S), dtype=np.int64)
    for b, t in enumerate(targets):
        padded[b, :len(t)] = t
    tl = np.array([len(t) for t in targets])
    return z, padded, il, tl, targets


def test_batch_equals_per_sequence_padded_and_concatenated(backend):
    z, padded, il, tl, targets = _batch()
    lp = np.asarray(labrnn.log_softmax(z))
    per = [ctc_brute_force(lp[:il[b], b, :], t)[0] for b, t in enumerate(targets)]
    concat = np.concatenate([np.asarray(t, dtype=np.int64) for t in targets])
    for tg in (padded, concat):
        losses = ctc_loss(backend.asarray(lp), backend.asarray(tg), backend.asarray(il),
                          backend.asarray(tl), reduction="none")
        assert tuple(losses.shape) == (4,)
        np.testing.assert_allclose(backend.to_numpy(losses), per, rtol=1e-12)
    _, d = ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il, tl, reduction="sum")
    d = backend.to_numpy(d)
    for b, t in enumerate(targets):
        _, db = ctc_loss_and_grad(backend.asarray(z[:il[b], b:b + 1, :]),
                                  backend.asarray(np.asarray(t, dtype=np.int64)), [il[b]], [len(t)],
                                  reduction="sum")
        np.testing.assert_allclose(d[:il[b], b, :], backend.to_numpy(db)[:, 0, :], atol=1e-13)
        assert not d[il[b]:, b, :].any(), "padded frames must get a zero gradient"


def test_reductions(backend):
    z, padded, il, tl, _ = _batch(seed=1)
    lp = backend.asarray(np.asarray(labrnn.log_softmax(z)))
    none = backend.to_numpy(ctc_loss(lp, backend.asarray(padded), il, tl, reduction="none"))
    s = float(ctc_loss(lp, backend.asarray(padded), il, tl, reduction="sum"))
    m = float(ctc_loss(lp, backend.asarray(padded), il, tl, reduction="mean"))
    m_default = float(ctc_loss(lp, backend.asarray(padded), il, tl))
    assert abs(s - none.sum()) < 1e-12
    # 'mean' as PyTorch: each loss over its target length (at least 1), then the batch mean
    assert abs(m - np.mean(none / np.maximum(tl, 1))) < 1e-12
    assert m == m_default
    for red in ("none", "sum", "mean"):
        lo, d = ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il, tl, reduction=red)
        np.testing.assert_allclose(backend.to_numpy(lo),
                                   backend.to_numpy(ctc_loss(lp, backend.asarray(padded), il, tl,
                                                             reduction=red)), rtol=1e-12)
    _, d_sum = ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il, tl, reduction="sum")
    _, d_mean = ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il, tl)
    scale = 1.0 / (np.maximum(tl, 1) * len(tl))
    np.testing.assert_allclose(backend.to_numpy(d_mean),
                               backend.to_numpy(d_sum) * scale[None, :, None], atol=1e-15)


def test_gradcheck_float64_batch_mean(backend):
    z, padded, il, tl, _ = _batch(seed=2)
    zb = backend.asarray(z)
    _, d = ctc_loss_and_grad(zb, backend.asarray(padded), il, tl, reduction="mean")

    def f(inp):
        return ctc_loss(labrnn.log_softmax(inp["z"]), backend.asarray(padded), il, tl)

    report = gradcheck(f, {"z": zb}, {"z": d})
    report.assert_ok(1e-7)


def test_float32_agrees_with_float64(backend):
    z, padded, il, tl, _ = _batch(seed=4)
    l64, d64 = ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il, tl)
    l32, d32 = ctc_loss_and_grad(backend.asarray(z, dtype="float32"), backend.asarray(padded), il, tl)
    assert d32.dtype == backend.xp.float32
    assert abs(float(l32) - float(l64)) < 1e-5 * abs(float(l64))
    np.testing.assert_allclose(backend.to_numpy(d32), backend.to_numpy(d64), atol=1e-6)


def test_long_input_does_not_underflow():
    # 2000 frames: probabilities of single paths are ~1e-900, the log-space recursion is fine
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 1, 5))
    loss, d = ctc_loss_and_grad(z, np.array([[1, 2, 3, 4, 4, 1]]), [2000], [6], reduction="sum")
    assert math.isfinite(float(loss)) and float(loss) > 700
    assert np.isfinite(d).all()
    # softmax minus a distribution sums to 0; the occupancy is exp(log alpha + log beta + loss)
    # with |loss| ~ 3e3 accumulated over 2000 frames, so its rounding is ~T * 1e-16 * |loss|
    np.testing.assert_allclose(d.sum(axis=-1), 0.0, atol=1e-9)


# ------------------------------------------------------------------ infinite losses

def test_target_too_long_raises_by_default_and_zero_infinity_zeroes_it(backend):
    z, padded, il, tl, targets = _batch(seed=5)
    il_bad = il.copy()
    il_bad[0] = 3                      # target [1, 2, 2] needs 4 frames
    lp = backend.asarray(np.asarray(labrnn.log_softmax(z)))
    with pytest.raises(ValueError, match=r"sequence 0 is infinite: its target of 3 labels needs "
                                         r"at least 4 frames .* input_lengths\[0\]=3.*zero_infinity"):
        ctc_loss(lp, backend.asarray(padded), il_bad, tl)
    with pytest.raises(ValueError, match="zero_infinity=True"):
        ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il_bad, tl)
    none = backend.to_numpy(ctc_loss(lp, backend.asarray(padded), il_bad, tl, reduction="none",
                                     zero_infinity=True))
    ref = backend.to_numpy(ctc_loss(lp, backend.asarray(padded), il, tl, reduction="none"))
    assert none[0] == 0.0
    np.testing.assert_allclose(none[1:], ref[1:], rtol=1e-12)
    mean = float(ctc_loss(lp, backend.asarray(padded), il_bad, tl, zero_infinity=True))
    assert abs(mean - np.mean(none / np.maximum(tl, 1))) < 1e-12
    lo, d = ctc_loss_and_grad(backend.asarray(z), backend.asarray(padded), il_bad, tl,
                              zero_infinity=True, reduction="sum")
    d = backend.to_numpy(d)
    assert np.isfinite(d).all() and not d[:, 0, :].any()
    assert abs(float(lo) - none.sum()) < 1e-12


def test_zero_probability_path_raises_with_its_own_reason():
    with np.errstate(divide="ignore"):
        lp = np.log(np.array([[1.0, 0.0], [1.0, 0.0]]))  # label 1 never emitted
    with pytest.raises(ValueError, match=r"every path of its target has probability 0"):
        ctc_loss(lp[:, None, :], np.array([[1]]), [2], [1])


# ------------------------------------------------------------------ decoding

@pytest.mark.parametrize("seed", range(12))
def test_prefix_beam_search_wide_beam_equals_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    T, C = 6, 3 + seed % 2
    lp = np.asarray(labrnn.log_softmax(rng.normal(scale=2.0, size=(T, C))))
    exact = ctc_exhaustive_decode(lp)
    # every prefix of length <= T over C-1 labels fits in a beam of this width: exact
    width = sum((C - 1) ** k for k in range(T + 1))
    found = ctc_prefix_beam_search(lp, beam_width=width, n_best=5)
    assert [p for p, _ in found] == [p for p, _ in exact[:5]]
    np.testing.assert_allclose([v for _, v in found], [v for _, v in exact[:5]], atol=1e-12)
    # the labelling probability is exp(-CTC loss)
    best, logp = found[0]
    assert abs(-logp - ctc_brute_force(lp, best)[0]) < 1e-12


def test_prefix_beam_search_beats_greedy_where_paths_merge():
    # frame 1 favours "1" (0.4) but the blank and "1" together (0.6 + ...) outweigh it
    p = np.array([[0.4, 0.35, 0.25], [0.4, 0.35, 0.25]])
    lp = np.log(p)
    assert ctc_greedy_decode(lp) == ()
    exact = ctc_exhaustive_decode(lp)
    assert exact[0][0] == (1,)
    assert ctc_prefix_beam_search(lp, beam_width=4)[0][0] == (1,)


def test_greedy_decode_batch_respects_lengths(backend):
    lp = np.full((5, 2, 3), np.log(0.1))
    best = np.array([[1, 2], [1, 0], [0, 2], [2, 2], [2, 1]])
    for t in range(5):
        for b in range(2):
            lp[t, b, best[t, b]] = np.log(0.8)
    out = ctc_greedy_decode(backend.asarray(lp), [5, 3])
    assert out == [(1, 2), (2, 2)]          # sequence 1: 2 - 2, the blank keeps both 2s
    assert ctc_greedy_decode(backend.asarray(lp[:, 0, :])) == (1, 2)


def test_decoders_refuse_bad_arguments():
    lp = np.log(np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="beam_width must be an integer >= 1, received 0"):
        ctc_prefix_beam_search(lp, beam_width=0)
    with pytest.raises(ValueError, match=r"blank must be an integer class index in \[0, C=3\)"):
        ctc_greedy_decode(lp, blank=3)
    with pytest.raises(ShapeError, match=r"log_probs must have shape \(T, C\)"):
        ctc_prefix_beam_search(lp[:, None, :])
    with pytest.raises(ValueError, match=r"input_lengths must lie in \[1, T=3\]"):
        ctc_greedy_decode(lp[:, None, :], [4])
    with pytest.raises(ValueError, match="exceeds max_paths"):
        ctc_exhaustive_decode(np.log(np.full((30, 3), 1 / 3)))


# ------------------------------------------------------------------ bad input

def _ok():
    lp = np.asarray(labrnn.log_softmax(np.random.default_rng(0).normal(size=(4, 2, 3))))
    return lp, np.array([[1, 2], [2, 0]]), np.array([4, 3]), np.array([2, 1])


@pytest.mark.parametrize("change,error,message", [
    (lambda a: {**a, "targets": np.array([[1, 0], [2, 0]])}, ValueError,
     r"targets of sequence 0 contain the blank index 0 at position 1"),
    (lambda a: {**a, "targets": np.array([[1, 3], [2, 0]])}, ValueError,
     r"targets of sequence 0 must lie in \[0, C=3\), found 1..3"),
    (lambda a: {**a, "input_lengths": np.array([5, 3])}, ValueError,
     r"input_lengths must not exceed T=4 .*found 5 at position 0"),
    (lambda a: {**a, "input_lengths": np.array([4, -1])}, ValueError,
     r"input_lengths must be at least 1, found -1 at position 1"),
    (lambda a: {**a, "target_lengths": np.array([2, -1])}, ValueError,
     r"target_lengths must be non-negative, found -1 at position 1"),
    (lambda a: {**a, "target_lengths": np.array([3, 1])}, ValueError,
     r"target_lengths\[0\]=3 exceeds the padded target width S=2"),
    (lambda a: {**a, "targets": np.array([1, 2, 2, 1])}, ShapeError,
     r"concatenated targets have 4 labels but target_lengths sum to 3"),
    (lambda a: {**a, "targets": np.array([[1.0, 2.0], [2.0, 0.0]])}, DTypeError,
     r"targets must hold integers, received dtype float64"),
    (lambda a: {**a, "input_lengths": [4.0, 3.0]}, DTypeError,
     r"input_lengths must hold integers, received dtype float64"),
    (lambda a: {**a, "target_lengths": np.array([2, 1, 1])}, ShapeError,
     r"target_lengths must have shape \(B=2,\), one entry per sequence, received \(3,\)"),
    (lambda a: {**a, "targets": np.zeros((2, 2, 1), dtype=int)}, ShapeError,
     r"targets must be 1-d \(concatenated\) or 2-d \(B, S\)"),
    (lambda a: {**a, "targets": np.array([[1, 2]])}, ShapeError,
     r"targets must have shape \(B=2, S\) when padded, received \(1, 2\)"),
    (lambda a: {**a, "log_probs": a["log_probs"][0]}, ShapeError,
     r"log_probs must have shape \(T, B, C\), received \(2, 3\)"),
    (lambda a: {**a, "log_probs": np.zeros((4, 2, 3), dtype=np.int64)}, DTypeError,
     r"log_probs must be a floating-point array"),
    (lambda a: {**a, "log_probs": np.full((4, 2, 3), np.nan)}, ValueError,
     r"log_probs contains NaN or \+inf"),
    (lambda a: {**a, "blank": 3}, ValueError,
     r"blank must be an integer class index in \[0, C=3\), received 3"),
    (lambda a: {**a, "reduction": "avg"}, ValueError,
     r"reduction must be one of \['mean', 'sum', 'none'\], received 'avg'"),
])
def test_bad_input_is_refused_with_a_clear_message(change, error, message):
    lp, tg, il, tl = _ok()
    args = change({"log_probs": lp, "targets": tg, "input_lengths": il, "target_lengths": tl})
    with pytest.raises(error, match=message):
        ctc_loss(**args)


def test_single_sequence_functions_refuse_bad_targets():
    lp = np.log(np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"target contains the blank index 0 at position 1"):
        ctc_alpha(lp, [1, 0])
    with pytest.raises(ShapeError, match=r"target must be 1-d"):
        ctc_beta(lp, [[1]])
    with pytest.raises(ShapeError, match=r"log_probs is empty along axis 0 \(T=0\)"):
        ctc_alpha(np.zeros((0, 3)), [1])


def test_gradient_version_names_logits():
    with pytest.raises(ValueError, match=r"logits contains NaN"):
        ctc_loss_and_grad(np.full((2, 1, 3), np.nan), np.array([[1]]), [2], [1])


# ------------------------------------------------------------------ PyTorch's numbers

def test_matches_pytorch_reference_values():
    """Loss ('none') and gradient w.r.t. logits stored by tests/reference/make_ctc_reference.py."""
    if not REF.is_file():
        pytest.skip(f"no PyTorch reference file {REF.name}: run tests/reference/make_ctc_reference.py")
    with np.load(REF, allow_pickle=False) as r:
        ref = {k: r[k] for k in r.files}
    kw = dict(targets=ref["targets"], input_lengths=ref["input_lengths"],
              target_lengths=ref["target_lengths"])
    losses = ctc_loss(np.asarray(labrnn.log_softmax(ref["logits"])), reduction="none", **kw)
    np.testing.assert_allclose(losses, ref["loss_none"], rtol=1e-10)
    mean, d = ctc_loss_and_grad(ref["logits"], reduction="mean", **kw)
    assert abs(float(mean) - float(ref["loss_mean"])) < 1e-10 * float(ref["loss_mean"])
    np.testing.assert_allclose(d, ref["grad_logits_mean"], rtol=0, atol=1e-12)
