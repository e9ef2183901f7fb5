"""labrnn.apps.postag: the baseline, gradients, a short training run, the committed checkpoints."""

import json
from pathlib import Path

import numpy as np
import pytest

from labrnn import gradcheck, softmax_cross_entropy
from labrnn.apps import postag as P
from labrnn.apps.text import pad_ids
from labrnn.datasets.ud import UPOS, load_ud_splits

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = sorted((ROOT / "checkpoints" / "postag").glob("*.npz"))
SENTS = [(["The", "cat", "sat", "."], ["DET", "NOUN", "VERB", "PUNCT"]),
         (["Cats", "sat", "2", "days"], ["NOUN", "VERB", "NUM", "NOUN"]),
         (["the", "dog", "ran"], ["DET", "NOUN", "VERB"])]


def test_word_shape():
    assert [P.word_shape(w) for w in ["12", "3.5", "...", "Bush", "cat", "e-mail"]] == [
        "num", "num", "punct", "cap", "lower", "other"]


def test_most_frequent_tag_and_its_fallback():
    b = P.MostFrequentTag(SENTS)
    assert b.tag(["the", "THE", "sat", "Cats"]) == ["DET", "DET", "VERB", "NOUN"]
    assert b.tag_word("pan") == "VERB"         # unseen: lower case, ending "an" like "ran"
    assert b.tag_word("bats") == "NOUN"        # no suffix match: the commonest lower-case tag
    assert b.tag_word("17") == "NUM" and b.tag_word("!") == "PUNCT"
    assert b.tag_word("Xyzzy") == "DET"        # capitalised: "The" DET and "Cats" NOUN tie
    tie = P.MostFrequentTag([(["run", "run"], ["VERB", "NOUN"])])
    assert tie.tag_word("run") == "NOUN"       # a tie goes to the first tag in UPOS order


@pytest.mark.parametrize("bidirectional", [False, True])
def test_tagger_gradients(bidirectional):
    vocab = P.TaggerVocab.from_sentences(SENTS)
    cfg = {**P.DEFAULTS, "word_embed": 3, "char_embed": 2, "char_hidden": 2, "hidden": 3,
           "bidirectional": bidirectional, "dtype": "float64", "seed": 5, "max_chars": 4}
    params = P.init_tagger(len(vocab.words), len(vocab.chars), cfg)
    params["emb"], params["cemb"] = 10 * params["emb"], 10 * params["cemb"]
    words = [ws for ws, _ in SENTS[:2]] + [["unseen", "dog"]]
    ids, lengths, forms, uidx = P.batch_arrays(words, vocab, cfg)
    targets, _ = pad_ids([[UPOS.index(t) for t in ts] for _, ts in SENTS[:2]] + [[7, 7]])
    mask = np.arange(ids.shape[0])[:, None] < lengths[None, :]

    def loss(p):
        z, _ = P.tagger_forward(p, ids, lengths, forms, uidx, vocab, cfg)
        return softmax_cross_entropy(z, targets, mask=mask)[0]

    z, cache = P.tagger_forward(params, ids, lengths, forms, uidx, vocab, cfg)
    grads = P.tagger_backward(softmax_cross_entropy(z, targets, mask=mask)[1], cache, params, cfg)
    assert set(grads) == set(params)
    gradcheck(loss, params, grads).assert_ok(1e-7)


def test_tag_accuracy_and_confusion():
    vocab = P.TaggerVocab.from_sentences(SENTS[:1])
    pred = [["DET", "NOUN", "NOUN", "PUNCT"], ["NOUN", "VERB", "NUM", "VERB"]]
    acc = P.tag_accuracy(pred, SENTS[:2], vocab)
    assert (acc["correct"], acc["n"]) == (6, 8)
    assert (acc["unseen_correct"], acc["unseen_n"]) == (2, 3)     # Cats, 2, days are unseen
    m = P.confusion_counts(pred, SENTS[:2])
    assert m.sum() == 8 and np.trace(m) == 6
    assert m[UPOS.index("VERB"), UPOS.index("NOUN")] == 1
    with pytest.raises(ValueError, match="predicted has 1 sentences, sentences has 2"):
        P.tag_accuracy(pred[:1], SENTS[:2])
    with pytest.raises(ValueError, match="3 tags for 4 words"):
        P.tag_accuracy([pred[0][:3]], SENTS[:1])


def test_a_few_training_steps_lower_the_loss():
    sp = load_ud_splits()
    small = {"train": sp["train"][:320], "valid": sp["valid"][:40]}
    cfg = {**P.DEFAULTS, "max_steps": 10, "max_epochs": 1, "hidden": 16, "word_embed": 16,
           "char_hidden": 8, "dropout": 0.0, "word_dropout": 0.0, "lr": 1e-2}
    params, vocab, log = P.train(cfg, small, progress=False)
    assert log["epochs"][0]["steps"] == 10
    fixed = small["train"][:64]
    ids, lengths, forms, uidx = P.batch_arrays([w for w, _ in fixed], vocab, cfg)
    targets, _ = pad_ids([[UPOS.index(t) for t in ts] for _, ts in fixed])
    mask = np.arange(ids.shape[0])[:, None] < lengths[None, :]

    def loss(p):
        z, _ = P.tagger_forward(p, ids, lengths, forms, uidx, vocab, cfg)
        return float(softmax_cross_entropy(z, targets, mask=mask)[0])

    before = loss(P.init_tagger(len(vocab.words), len(vocab.chars), cfg))
    assert before > 2.5                                     # about ln 17 = 2.83 at the start
    assert loss(params) < before - 0.5


def test_checkpoints_are_committed():
    assert sorted(p.stem for p in CHECKPOINTS) == ["bigru", "unigru"]


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.stem)
def test_checkpoint_recomputes_its_stored_metrics(path):
    params, cfg, vocab, meta = P.load_tagger(path.with_suffix(""))
    splits = load_ud_splits()
    assert vocab.words == P.TaggerVocab.from_sentences(splits["train"]).words
    assert P.evaluate(params, vocab, cfg, splits) == meta["metrics"]
    log = json.loads(path.with_suffix(".log.json").read_text())
    assert log["metrics"] == meta["metrics"]
