"""Train the date translator of book chapter 17: human-written dates to ISO 8601.

::

    python -m labrnn.apps.dates train --decoder attention --steps 1000 --eval-every 200 --out checkpoints/dates/attention
    python -m labrnn.apps.dates train --decoder feed --steps 1000 --eval-every 200 --out checkpoints/dates/no_attention
    python -m labrnn.apps.dates train --decoder feed --steps 2500 --eval-every 250 --out checkpoints/dates/no_attention_2500
    python -m labrnn.apps.dates evaluate checkpoints/dates/attention

The model is :mod:`labrnn.models.seq2seq`'s encoder-decoder (GRU cells, character
embeddings) with additive attention (``decoder="attention"``, equations
``attn-score`` to ``attn-context``) or without it (``decoder="feed"``: the
encoder's final state is the decoder's initial state and is fed at every step,
equation ``seq2seq-decoder``). Data: :mod:`labrnn.datasets.dates`, a fresh
seeded batch of training-split dates at every step; every ``--eval-every``
steps the greedy exact-match accuracy on a fixed validation set decides which
parameters are kept (the best so far). At the end the kept parameters are
scored once on the fixed test set (:func:`test_pairs`) and on the held-out
formats (:func:`heldout_pairs`), and written with :func:`labrnn.training.checkpoint.save_checkpoint`
(``.npz`` + ``.json``) beside a JSON log of the training curves (``<out>.log.json``).

:func:`greedy_batch` decodes a whole batch at once (the same tokens as
:func:`labrnn.models.decoding.greedy_decode` on each source alone, which the tests check).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from ..backend import from_numpy, to_numpy
from ..datasets import dates as D
from ..training.optim import Adam, clip_by_global_norm
from ..models.seq2seq import init_seq2seq, make_step_fn, seq2seq_encode, seq2seq_loss

__all__ = ["TEST_SEED", "VALID_SEED", "HELDOUT_SEED", "MAX_LEN", "test_pairs", "valid_pairs",
           "heldout_pairs", "model_kw", "greedy_batch", "exact_match", "train", "main"]

TEST_SEED, VALID_SEED, HELDOUT_SEED = 20170, 20171, 20172
MAX_LEN = 11                                   # "YYYY-MM-DD" and EOS


def test_pairs(n=2000):
    """The fixed test set: ``n`` triples of test-split dates in the training formats (seed :data:`TEST_SEED`)."""
    return D.generate(n, TEST_SEED, split="test")


def valid_pairs(n=500):
    """The fixed validation set (validation-split dates, training formats, seed :data:`VALID_SEED`)."""
    return D.generate(n, VALID_SEED, split="valid")


def heldout_pairs(n=600):
    """Test-split dates written only in :data:`labrnn.datasets.dates.HELDOUT_FORMATS` (seed :data:`HELDOUT_SEED`)."""
    return D.generate(n, HELDOUT_SEED, split="test", formats=D.HELDOUT_FORMATS)


def model_kw(config):
    """The keyword arguments of :mod:`labrnn.models.seq2seq` functions for a checkpoint's ``config``."""
    return {"decoder": config["decoder"], "cell": config["cell"], "score": "additive"}


def greedy_batch(params, pairs, kw, max_len=MAX_LEN, return_alpha=False):
    """Greedy decoding of every source of ``pairs`` at once.

    Returns the decoded strings (up to the first EOS) and, with
    ``return_alpha``, the attention weights ``(max_len, S, B)`` of every step
    (attention models only). The batch is encoded with its lengths, so padding
    changes nothing: each row equals :func:`labrnn.models.decoding.greedy_decode` on
    that source alone.
    """
    src, _, sl, _ = D.encode_batch(pairs)
    like = params["out.W"]
    state, _ = seq2seq_encode(from_numpy(src, like=like), params, src_lengths=sl, **kw)
    step = make_step_fn(params, **kw)
    B = src.shape[1]
    token = from_numpy(np.full(B, D.BOS, dtype=np.int64), like=like)
    out, alphas = [], []
    for _ in range(max_len):
        lp, state = step(state, token)
        ids = np.argmax(to_numpy(lp), axis=-1)
        out.append(ids)
        if return_alpha:
            alphas.append(to_numpy(state.alpha))
        token = from_numpy(ids.astype(np.int64), like=like)
    toks = np.stack(out, axis=0)
    texts = [D.decode_target(toks[:, b]) for b in range(B)]
    return (texts, np.stack(alphas, axis=0)) if return_alpha else texts


def exact_match(params, pairs, kw, batch=500):
    """Number of ``pairs`` whose greedy translation equals the target exactly (an ``int``)."""
    right = 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i:i + batch]
        right += sum(p == t[1] for p, t in zip(greedy_batch(params, chunk, kw), chunk))
    return right


def _lr(step, steps, lr, floor=0.05):
    """Cosine decay from ``lr`` to ``floor * lr`` over ``steps``."""
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / max(steps, 1))))


def train(decoder="attention", cell="gru", E=16, H=64, batch=64, steps=2500, lr=3e-3,
          max_norm=5.0, seed=0, eval_every=250, out=None, progress=True):
    """Train one translator; returns ``(params, log)``. Writes the checkpoint and log when ``out`` is given.

    ``log`` holds ``loss`` (every step), ``valid_acc`` as ``[step, accuracy]``
    pairs and, at the end, the test and held-out exact-match counts.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    kw = {"decoder": decoder, "cell": cell, "score": "additive"}
    V_src, V_tgt = len(D.SRC_ALPHABET), len(D.TGT_TOKENS)
    params = init_seq2seq(V_src, V_tgt, E, H, seed=seed, **kw)
    opt = Adam(lr)
    valid = valid_pairs()
    log = {"loss": [], "valid_acc": []}
    best, best_acc = {k: v for k, v in params.items()}, -1.0
    bar = tqdm(range(1, steps + 1), disable=not progress, desc=f"dates {decoder}")
    for step in bar:
        src, tgt, sl, tl = D.encode_batch(D.generate(batch, [seed, step], split="train"))
        loss, grads, _ = seq2seq_loss(src, tgt, params, bos=D.BOS, src_lengths=sl,
                                      tgt_lengths=tl, **kw)
        grads, _ = clip_by_global_norm(grads, max_norm)
        opt.lr = _lr(step, steps, lr)
        opt.step(params, grads)
        log["loss"].append(round(float(loss), 5))
        if step % eval_every == 0 or step == steps:
            acc = exact_match(params, valid, kw) / len(valid)
            log["valid_acc"].append([step, acc])
            if acc > best_acc:
                best, best_acc = {k: v for k, v in params.items()}, acc
            bar.set_postfix(loss=f"{float(loss):.4f}", valid=f"{acc:.3f}")
    test, held = test_pairs(), heldout_pairs()
    metrics = {"valid_exact_match": best_acc,
               "test_exact_match_greedy": exact_match(best, test, kw) / len(test),
               "heldout_exact_match_greedy": exact_match(best, held, kw) / len(held),
               "n_test": len(test), "n_heldout": len(held)}
    wall = time.perf_counter() - start
    log.update(metrics)
    log["wall_time_s"] = round(wall, 1)
    if out is not None:
        from ..training.checkpoint import save_checkpoint
        config = {"decoder": decoder, "cell": cell, "E": E, "H": H, "batch": batch,
                  "steps": steps, "lr": lr, "max_norm": max_norm, "seed": seed,
                  "eval_every": eval_every, "test_seed": TEST_SEED, "valid_seed": VALID_SEED,
                  "heldout_seed": HELDOUT_SEED}
        save_checkpoint(out, best, config=config, metrics=metrics, wall_time_s=wall,
                        extra={"command": " ".join(["python -m labrnn.apps.dates"] + sys.argv[1:])})
        Path(str(out) + ".log.json").write_text(json.dumps(log) + "\n")
    return best, log


def _evaluate(path):
    from ..training.checkpoint import load_checkpoint
    params, meta = load_checkpoint(path)
    kw = model_kw(meta["config"])
    test, held = test_pairs(), heldout_pairs()
    print(f"{path}: test exact match {exact_match(params, test, kw)}/{len(test)}, "
          f"held-out formats {exact_match(params, held, kw)}/{len(held)}")


def main(argv=None):
    """Command-line entry point: ``train`` or ``evaluate`` (see ``--help``)."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.dates", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one model and write its checkpoint and log")
    t.add_argument("--decoder", choices=["attention", "feed", "init"], default="attention")
    t.add_argument("--cell", choices=["gru", "lstm", "elman"], default="gru")
    t.add_argument("--embed", type=int, default=16)
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--steps", type=int, default=2500)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--out", required=True, help="checkpoint path without suffix")
    e = sub.add_parser("evaluate", help="recompute a checkpoint's test metrics")
    e.add_argument("path")
    a = ap.parse_args(argv)
    if a.cmd == "train":
        _, log = train(a.decoder, a.cell, a.embed, a.hidden, a.batch, a.steps, a.lr,
                       seed=a.seed, eval_every=a.eval_every, out=a.out)
        print(json.dumps({k: v for k, v in log.items() if k not in ("loss", "valid_acc")}))
    else:
        _evaluate(a.path)


if __name__ == "__main__":
    main()
