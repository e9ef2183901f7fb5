"""labrnn.apps.sentiment: gradients, a short training run, and the committed checkpoints."""

import json
from pathlib import Path

import numpy as np
import pytest

from labrnn import binary_cross_entropy, gradcheck
from labrnn.apps import sentiment as A
from labrnn.apps.text import EarlyStopping, length_batches, pad_ids

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = sorted((ROOT / "checkpoints" / "sentiment").glob("*.npz"))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_classifier_gradients(cell, bidirectional):
    params = A.init_classifier(7, 3, 4, cell=cell, bidirectional=bidirectional, seed=1,
                               dtype="float64")
    params["emb"] = 10 * params["emb"]          # larger inputs: gradients above rounding noise
    ids, lengths = pad_ids([[2, 3, 4, 5], [6, 2], [3]])
    y = np.array([1.0, 0.0, 1.0])
    kw = dict(cell=cell, bidirectional=bidirectional)

    def loss(p):
        z, _ = A.classifier_forward(p, ids, lengths, **kw)
        return binary_cross_entropy(z, y)[0]

    z, cache = A.classifier_forward(params, ids, lengths, **kw)
    grads = A.classifier_backward(binary_cross_entropy(z, y)[1], cache)
    assert set(grads) == set(params)
    gradcheck(loss, params, grads).assert_ok(1e-7)
    padded = np.flatnonzero(np.abs(grads["emb"][0]) > 0)
    assert padded.size == 0                                   # the padding id gets no gradient


def test_padding_does_not_change_a_prediction():
    params = A.init_classifier(7, 3, 4, bidirectional=True, seed=2, dtype="float64")
    alone, _ = A.classifier_forward(params, *pad_ids([[2, 3]]), cell="gru", bidirectional=True)
    batch, _ = A.classifier_forward(params, *pad_ids([[2, 3], [4, 5, 6, 6, 5]]), cell="gru",
                                    bidirectional=True)
    np.testing.assert_allclose(batch[0], alone[0], rtol=1e-13)


def test_a_few_training_steps_lower_the_loss():
    full = A.prepare_data()
    small = {**full, "train": (full["train"][0][:200], full["train"][1][:200]),
             "augmented": ([], [])}                          # 7 passes over 200 sentences
    cfg = {**A.DEFAULTS, "max_steps": 50, "max_epochs": 10, "hidden": 16, "embed": 16,
           "lr": 1e-2, "dropout": 0.0, "seed": 0, "patience": 10}
    params, log = A.train(cfg, data=small, progress=False)
    assert log["epochs"][-1]["steps"] == 50
    tokens, labels = small["train"][0], np.array(small["train"][1], dtype=float)

    def loss(p):
        prob = A.predict_proba(p, tokens, full["vocab"], cell="gru", bidirectional=False)
        return -np.mean(labels * np.log(prob) + (1 - labels) * np.log(1 - prob))

    before = loss(A.init_classifier(len(full["vocab"]), 16, 16, seed=0))
    assert abs(before - np.log(2)) < 0.05                   # a fresh model says about 1/2
    assert loss(params) < before - 0.2


def test_prefix_probabilities_refuses_a_bidirectional_model():
    data = A.prepare_data()
    params = A.init_classifier(len(data["vocab"]), 4, 4, bidirectional=True)
    with pytest.raises(ValueError, match="needs a unidirectional model"):
        A.prefix_probabilities(params, ["good"], data["vocab"], cell="gru")
    uni = A.init_classifier(len(data["vocab"]), 4, 4, seed=3)
    p = A.prefix_probabilities(uni, ["the", "food", "was", "good"], data["vocab"], cell="gru")
    last = A.predict_proba(uni, [["the", "food", "was", "good"]], data["vocab"], cell="gru",
                           bidirectional=False)
    assert p.shape == (4,)
    np.testing.assert_allclose(p[-1], last[0], rtol=1e-12)


def test_helpers():
    assert [list(b) for b in length_batches([3, 1, 2, 1], 2)] == [[1, 3], [2, 0]]
    rng = np.random.default_rng(0)
    assert sorted(np.concatenate(length_batches([3, 1, 2, 1, 5], 2, rng))) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_ids([[1], []])
    with pytest.raises(ValueError, match="batch_size must be >= 1, received 0"):
        length_batches([1], 0)
    stop = EarlyStopping(2)
    p = {"w": np.zeros(1)}
    assert not stop.update(0.5, p) and not stop.update(0.4, p) and stop.update(0.45, p)
    assert stop.best == 0.5 and stop.best_epoch == 0
    with pytest.raises(ValueError, match="patience must be >= 1, received 0"):
        EarlyStopping(0)


def test_checkpoints_are_committed():
    names = sorted(p.stem for p in CHECKPOINTS)
    assert names == [f"{d}gru_seed{s}" for d in ("bi", "uni") for s in range(5)], names


@pytest.fixture(scope="module")
def data():
    return A.prepare_data()


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.stem)
def test_checkpoint_recomputes_its_stored_metrics(path, data):
    params, config, vocab, meta = A.load_classifier(path.with_suffix(""))
    assert vocab.words == data["vocab"].words
    got = A.evaluate(params, data, config)
    assert got == meta["metrics"]
    log = json.loads(path.with_suffix(".log.json").read_text())
    assert log["metrics"] == meta["metrics"] and log["best_epoch"] == meta["best_epoch"]


def test_checkpoints_were_trained_with_every_negation_form():
    from labrnn.datasets.sentiment import NEGATION_FORMS
    for path in CHECKPOINTS:
        meta = json.loads(path.with_suffix(".json").read_text())
        assert meta["config"]["forms"] == list(NEGATION_FORMS), path.stem
    ablation = ROOT / "checkpoints" / "sentiment" / "ablation"
    for prefix, forms in (("forms_no_opinion_unigru", ["not", "never", "not-at-all", "verb"]),
                          ("forms_not_opinion_unigru", ["not", "opinion"])):
        for seed in range(5):
            log = json.loads((ablation / f"{prefix}_seed{seed}.log.json").read_text())
            assert log["config"]["forms"] == forms and log["config"]["seed"] == seed
            assert set(log["metrics"]) >= {"valid_correct", "test_correct", "probe_correct"}
