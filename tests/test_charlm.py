"""Chapter 13's character language model: gradients, training, the committed checkpoint."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import labrnn
from labrnn.apps import charlm
from labrnn.training.checkpoint import file_sha256
from labrnn.lab.data import CharVocab
from labrnn.datasets import data_file, tinyshakespeare

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "checkpoints" / "charlm" / "lstm"


@pytest.mark.parametrize("layers,dropout", [(1, 0.0), (2, 0.3)])
def test_gradients_match_central_differences(layers, dropout):
    V = 7
    p = charlm.init_charlm(V, hidden=5, layers=layers, embed=3, seed=1, dtype="float64")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, size=(6, 3))
    state0 = [(labrnn.from_numpy(rng.normal(size=(3, 5))), labrnn.from_numpy(rng.normal(size=(3, 5))))
              for _ in range(layers)]

    def f(q):      # the same dropout masks at every evaluation: a fresh generator, same seed
        return charlm.loss_and_grads(q, ids, state0, dropout, np.random.default_rng(5))[0]

    _, grads, _ = charlm.loss_and_grads(p, ids, state0, dropout, np.random.default_rng(5))
    labrnn.gradcheck(f, p, grads).assert_ok(1e-6)


def test_streams_are_contiguous_and_time_major():
    s = charlm.streams(np.arange(23), 4)                # 5 characters per stream, 3 dropped
    assert s.shape == (5, 4)
    np.testing.assert_array_equal(s[:, 1], np.arange(5, 10))
    with pytest.raises(ValueError, match="ids must be 1-d"):
        charlm.streams(np.zeros((2, 2), dtype=int), 2)
    with pytest.raises(ValueError, match="too few for 8 streams"):
        charlm.streams(np.arange(10), 8)


def test_evaluate_carries_the_state_like_one_long_pass():
    """Chunked evaluation with a carried state equals one forward pass over each stream."""
    V = 6
    p = charlm.init_charlm(V, hidden=4, embed=3, seed=2, dtype="float64")
    ids = np.random.default_rng(1).integers(0, V, size=61)
    chunked = charlm.evaluate(p, ids, B=3, chunk=7)
    data = charlm.streams(ids, 3)
    logits, _, _ = charlm.charlm_forward(p, data[:-1])
    loss, _ = labrnn.softmax_cross_entropy(logits, data[1:])
    assert abs(chunked - float(loss)) < 1e-12


def test_a_few_training_steps_lower_the_loss(tmp_path):
    small = tmp_path / "small.txt"          # the first 60,000 characters: 48k train, 6k val, 6k test
    small.write_text(tinyshakespeare.load_text()[:60_000])
    _, log = charlm.train(hidden=24, embed=8, T=16, B=8, steps=60, lr=1e-2, warmup=5,
                          eval_every=20, sample_at=[10], out=tmp_path / "m", progress=False,
                          test_slice=400, text_path=small)
    losses = [v for _, v in log["train"]]
    assert losses[-1] < losses[0] - 0.3, losses
    assert log["val"][-1][1] < log["val"][0][1]
    assert {s["step"] for s in log["samples"]} >= {10}
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["metrics"]["test_nats"] == pytest.approx(log["metrics"]["test_nats"])
    assert json.loads((tmp_path / "log.json").read_text())["best_step"] == log["best_step"]
    # continuing from the checkpoint counts updates on and keeps the first run's log
    _, log2 = charlm.train(hidden=24, embed=8, T=16, B=8, steps=20, lr=5e-3, warmup=5,
                           eval_every=10, out=tmp_path / "run2" / "m", progress=False,
                           test_slice=400, init=tmp_path / "m", text_path=small)
    assert log2["val"][0][0] == log["best_step"] + 10
    assert log2["previous"]["best_step"] == log["best_step"]
    assert log2["metrics"]["val_nats"] <= meta["metrics"]["val_nats"] + 1e-6
    with pytest.raises(ValueError, match="does not match hidden=12"):
        charlm.train(hidden=12, embed=8, steps=1, out=None, progress=False, init=tmp_path / "m",
                     text_path=small)


def test_sampling_is_seeded_and_uses_the_vocabulary():
    vocab = CharVocab("abcde\n")
    p = charlm.init_charlm(len(vocab), hidden=6, embed=3, seed=0)
    a = charlm.sample_text(p, vocab, prompt="ab", length=30, seed=3, temperature=0.8, top_k=3)
    b = charlm.sample_text(p, vocab, prompt="ab", length=30, seed=3, temperature=0.8, top_k=3)
    assert a == b and len(a) == 30 and set(a) <= set(vocab.chars)
    with pytest.raises(ValueError, match="prompt must hold at least one character"):
        charlm.sample_text(p, vocab, prompt="")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"hidden must be a positive int, received 0"):
        charlm.init_charlm(5, hidden=0)
    p = charlm.init_charlm(5, hidden=3, embed=2)
    with pytest.raises(ValueError, match=r"state must hold one \(h, c\) pair per layer \(1\), received 2"):
        charlm.charlm_forward(p, np.zeros((2, 1), dtype=int), state=[None, None])
    with pytest.raises(ValueError, match="dropout > 0 needs rng"):
        charlm.charlm_forward(p, np.zeros((2, 1), dtype=int), dropout=0.5)
    with pytest.raises(KeyError, match="no LSTM layer"):
        charlm.charlm_forward({"E": p["E"]}, np.zeros((2, 1), dtype=int))


def test_committed_checkpoint_reproduces_its_stored_test_metric():
    params, vocab, meta = charlm.load_model(CKPT)
    assert meta["data"]["input.txt"] == file_sha256(data_file(*tinyshakespeare.TEXT_FILE))
    m = meta["metrics"]
    test = vocab.encode(tinyshakespeare.load_splits()[2])
    sl = charlm.evaluate(params, test[:m["test_slice_chars"]], B=m["test_slice_B"])
    assert abs(sl - m["test_slice_nats"]) < 1e-9 * m["test_slice_nats"]
    assert m["test_bpc"] == pytest.approx(m["test_nats"] / math.log(2), rel=1e-12)
    assert m["test_perplexity"] == pytest.approx(math.exp(m["test_nats"]), rel=1e-12)
    assert (CKPT.parent / "log.json").is_file()
