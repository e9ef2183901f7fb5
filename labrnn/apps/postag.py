"""Part-of-speech tagging with a bidirectional recurrent tagger (book chapter 15).

The model of equation ``tagger-model``.

Many-to-many aligned: one tag (of the 17 UPOS tags) per word. For each word ``w_t``::

    c_t = [->g_{|w|} ; <-g_1]        a character BiGRU over the word's characters (B, 2Hc):
                                     spelling, suffixes, capitals -- works for unseen words
    u_t = [E[w_t] ; c_t]             word embedding (lower-cased word) and character vector
    y_t = [->h_t ; <-h_t]            a word-level recurrent layer over u_1..u_L (bi- or
                                     unidirectional), equation ``bidir-merge``
    P(tag_t) = softmax(W_y y_t + b_y)                                        (T, B, 17)

Training: masked softmax cross-entropy (padded steps do not count), Adam, gradient
clipping, dropout on ``u_t`` and ``y_t``, word dropout (a training word is replaced by
the unknown-word id with probability ``word_dropout``, so the unknown embedding is
trained and the model learns to lean on the characters), and early stopping on the
validation part of the dev file.

The baseline :class:`MostFrequentTag` gives each word its most frequent training tag
and falls back, for unseen words, on the word's shape and suffix.

Command line::

    python -m labrnn.apps.postag train --out checkpoints/postag --name bigru
    python -m labrnn.apps.postag train --unidirectional --name unigru
    python -m labrnn.apps.postag evaluate checkpoints/postag/bigru

NumPy on the host (a training script). The embedding gradients are accumulated with
``numpy.add.at`` (the scatter-add of equation ``embedding``), faster than the one-hot
product of :func:`labrnn.embedding_backward` for a vocabulary of thousands of words.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..datasets.ud import UPOS, load_ud_splits, ud_files
from ..layers.init import glorot_uniform
from ..layers.affine import affine_backward, affine_forward
from ..training.losses import softmax_cross_entropy
from ..training.optim import Adam, clip_by_global_norm
from ..models.stacked import dropout_mask
from .text import (EarlyStopping, encoder_backward, encoder_forward, encoder_width,
                   init_encoder, length_batches, pad_ids)

__all__ = ["DEFAULTS", "MostFrequentTag", "word_shape", "TaggerVocab", "init_tagger",
           "batch_arrays", "tagger_forward", "tagger_backward", "predict_tags", "tag_accuracy",
           "confusion_counts", "train", "evaluate", "load_tagger", "main"]

DEFAULTS = dict(cell="gru", bidirectional=True, word_embed=64, char_embed=16,
                char_hidden=32, hidden=64, dropout=0.25, word_dropout=0.1, lr=3e-3,
                clip=5.0, batch_size=32, max_epochs=30, patience=4, seed=0,
                max_chars=16, dtype="float32", max_steps=None, max_minutes=None)


# ---------------------------------------------------------------- baseline
def word_shape(word):
    """A coarse shape class of a word: ``"num"``, ``"punct"``, ``"cap"``, ``"lower"`` or ``"other"``."""
    if any(ch.isdigit() for ch in word) and all(ch.isdigit() or ch in ",.:/-" for ch in word):
        return "num"
    if all(not ch.isalnum() for ch in word):
        return "punct"
    if word[0].isupper():
        return "cap"
    if word.isalpha() and word.islower():
        return "lower"
    return "other"


class MostFrequentTag:
    """Most frequent tag of each word in training; unseen words by shape and suffix.

    A word seen in training (exact form, then lower-cased) gets its most frequent tag
    (ties broken by the order of :data:`~labrnn.datasets.ud.UPOS`). An unseen word gets
    the most frequent tag among training words of the same shape (:func:`word_shape`)
    and the same last three letters, else of the same shape and last two letters, else
    of the same shape.
    """

    def __init__(self, sentences):
        self.form, self.lower, self.backoff = {}, {}, {}
        form, lower, back = {}, {}, {}
        for words, tags in sentences:
            for w, t in zip(words, tags):
                form.setdefault(w, Counter())[t] += 1
                lower.setdefault(w.lower(), Counter())[t] += 1
                shape = word_shape(w)
                for key in ((shape, w[-3:].lower()), (shape, w[-2:].lower()), (shape,)):
                    back.setdefault(key, Counter())[t] += 1
        pick = self._argmax
        self.form = {w: pick(c) for w, c in form.items()}
        self.lower = {w: pick(c) for w, c in lower.items()}
        self.backoff = {k: pick(c) for k, c in back.items()}

    @staticmethod
    def _argmax(counter):
        return max(UPOS, key=lambda t: (counter.get(t, 0), -UPOS.index(t)))

    def tag_word(self, word):
        """The baseline's tag of one word."""
        if word in self.form:
            return self.form[word]
        if word.lower() in self.lower:
            return self.lower[word.lower()]
        shape = word_shape(word)
        for key in ((shape, word[-3:].lower()), (shape, word[-2:].lower()), (shape,)):
            if key in self.backoff:
                return self.backoff[key]
        return "NOUN"

    def tag(self, words):
        """Tags of a list of words."""
        return [self.tag_word(w) for w in words]


# ---------------------------------------------------------------- vocabularies
class TaggerVocab:
    """Ids of lower-cased words (0 pad, 1 unknown), of characters (0 pad, 1 unknown), of tags."""

    def __init__(self, words, chars):
        self.words = list(words)
        self.chars = list(chars)
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.char_index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_sentences(cls, sentences):
        """Every lower-cased word and every character of the training sentences."""
        words = sorted({w.lower() for ws, _ in sentences for w in ws})
        chars = sorted({c for ws, _ in sentences for w in ws for c in w})
        return cls(["<pad>", "<unk>"] + words, ["<pad>", "<unk>"] + chars)

    def word_ids(self, words):
        """Ids of the lower-cased words (unknown -> 1)."""
        return [self.word_index.get(w.lower(), 1) for w in words]

    def char_ids(self, word, max_chars):
        """Ids of a word's characters; a long word keeps its first and last ``max_chars // 2``."""
        if len(word) > max_chars:
            word = word[:max_chars // 2] + word[-(max_chars - max_chars // 2):]
        return [self.char_index.get(c, 1) for c in word]

    def known(self, word):
        """Was the (lower-cased) word seen in training?"""
        return word.lower() in self.word_index


# ---------------------------------------------------------------- model
def init_tagger(n_words, n_chars, cfg):
    """Parameters: ``emb``, ``cemb``, ``char.*`` (char BiGRU), ``enc.*`` (word layer), ``W_y, b_y``."""
    seed, dt = cfg["seed"], cfg["dtype"]
    rng = np.random.default_rng([seed, 0])
    p = {"emb": rng.normal(0, 0.1, (n_words, cfg["word_embed"])).astype(dt),
         "cemb": rng.normal(0, 0.1, (n_chars, cfg["char_embed"])).astype(dt)}
    for k, v in init_encoder(cfg["cell"], cfg["char_embed"], cfg["char_hidden"], True,
                             seed=[seed, 1], dtype=dt).items():
        p["char." + k] = v
    D = cfg["word_embed"] + 2 * cfg["char_hidden"]
    for k, v in init_encoder(cfg["cell"], D, cfg["hidden"], cfg["bidirectional"],
                             seed=[seed, 2], dtype=dt).items():
        p["enc." + k] = v
    F = encoder_width(cfg["hidden"], cfg["bidirectional"])
    p["W_y"] = glorot_uniform((len(UPOS), F), np.random.default_rng([seed, 3])).astype(dt)
    p["b_y"] = np.zeros(len(UPOS), dtype=dt)
    return p


def _sub(params, prefix):
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def batch_arrays(sentences, vocab, cfg, rng=None):
    """The inputs of :func:`tagger_forward` for a list of word lists.

    Returns ``(ids (T, B), lengths (B,), forms, uidx (T, B))``: padded word ids, the
    lengths, the batch's distinct word forms (sorted) and, at each position, the index of
    its form in ``forms``. With ``rng`` (training), word dropout replaces each word id by
    the unknown id 1 with probability ``cfg["word_dropout"]``.
    """
    forms = sorted({w for ws in sentences for w in ws})
    form_index = {w: i for i, w in enumerate(forms)}
    wids = [vocab.word_ids(ws) for ws in sentences]
    if rng is not None and cfg["word_dropout"] > 0:
        wids = [[1 if rng.random() < cfg["word_dropout"] else i for i in s] for s in wids]
    ids, lengths = pad_ids(wids)
    uidx, _ = pad_ids([[form_index[w] for w in ws] for ws in sentences])
    return ids, lengths, forms, uidx


def _char_vectors(params, forms, vocab, cfg):
    """Character BiGRU summaries of the word forms ``(U, 2Hc)`` and the cache."""
    cids, clen = pad_ids([vocab.char_ids(w, cfg["max_chars"]) for w in forms])
    ce = params["cemb"][cids]                                     # (Tc, U, Dc)
    cvec, cache = encoder_forward(ce, _sub(params, "char."), cell=cfg["cell"],
                                  bidirectional=True, lengths=clen, return_sequences=False)
    return cvec, (cids, cache)


def tagger_forward(params, ids, lengths, forms, uidx, vocab, cfg, rng=None):
    """Tag logits ``(T, B, 17)`` of a padded batch; ``(logits, cache)``.

    ``ids (T, B)`` word ids, ``lengths (B,)``, ``forms`` the batch's distinct word forms
    and ``uidx (T, B)`` the index of each position's form. ``rng`` (training) draws the
    dropout masks.
    """
    cvec, char_cache = _char_vectors(params, forms, vocab, cfg)
    u = np.concatenate([params["emb"][ids], cvec[uidx]], axis=-1)   # (T, B, De + 2Hc)
    m_in = m_out = None
    if rng is not None and cfg["dropout"] > 0:
        m_in = dropout_mask(u.shape, cfg["dropout"], rng, u)
        u = u * m_in
    y, enc_cache = encoder_forward(u, _sub(params, "enc."), cell=cfg["cell"],
                                   bidirectional=cfg["bidirectional"], lengths=lengths,
                                   return_sequences=True)
    if rng is not None and cfg["dropout"] > 0:
        m_out = dropout_mask(y.shape, cfg["dropout"], rng, y)
        y = y * m_out
    z, out_cache = affine_forward(y, params["W_y"], params["b_y"])
    return z, (ids, uidx, len(forms), char_cache, m_in, enc_cache, m_out, out_cache)


def tagger_backward(dz, cache, params, cfg):
    """Gradients of every parameter from ``dz (T, B, 17)``."""
    ids, uidx, U, (cids, char_cache), m_in, enc_cache, m_out, out_cache = cache
    dy, dW, db = affine_backward(dz, out_cache)
    if m_out is not None:
        dy = dy * m_out
    du, g_enc = encoder_backward(dy, enc_cache)
    if m_in is not None:
        du = du * m_in
    De = params["emb"].shape[1]
    demb = np.zeros_like(params["emb"])
    np.add.at(demb, ids.reshape(-1), du[..., :De].reshape(-1, De))      # scatter-add
    dcvec = np.zeros((U, du.shape[-1] - De), dtype=du.dtype)
    np.add.at(dcvec, uidx.reshape(-1), du[..., De:].reshape(-1, dcvec.shape[1]))
    dce, g_char = encoder_backward(dcvec, char_cache)
    dcemb = np.zeros_like(params["cemb"])
    np.add.at(dcemb, cids.reshape(-1), dce.reshape(-1, dce.shape[-1]))
    grads = {"enc." + k: v for k, v in g_enc.items()}
    grads.update({"char." + k: v for k, v in g_char.items()})
    grads.update(emb=demb, cemb=dcemb, W_y=dW, b_y=db)
    return grads


def predict_tags(params, sentences, vocab, cfg, batch_size=256):
    """Predicted tags (lists of strings) of word lists, in float64 and a fixed batch order."""
    p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    out = [None] * len(sentences)
    for batch in length_batches([len(s) for s in sentences], batch_size):
        sents = [sentences[i] for i in batch]
        ids, lengths, forms, uidx = batch_arrays(sents, vocab, cfg)
        z, _ = tagger_forward(p64, ids, lengths, forms, uidx, vocab, cfg)
        best = np.argmax(z, axis=-1)
        for b, i in enumerate(batch):
            out[i] = [UPOS[k] for k in best[:lengths[b], b]]
    return out


def tag_accuracy(predicted, sentences, vocab=None):
    """Per-token accuracy of predicted tag lists against ``(words, tags)`` sentences.

    Returns ``{"correct", "n", "accuracy"}``, and with ``vocab`` also the same for the
    words unseen in training (``unseen_correct``, ``unseen_n``, ``unseen_accuracy``).
    """
    if len(predicted) != len(sentences):
        raise ValueError(f"predicted has {len(predicted)} sentences, sentences has "
                         f"{len(sentences)}")
    correct = n = uc = un = 0
    for pred, (words, tags) in zip(predicted, sentences):
        if len(pred) != len(tags):
            raise ValueError(f"a predicted sentence has {len(pred)} tags for {len(tags)} words")
        for p, t, w in zip(pred, tags, words):
            correct += p == t
            n += 1
            if vocab is not None and not vocab.known(w):
                uc += p == t
                un += 1
    out = {"correct": int(correct), "n": n, "accuracy": correct / n}
    if vocab is not None:
        out.update(unseen_correct=int(uc), unseen_n=un, unseen_accuracy=uc / max(un, 1))
    return out


def confusion_counts(predicted, sentences):
    """A 17 x 17 integer matrix: row = true tag, column = predicted tag (order of ``UPOS``)."""
    m = np.zeros((len(UPOS), len(UPOS)), dtype=np.int64)
    for pred, (_, tags) in zip(predicted, sentences):
        for p, t in zip(pred, tags):
            m[UPOS.index(t), UPOS.index(p)] += 1
    return m


# ---------------------------------------------------------------- training
def train(config=None, splits=None, progress=True, log_every_epoch=None):
    """Train a tagger on ``splits["train"]`` with early stopping on ``splits["valid"]``.

    Returns ``(best_params, vocab, log)``. ``max_steps`` stops after that many updates,
    ``max_minutes`` after the epoch that passes that wall time.
    """
    cfg = {**DEFAULTS, **(config or {})}
    splits = load_ud_splits() if splits is None else splits
    train_s = splits["train"]
    vocab = TaggerVocab.from_sentences(train_s)
    params = init_tagger(len(vocab.words), len(vocab.chars), cfg)
    tag_index = {t: i for i, t in enumerate(UPOS)}
    opt = Adam(lr=cfg["lr"])
    rng = np.random.default_rng([cfg["seed"], 4])
    stopper = EarlyStopping(cfg["patience"])
    log = {"config": cfg, "epochs": []}
    step, t0 = 0, time.perf_counter()
    valid_words = [ws for ws, _ in splits["valid"]]
    for epoch in range(cfg["max_epochs"]):
        batches = length_batches([len(ws) for ws, _ in train_s], cfg["batch_size"], rng)
        if progress:
            from tqdm import tqdm
            batches = tqdm(batches, desc=f"epoch {epoch + 1}", leave=False)
        losses = []
        for batch in batches:
            sents = [train_s[i] for i in batch]
            ids, lengths, forms, uidx = batch_arrays([ws for ws, _ in sents], vocab, cfg, rng)
            z, cache = tagger_forward(params, ids, lengths, forms, uidx, vocab, cfg, rng)
            targets, _ = pad_ids([[tag_index[t] for t in ts] for _, ts in sents])
            mask = np.arange(z.shape[0])[:, None] < lengths[None, :]
            loss, dz = softmax_cross_entropy(z, targets, mask=mask)
            grads, _ = clip_by_global_norm(tagger_backward(dz, cache, params, cfg), cfg["clip"])
            opt.step(params, grads)
            losses.append(float(loss))
            step += 1
            if cfg["max_steps"] and step >= cfg["max_steps"]:
                break
        valid = tag_accuracy(predict_tags(params, valid_words, vocab, cfg),
                             splits["valid"])["accuracy"]
        record = {"epoch": epoch + 1, "steps": step, "train_loss": float(np.mean(losses)),
                  "valid_accuracy": valid, "wall_s": round(time.perf_counter() - t0, 1)}
        log["epochs"].append(record)
        if log_every_epoch:
            log_every_epoch(record)
        stop = stopper.update(valid, params)
        late = cfg["max_minutes"] and time.perf_counter() - t0 > 60 * cfg["max_minutes"]
        if stop or late or (cfg["max_steps"] and step >= cfg["max_steps"]):
            break
    log["best_epoch"] = stopper.best_epoch + 1
    log["wall_time_s"] = time.perf_counter() - t0
    return stopper.best_params, vocab, log


def evaluate(params, vocab, cfg, splits):
    """Accuracies (overall and on unseen words) on ``valid`` and ``test``, in float64."""
    out = {}
    for name in ("valid", "test"):
        pred = predict_tags(params, [ws for ws, _ in splits[name]], vocab, cfg)
        for k, v in tag_accuracy(pred, splits[name], vocab).items():
            out[f"{name}_{k}"] = v
    return out


def load_tagger(path):
    """A committed checkpoint: ``(params, config, vocab, meta)``."""
    params, meta = load_checkpoint(path)
    return params, meta["config"], TaggerVocab(meta["words"], meta["chars"]), meta


def main(argv=None):
    """Command-line entry: ``train`` or ``evaluate``."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.postag",
                                 description="Train or evaluate the chapter-15 POS tagger.")
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a tagger, write a checkpoint and a log")
    tr.add_argument("--cell", default=DEFAULTS["cell"], choices=["gru", "lstm"])
    tr.add_argument("--unidirectional", dest="bidirectional", action="store_false")
    for name in ("word_embed", "char_embed", "char_hidden", "hidden", "batch_size",
                 "max_epochs", "patience", "seed", "max_steps", "max_chars"):
        tr.add_argument("--" + name.replace("_", "-"), type=int, default=DEFAULTS[name])
    for name in ("dropout", "word_dropout", "lr", "clip", "max_minutes"):
        tr.add_argument("--" + name.replace("_", "-"), type=float, default=DEFAULTS[name])
    tr.add_argument("--out", default="checkpoints/postag")
    tr.add_argument("--name", default="bigru")
    ev = sub.add_parser("evaluate", help="recompute a checkpoint's metrics")
    ev.add_argument("checkpoint")
    args = ap.parse_args(argv)
    splits = load_ud_splits()
    if args.command == "evaluate":
        params, cfg, vocab, _ = load_tagger(args.checkpoint)
        print(json.dumps(evaluate(params, vocab, cfg, splits), indent=2))
        return 0
    cfg = {k: getattr(args, k) for k in DEFAULTS if hasattr(args, k)}
    params, vocab, log = train(cfg, splits,
                               log_every_epoch=lambda r: print(json.dumps(r), flush=True))
    metrics = evaluate(params, vocab, log["config"], splits)
    path = Path(args.out) / args.name
    save_checkpoint(path, params, config=log["config"], metrics=metrics,
                    data_files=ud_files(), wall_time_s=log["wall_time_s"],
                    extra={"words": vocab.words, "chars": vocab.chars,
                           "best_epoch": log["best_epoch"]})
    log["metrics"] = metrics
    Path(str(path) + ".log.json").write_text(json.dumps(log, indent=1) + "\n")
    print(f"{path}: {json.dumps(metrics)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
