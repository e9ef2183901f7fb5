"""The chapter 18 training script (labrnn.apps.speech_ctc): its committed checkpoint, its training."""

import numpy as np
import pytest

from labrnn.apps import speech_ctc as S
from labrnn.datasets.fsdd import FSDD
from labrnn.training.gradcheck import gradcheck
from labrnn.training.optim import Adam


@pytest.fixture(scope="module")
def ds():
    return FSDD()


def test_stack_frames_pairs_frames_and_repeats_each_last_frame():
    X = np.arange(10, dtype=float).reshape(5, 2, 1)          # X[t, b] = 2t + b
    Xs, L = S.stack_frames(X, np.array([5, 3]))
    assert Xs.shape == (3, 2, 2) and L.tolist() == [3, 2]
    assert Xs[:, 0, :].tolist() == [[0, 2], [4, 6], [8, 8]]
    assert Xs[:2, 1, :].tolist() == [[1, 3], [5, 5]]


def test_splits_are_disjoint_and_the_unseen_speaker_is_unseen(ds):
    sp = S.splits(ds)
    assert {k: len(v) for k, v in sp.items()} == {"train": 2000, "val": 250, "test": 250,
                                                  "unseen": 500}
    sets = [set(v.tolist()) for v in sp.values()]
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])
    assert set(ds.speaker_name[sp["unseen"]]) == {S.UNSEEN_SPEAKER}
    assert S.UNSEEN_SPEAKER not in set(ds.speaker_name[np.concatenate([sp["train"], sp["val"]])])


def test_batches_have_equal_lengths_and_right_targets(ds):
    X, L, Y, tl = S.make_batch(ds, S.splits(ds)["train"], np.random.default_rng(0), 4, n_digits=3)
    assert X.shape[1:] == (4, 32) and (L == X.shape[0]).all()
    assert tl.tolist() == [3, 3, 3, 3] and Y.min() >= 1 and Y.max() <= 10


def test_model_gradient_is_correct(ds):
    X, L, Y, tl = S.make_batch(ds, S.splits(ds)["train"], np.random.default_rng(1), 2, n_digits=2)
    X, L = X[:30], np.array([30, 24])
    p = S.init_model(np.zeros(32), np.ones(32) * 3, hidden=3, seed=0, dtype="float64")
    _, grads = S.loss_and_grads(p, (X, L, Y, tl))

    def f(inp):
        return S.loss_and_grads({**p, **inp}, (X, L, Y, tl))[0]

    names = ["W_hy", "b_y", "rnn.fw.W_h", "rnn.bw.b"]
    gradcheck(f, {k: p[k] for k in names}, {k: grads[k] for k in names}).assert_ok(1e-6)


def test_a_few_training_steps_lower_the_loss(ds):
    rng = np.random.default_rng(0)
    batch = S.make_batch(ds, S.splits(ds)["train"], rng, 8, n_digits=2)
    p = S.init_model(np.zeros(32) - 5, np.ones(32) * 3, hidden=8, seed=0, dtype="float64")
    first, _ = S.loss_and_grads(p, batch)
    opt = Adam(lr=1e-2)
    for _ in range(10):
        _, g = S.loss_and_grads(p, batch)
        tr = {k: p[k] for k in g}
        opt.step(tr, g)
        p.update(tr)
    last, _ = S.loss_and_grads(p, batch)
    assert last < 0.7 * first, (first, last)


def test_committed_checkpoint_reproduces_its_test_metrics(ds):
    params, meta = S.load_model()
    cfg = meta["config"]
    assert cfg["unseen_speaker"] == S.UNSEEN_SPEAKER
    sets = S.eval_sets(ds, cfg)
    for name in ("test", "unseen"):
        m = S.evaluate(params, sets[name], cfg["cell"], "greedy")
        stored = meta["metrics"][f"{name}_greedy"]
        for k in ("edits", "digits", "correct", "strings"):
            assert m[k] == stored[k], (name, k, m[k], stored[k])


def test_decode_refuses_an_unknown_method(ds):
    params, meta = S.load_model()
    with pytest.raises(ValueError, match="method must be 'greedy' or 'beam', received 'viterbi'"):
        S.decode(params, [], method="viterbi")


def test_window_baseline_gradient_is_correct_and_padding_free(ds):
    X, L, Y, tl = S.make_batch(ds, S.splits(ds)["train"], np.random.default_rng(1), 2, n_digits=2)
    X, L = X[:30], np.array([30, 24])
    p = S.init_model(np.zeros(32), np.ones(32) * 3, hidden=5, cell="mlp", seed=0, dtype="float64")
    _, grads = S.loss_and_grads(p, (X, L, Y, tl), cell="mlp")

    def f(inp):
        return S.loss_and_grads({**p, **inp}, (X, L, Y, tl), cell="mlp")[0]

    names = ["mlp.W", "mlp.b", "W_hy", "b_y"]
    gradcheck(f, {k: p[k] for k in names}, {k: grads[k] for k in names}).assert_ok(1e-6)
    # A sequence's logits do not depend on the padding of the batch it is in.
    z_batch, Ls, _ = S.model_logits(p, X, L, cell="mlp")
    z_alone, _, _ = S.model_logits(p, X[:24, 1:2], L[1:], cell="mlp")
    assert np.allclose(z_batch[:Ls[1], 1], z_alone[:, 0], rtol=1e-12, atol=1e-12)


def test_window_frames_sees_its_neighbours_and_zeros_beyond_the_ends():
    x = np.arange(1.0, 7.0).reshape(3, 2, 1)           # x[t, b] = 2t + b + 1
    w = S.window_frames(x, np.array([3, 2]), k=1)
    assert w.shape == (3, 2, 3)
    assert w[:, 0, :].tolist() == [[0, 1, 3], [1, 3, 5], [3, 5, 0]]
    assert w[:2, 1, :].tolist() == [[0, 2, 4], [2, 4, 0]]  # step 2 of sequence 1 is padding


def test_committed_baseline_reproduces_its_test_metrics(ds):
    params, meta = S.load_model(S.CHECKPOINT.with_name("mlp"))
    cfg = meta["config"]
    assert cfg["cell"] == "mlp"
    sets = S.eval_sets(ds, cfg)
    for name in ("test", "unseen"):
        m = S.evaluate(params, sets[name], cfg["cell"], "greedy")
        stored = meta["metrics"][f"{name}_greedy"]
        for k in ("edits", "digits", "correct", "strings"):
            assert m[k] == stored[k], (name, k, m[k], stored[k])
