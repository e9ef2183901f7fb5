"""Sentiment classification with a recurrent encoder, many-to-one (book chapter 14).

The model of equation ``sentiment-model``; the bag-of-words baseline of equation
``bow-logistic`` is fitted in the chapter with scikit-learn.

The model reads a sentence's word ids ``w_1..w_L`` and outputs the probability that it
is positive::

    e_t = E[w_t]                                   embedding        (T, B, De)
    s   = RNN(e_1..e_L)                            many-to-one: the state at the sentence's
                                                   own last word (B, H), or for a
                                                   bidirectional layer [->h_L ; <-h_1] (B, 2H)
    p   = sigmoid(w_y . s + b_y)                   P(positive)      (B,)

trained with the binary cross-entropy (:func:`labrnn.binary_cross_entropy`) and Adam,
dropout on the embeddings, gradient clipping, and early stopping on the validation
accuracy. Padded batches run with ``lengths``, so padding never changes a result.
The training set is the training split plus its rule-based negation augmentation
(:func:`labrnn.datasets.sentiment.negate_augment`, all :data:`NEGATION_FORMS` by
default; ``--forms not`` gives the basic rule alone, ``--no-augment`` none).

Command line (one checkpoint per seed under ``--out``, a JSON log beside each)::

    python -m labrnn.apps.sentiment train --cell gru --bidirectional --seeds 0 1 2 3 4 \\
        --out checkpoints/sentiment

Evaluation (:func:`predict_proba`) runs in float64 whatever the training dtype, in a
fixed batch order, so a committed checkpoint's accuracies are reproducible exactly.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ..layers.activations import sigmoid
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..datasets.sentiment import (NEGATION_FORMS, Vocabulary, data_files, load_splits,
                                  negate_augment, negation_probe)
from ..layers.embedding import embedding_backward, embedding_forward, init_embedding
from ..layers.init import glorot_uniform
from ..layers.affine import affine_backward, affine_forward
from ..training.losses import binary_cross_entropy
from ..training.optim import Adam, clip_by_global_norm
from ..models.recurrent import recurrent_forward
from ..models.stacked import dropout_mask
from .text import (EarlyStopping, encoder_backward, encoder_forward, encoder_width,
                   init_encoder, length_batches, pad_ids)

__all__ = ["DEFAULTS", "prepare_data", "init_classifier", "classifier_forward",
           "classifier_backward", "predict_proba", "prefix_probabilities", "accuracy",
           "train", "evaluate", "load_classifier", "main"]

DEFAULTS = dict(cell="gru", bidirectional=False, embed=32, hidden=48, dropout=0.3,
                lr=3e-3, clip=5.0, batch_size=32, max_epochs=20, patience=4, seed=0,
                augment=True, forms=list(NEGATION_FORMS), min_count=2, dtype="float32",
                max_steps=None)


def prepare_data(augment=True, min_count=2, forms=NEGATION_FORMS):
    """The split, the probe and the vocabulary: a dict with token lists and labels.

    Keys ``train``, ``valid``, ``test``, ``probe`` (each ``(tokens, labels)``),
    ``augmented`` (the augmentation's ``(tokens, labels)``, empty without ``augment``;
    ``forms`` are the negation forms of
    :func:`~labrnn.datasets.sentiment.negate_augment`, by default all of them),
    ``vocab`` (:class:`~labrnn.datasets.sentiment.Vocabulary` of the training split plus
    the augmentation). The augmentation never produces a probe sentence.
    """
    splits = load_splits()
    probe_tokens, probe_labels, _ = negation_probe()
    train_tokens, train_labels = splits["train"][0], splits["train"][1]
    aug = (negate_augment(train_tokens, train_labels, seed=0, exclude=probe_tokens,
                          forms=tuple(forms)) if augment else ([], []))
    vocab = Vocabulary(train_tokens + aug[0], min_count=min_count)
    return {"train": (train_tokens, train_labels), "valid": splits["valid"][:2],
            "test": splits["test"][:2], "probe": (probe_tokens, probe_labels),
            "augmented": aug, "vocab": vocab}


def init_classifier(V, embed, hidden, *, cell="gru", bidirectional=False, seed=0,
                    dtype="float32"):
    """Parameters ``emb (V, De)``, ``enc.*`` (the recurrent layer), ``W_y (1, F)``, ``b_y (1,)``."""
    params = {"emb": init_embedding(V, embed, seed=[seed, 0], dtype=dtype)}
    enc = init_encoder(cell, embed, hidden, bidirectional, seed=[seed, 1], dtype=dtype)
    params.update({"enc." + k: v for k, v in enc.items()})
    F = encoder_width(hidden, bidirectional)
    params["W_y"] = glorot_uniform((1, F), np.random.default_rng([seed, 2])).astype(dtype)
    params["b_y"] = np.zeros(1, dtype=dtype)
    return params


def _enc(params):
    return {k[4:]: v for k, v in params.items() if k.startswith("enc.")}


def classifier_forward(params, ids, lengths, *, cell, bidirectional, dropout=0.0,
                       rng=None):
    """Logits ``(B,)`` of a padded batch ``ids (T, B)`` with ``lengths (B,)``; ``(logits, cache)``.

    With ``dropout > 0`` an inverted-dropout mask drawn from ``rng`` multiplies the
    embeddings (training only).
    """
    e, emb_cache = embedding_forward(ids, params["emb"])
    mask = None
    if dropout > 0:
        mask = dropout_mask(e.shape, dropout, rng, e)
        e = e * mask
    s, enc_cache = encoder_forward(e, _enc(params), cell=cell, bidirectional=bidirectional,
                                   lengths=lengths, return_sequences=False)
    z, out_cache = affine_forward(s, params["W_y"], params["b_y"])
    return z[:, 0], (emb_cache, mask, enc_cache, out_cache)


def classifier_backward(dlogits, cache):
    """Gradients of every parameter from ``dlogits (B,)``."""
    emb_cache, mask, enc_cache, out_cache = cache
    ds, dW, db = affine_backward(dlogits[:, None], out_cache)
    de, g_enc = encoder_backward(ds, enc_cache)
    if mask is not None:
        de = de * mask
    grads = {"enc." + k: v for k, v in g_enc.items()}
    grads.update(emb=embedding_backward(de, emb_cache), W_y=dW, b_y=db)
    return grads


def predict_proba(params, sentences, vocab, *, cell, bidirectional, batch_size=64):
    """P(positive) of each token list, computed in float64 in a fixed order: array (N,)."""
    p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    ids = [vocab.ids(s) for s in sentences]
    out = np.empty(len(ids))
    for batch in length_batches([len(s) for s in ids], batch_size):
        x, lengths = pad_ids([ids[i] for i in batch])
        z, _ = classifier_forward(p64, x, lengths, cell=cell, bidirectional=bidirectional)
        out[batch] = sigmoid(z)
    return out


def prefix_probabilities(params, tokens, vocab, *, cell):
    """A UNIDIRECTIONAL model's P(positive) after each word of ``tokens``: array (L,).

    Entry ``t`` is ``sigmoid(w_y . h_t + b_y)``, what the model would answer if the
    sentence stopped after word ``t``; the last entry is its prediction.
    """
    if "enc.fw.W_x" in params or "enc.fw.W_xh" in params:
        raise ValueError("prefix_probabilities needs a unidirectional model: a bidirectional "
                         "layer's state at step t has already read the words after t")
    p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    x, _ = pad_ids([vocab.ids(tokens)])
    e, _ = embedding_forward(x, p64["emb"])
    h, _ = recurrent_forward(e, _enc(p64), cell=cell)
    z, _ = affine_forward(h[:, 0, :], p64["W_y"], p64["b_y"])
    return sigmoid(z[:, 0])


def accuracy(probabilities, labels):
    """Fraction of ``probabilities > 0.5`` that agree with the 0/1 ``labels``."""
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    return float(np.mean((probabilities > 0.5) == (labels == 1)))


def evaluate(params, data, config):
    """Accuracies and correct counts on ``valid``, ``test`` and ``probe`` (float64)."""
    kw = dict(cell=config["cell"], bidirectional=config["bidirectional"])
    out = {}
    for split in ("valid", "test", "probe"):
        tokens, labels = data[split]
        p = predict_proba(params, tokens, data["vocab"], **kw)
        correct = int(np.sum((p > 0.5) == (np.asarray(labels) == 1)))
        out[f"{split}_correct"], out[f"{split}_n"] = correct, len(labels)
        out[f"{split}_accuracy"] = correct / len(labels)
    return out


def train(config=None, data=None, progress=True, log_every_epoch=None):
    """Train one model; returns ``(best_params, log)``.

    ``config`` overrides :data:`DEFAULTS`. The training set is the training split plus,
    with ``augment``, its negation augmentation. After each epoch the validation
    accuracy (float64) decides early stopping; ``max_steps`` (optional) stops after that
    many updates (for tests). ``log`` holds the configuration and one record per epoch.
    """
    cfg = {**DEFAULTS, **(config or {})}
    data = (prepare_data(cfg["augment"], cfg["min_count"], cfg["forms"]) if data is None
            else data)
    vocab = data["vocab"]
    tokens = data["train"][0] + data["augmented"][0]
    labels = np.asarray(data["train"][1] + data["augmented"][1], dtype=np.float64)
    ids = [vocab.ids(s) for s in tokens]
    params = init_classifier(len(vocab), cfg["embed"], cfg["hidden"], cell=cfg["cell"],
                             bidirectional=cfg["bidirectional"], seed=cfg["seed"],
                             dtype=cfg["dtype"])
    opt = Adam(lr=cfg["lr"])
    rng = np.random.default_rng([cfg["seed"], 3])
    stopper = EarlyStopping(cfg["patience"])
    log = {"config": cfg, "epochs": []}
    kw = dict(cell=cfg["cell"], bidirectional=cfg["bidirectional"])
    step, t0 = 0, time.perf_counter()
    for epoch in range(cfg["max_epochs"]):
        batches = length_batches([len(s) for s in ids], cfg["batch_size"], rng)
        if progress:
            from tqdm import tqdm
            batches = tqdm(batches, desc=f"epoch {epoch + 1}", leave=False)
        losses = []
        for batch in batches:
            x, lengths = pad_ids([ids[i] for i in batch])
            z, cache = classifier_forward(params, x, lengths, dropout=cfg["dropout"],
                                          rng=rng, **kw)
            y = labels[batch].astype(z.dtype)
            loss, dz = binary_cross_entropy(z, y)
            grads, _ = clip_by_global_norm(classifier_backward(dz, cache), cfg["clip"])
            opt.step(params, grads)
            losses.append(float(loss))
            step += 1
            if cfg["max_steps"] and step >= cfg["max_steps"]:
                break
        valid = accuracy(predict_proba(params, *data["valid"][:1], vocab, **kw),
                         data["valid"][1])
        record = {"epoch": epoch + 1, "steps": step, "train_loss": float(np.mean(losses)),
                  "valid_accuracy": valid, "wall_s": round(time.perf_counter() - t0, 1)}
        log["epochs"].append(record)
        if log_every_epoch:
            log_every_epoch(record)
        stop = stopper.update(valid, params)
        if stop or (cfg["max_steps"] and step >= cfg["max_steps"]):
            break
    log["best_epoch"] = stopper.best_epoch + 1
    log["wall_time_s"] = time.perf_counter() - t0
    return stopper.best_params, log


def load_classifier(path):
    """A committed checkpoint: ``(params, config, vocab, meta)``."""
    params, meta = load_checkpoint(path)
    return params, meta["config"], Vocabulary.from_words(meta["vocab"]), meta


def main(argv=None):
    """Command-line entry: ``train`` (one checkpoint per seed) or ``evaluate`` (print metrics)."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.sentiment",
                                 description="Train or evaluate the chapter-14 sentiment model.")
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train one model per seed, write checkpoints and logs")
    tr.add_argument("--cell", default=DEFAULTS["cell"], choices=["gru", "lstm", "elman"])
    tr.add_argument("--bidirectional", action="store_true")
    tr.add_argument("--no-augment", dest="augment", action="store_false")
    tr.add_argument("--forms", nargs="+", default=DEFAULTS["forms"], choices=NEGATION_FORMS,
                    help="negation forms of the augmentation (default: all)")
    for name in ("embed", "hidden", "batch_size", "max_epochs", "patience", "max_steps"):
        tr.add_argument("--" + name.replace("_", "-"), type=int, default=DEFAULTS[name])
    for name in ("dropout", "lr", "clip"):
        tr.add_argument("--" + name, type=float, default=DEFAULTS[name])
    tr.add_argument("--seeds", type=int, nargs="+", default=[0])
    tr.add_argument("--out", default="checkpoints/sentiment")
    tr.add_argument("--name", default=None, help="file stem (default: cell, direction)")
    ev = sub.add_parser("evaluate", help="recompute a checkpoint's metrics")
    ev.add_argument("checkpoint")
    args = ap.parse_args(argv)
    if args.command == "evaluate":
        params, config, vocab, meta = load_classifier(args.checkpoint)
        data = prepare_data(config["augment"], config["min_count"],
                            config.get("forms", ["not"]))
        print(json.dumps(evaluate(params, data, config), indent=2))
        return 0
    cfg = {k: getattr(args, k) for k in ("cell", "bidirectional", "augment", "forms", "embed",
                                         "hidden", "batch_size", "max_epochs", "patience",
                                         "max_steps", "dropout", "lr", "clip")}
    data = prepare_data(cfg["augment"], DEFAULTS["min_count"], cfg["forms"])
    stem = args.name or (("bi" if cfg["bidirectional"] else "uni") + cfg["cell"])
    for seed in args.seeds:
        params, log = train({**cfg, "seed": seed}, data=data,
                            log_every_epoch=lambda r: print(json.dumps(r), flush=True))
        metrics = evaluate(params, data, log["config"])
        path = Path(args.out) / f"{stem}_seed{seed}"
        save_checkpoint(path, params, config=log["config"], metrics=metrics,
                        data_files=data_files(), wall_time_s=log["wall_time_s"],
                        extra={"vocab": data["vocab"].words, "best_epoch": log["best_epoch"]})
        log["metrics"] = metrics
        Path(str(path) + ".log.json").write_text(json.dumps(log, indent=1) + "\n")
        print(f"{path}: {json.dumps(metrics)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
