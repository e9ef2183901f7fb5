"""Spoken digit strings recognised with a bidirectional LSTM trained by CTC (book chapter 18).

Data: utterances of 1-7 digits joined from FSDD recordings of one speaker, with random
pauses and white noise (:func:`labrnn.datasets.fsdd.make_utterance`), as log-mel
features (50 frames per second, 32 bands), normalised per band with statistics of the
training utterances. Splits, by recording index and by speaker:

* training: speakers ``TRAIN_SPEAKERS``, recordings with index 10-49 (fresh random
  utterances for every batch);
* validation: the same speakers, index 5-9 (a fixed set of 200 utterances);
* test, seen speakers: the same speakers, index 0-4 (FSDD's own test recordings;
  500 utterances);
* test, unseen speaker: ``UNSEEN_SPEAKER``, every recording (500 utterances); never
  heard in training or validation.

Model, equation ``ctc-model``: ``h = BiLSTM(x)`` (H units per direction, concatenated),
``z_t = W_hy h_t + b_y`` (11 classes: blank and the digits 0-9), trained with
:func:`labrnn.training.ctc.ctc_loss_and_grad` and Adam, gradients clipped by global norm.

The non-recurrent baseline (``--cell mlp``) replaces the recurrent layer by a window:
``h_t = tanh(W u_t + b)`` where ``u_t`` concatenates the (stacked) frames ``t - CONTEXT``
to ``t + CONTEXT`` (zeros beyond the ends of each utterance), trained the same way with
CTC. It sees ``2 CONTEXT + 1`` steps of context, a fixed window; the BiLSTM sees the
whole utterance.

Command line::

    python -m labrnn.apps.speech_ctc train --steps 2500 --seed 0     # writes checkpoints/speech_ctc/
    python -m labrnn.apps.speech_ctc evaluate                        # recompute the metrics
    python -m labrnn.apps.speech_ctc train --cell mlp --hidden 128 --out checkpoints/speech_ctc/mlp

The run writes ``checkpoints/speech_ctc/bilstm.npz`` / ``.json`` (the parameters of the
best validation step, configuration, metrics, data checksum, versions, wall time) and
``checkpoints/speech_ctc/log.json`` (training loss and validation digit error rate).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..models.bidirectional import bidirectional_backward, bidirectional_forward, init_bidirectional
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..training.ctc import ctc_greedy_decode, ctc_loss_and_grad, ctc_prefix_beam_search, edit_distance
from ..layers.activations import log_softmax
from ..datasets import data_file
from ..datasets.fsdd import FSDD, make_utterance, mel_filterbank, N_MELS
from ..layers.init import glorot_uniform
from ..layers.affine import affine_backward, affine_forward
from ..training.optim import Adam, clip_by_global_norm
from ..paramtree import subparams, with_prefix

__all__ = ["TRAIN_SPEAKERS", "UNSEEN_SPEAKER", "SPLITS", "DEFAULTS", "C", "STACK", "splits",
           "pad_batch", "norm_stats", "stack_frames", "window_frames", "CONTEXT", "init_model", "model_logits",
           "loss_and_grads", "make_batch", "make_eval_set", "eval_sets", "decode",
           "error_counts", "evaluate", "train", "load_model", "main"]

UNSEEN_SPEAKER = "theo"
TRAIN_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "yweweler")
SPLITS = {"train": range(10, 50), "val": range(5, 10), "test": range(0, 5)}
C = 11                                   # blank + 10 digits
STACK = 2                                # frames stacked: 50 -> 25 frames per second
CONTEXT = 5                              # the window baseline sees +-5 stacked frames (+-0.2 s)
# the repository's checkpoints/ folder (beside labrnn/), whatever the working directory
CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "speech_ctc" / "bilstm"
DEFAULTS = dict(cell="lstm", hidden=64, batch=32, lr=3e-3, clip=5.0, max_digits=7,
                eval_every=100, n_val=200, n_test=500, beam_width=8, dtype="float32")


def splits(ds):
    """Recording numbers of each split: ``train``, ``val``, ``test`` (seen speakers), ``unseen``."""
    out = {k: ds.select(TRAIN_SPEAKERS, idx) for k, idx in SPLITS.items()}
    out["unseen"] = ds.select([UNSEEN_SPEAKER])
    return out


def _pools(ds, recs):
    """``{(speaker, digit): recording numbers}`` of a split."""
    pools = {}
    for i in recs:
        pools.setdefault((str(ds.speaker_name[i]), int(ds.digit[i])), []).append(int(i))
    return pools


def _draw(ds, pools, rng, n_digits):
    spk = sorted({s for s, _ in pools})
    s = spk[rng.integers(len(spk))]
    digits = rng.integers(0, 10, size=n_digits)
    return [pools[(s, int(d))][rng.integers(len(pools[(s, int(d))]))] for d in digits]


def pad_batch(feats, labels):
    """Pad a list of (frames, 32) features and label lists: ``(X (T, B, 32), lengths, Y, target_lengths)``."""
    lengths = np.array([len(f) for f in feats])
    X = np.zeros((lengths.max(), len(feats), feats[0].shape[1]))
    for b, f in enumerate(feats):
        X[:len(f), b, :] = f
    S = max(len(l) for l in labels)
    Y = np.zeros((len(labels), max(S, 1)), dtype=np.int64)
    for b, l in enumerate(labels):
        Y[b, :len(l)] = l
    return X, lengths, Y, np.array([len(l) for l in labels])


def make_batch(ds, recs, rng, batch, n_digits=None, max_digits=7, fb=None, pause=(2, 12)):
    """A batch of fresh utterances from the recordings ``recs``: ``(X, lengths, Y, target_lengths)``.

    Every utterance in the batch has ``n_digits`` digits (drawn from 1..max_digits when
    None, one draw per batch). The pause after the last digit is lengthened so that all
    utterances of the batch have the same number of frames: ``lengths`` are all ``T``,
    and the recurrent layer runs without a mask. ``X`` (T, B, 32) unnormalised.
    """
    fb = mel_filterbank() if fb is None else fb
    pools = _pools(ds, recs)
    n = int(rng.integers(1, max_digits + 1)) if n_digits is None else int(n_digits)
    chosen = [_draw(ds, pools, rng, n) for _ in range(batch)]
    gaps = [rng.integers(pause[0], pause[1] + 1, size=n + 1) for _ in range(batch)]
    totals = [int(sum(ds.offsets[i + 1] - ds.offsets[i] for i in c) + g.sum())
              for c, g in zip(chosen, gaps)]
    T = max(totals)
    feats, labels = [], []
    for c, g, tot in zip(chosen, gaps, totals):
        g = g.copy()
        g[-1] += T - tot
        f, l = make_utterance(ds, c, rng, fb=fb, pauses=g)
        feats.append(f)
        labels.append(l)
    return pad_batch(feats, labels)


def make_eval_set(ds, recs, n, seed, max_digits=7):
    """A fixed list of ``n`` utterances ``(X (frames, 32), labels, recordings)`` (seeded)."""
    rng = np.random.default_rng(seed)
    fb = mel_filterbank()
    pools = _pools(ds, recs)
    out = []
    for k in range(n):
        chosen = _draw(ds, pools, rng, 1 + k % max_digits)
        X, labels = make_utterance(ds, chosen, rng, fb=fb)
        out.append((X, labels, chosen))
    return out


def init_model(norm_mean, norm_std, hidden=64, cell="lstm", seed=0, dtype="float32"):
    """Parameters ``rnn.fw.*``, ``rnn.bw.*`` (bidirectional cell), ``W_hy`` (11, 2H), ``b_y``.

    With ``cell="mlp"`` (the non-recurrent baseline) ``mlp.W`` (H, (2 CONTEXT + 1) 64),
    ``mlp.b`` and ``W_hy`` (11, H), ``b_y``. ``norm.mean``, ``norm.std`` (32,) hold the
    feature normalisation (not trained).
    """
    rng = np.random.default_rng([seed, 2])
    if cell == "mlp":
        p = {"mlp.W": glorot_uniform((hidden, (2 * CONTEXT + 1) * STACK * N_MELS),
                                     np.random.default_rng([seed, 1])),
             "mlp.b": np.zeros(hidden)}
        p["W_hy"] = glorot_uniform((C, hidden), rng)
    else:
        p = with_prefix("rnn.", init_bidirectional(cell, STACK * N_MELS, hidden, seed=seed,
                                                   dtype="float64"))
        p["W_hy"] = glorot_uniform((C, 2 * hidden), rng)
    p["b_y"] = np.zeros(C)
    p = {k: np.asarray(v, dtype=dtype) for k, v in p.items()}
    p["norm.mean"] = np.asarray(norm_mean, dtype=dtype)
    p["norm.std"] = np.asarray(norm_std, dtype=dtype)
    return p


def _trainable(params):
    return [k for k in params if not k.startswith("norm.")]


def stack_frames(X, lengths, k=STACK):
    """Stack ``k`` consecutive frames: (T, B, D) -> (ceil(T/k), B, k*D); lengths -> ceil(L/k).

    50 frames per second become 25: the recurrent layer runs half as many steps. A
    sequence whose length is not a multiple of ``k`` repeats its last frame.
    """
    T, B, D = X.shape
    lengths = np.asarray(lengths)
    Tk = -(-T // k)
    Xp = np.concatenate([X, np.repeat(X[-1:], Tk * k - T, axis=0)], axis=0)
    for b in range(B):                   # repeat each sequence's own last frame
        L = int(lengths[b])
        if L % k:
            Xp[L:L + k - L % k, b, :] = X[L - 1, b, :]
    Xs = np.reshape(np.transpose(np.reshape(Xp, (Tk, k, B, D)), (0, 2, 1, 3)), (Tk, B, k * D))
    return Xs, -(-lengths // k)


def window_frames(x, lengths, k=CONTEXT):
    """(T, B, D) -> (T, B, (2k+1) D): step ``t`` sees steps ``t-k .. t+k`` of its own sequence.

    Steps before the start and after each sequence's length count as zeros, so the result
    at a real step does not depend on how the batch was padded.
    """
    T, B, D = x.shape
    real = (np.arange(T)[:, None] < np.asarray(lengths)[None, :])[..., None]
    pad = np.zeros((k, B, D), dtype=x.dtype)
    xp = np.concatenate([pad, x * real, pad])
    return np.concatenate([xp[j:j + T] for j in range(2 * k + 1)], axis=2)


def model_logits(params, X, lengths, cell="lstm"):
    """Logits (T', B, 11) for unnormalised features ``X`` (T, B, 32); ``(z, lengths', cache)``.

    Normalise each band, stack pairs of frames (:func:`stack_frames`), run the
    bidirectional layer and the affine output layer (equation ``ctc-model``).
    """
    x = (X - params["norm.mean"]) / params["norm.std"]
    x, lengths = stack_frames(x, lengths)
    x = x.astype(params["W_hy"].dtype)
    if cell == "mlp":                    # the non-recurrent baseline: a window, no state
        a, c_in = affine_forward(window_frames(x, lengths), params["mlp.W"], params["mlp.b"])
        h = np.tanh(a)
        z, c_out = affine_forward(h, params["W_hy"], params["b_y"])
        return z, lengths, ((c_in, h), c_out)
    run_len = None if int(np.min(lengths)) == x.shape[0] else lengths   # no padding: no mask
    h, _, c_rnn = bidirectional_forward(x, subparams(params, "rnn."), None, run_len, cell=cell)
    z, c_out = affine_forward(h, params["W_hy"], params["b_y"])
    return z, lengths, (c_rnn, c_out)


def loss_and_grads(params, batch, cell="lstm"):
    """Mean CTC loss of a batch ``(X, lengths, Y, target_lengths)`` and the parameters' gradients."""
    X, lengths, Y, tl = batch
    z, lengths, (c_rnn, c_out) = model_logits(params, X, lengths, cell)
    loss, dz = ctc_loss_and_grad(z, Y, lengths, tl, reduction="mean")
    dh, dW, db = affine_backward(dz, c_out)
    if cell == "mlp":
        c_in, h = c_rnn
        _, dW_in, db_in = affine_backward(dh * (1 - h ** 2), c_in)
        grads = {"mlp.W": dW_in, "mlp.b": db_in}
    else:
        _, _, g_rnn = bidirectional_backward(dh, c_rnn)
        grads = with_prefix("rnn.", g_rnn)
    grads["W_hy"], grads["b_y"] = dW, db
    return float(loss), grads


def decode(params, utterances, cell="lstm", method="greedy", beam_width=8, batch=50):
    """Recognised digit strings (tuples of digits 0-9) of a list of ``(X, labels, ...)``."""
    if method not in ("greedy", "beam"):
        raise ValueError(f"method must be 'greedy' or 'beam', received {method!r}")
    out = []
    for s in range(0, len(utterances), batch):
        chunk = utterances[s:s + batch]
        X, lengths, _, _ = pad_batch([u[0] for u in chunk], [u[1] for u in chunk])
        z, lengths, _ = model_logits(params, X, lengths, cell)
        lp = np.asarray(log_softmax(z.astype(np.float64)))
        if method == "greedy":
            hyps = ctc_greedy_decode(lp, lengths)
        else:
            hyps = [ctc_prefix_beam_search(lp[:lengths[b], b, :], beam_width)[0][0]
                    for b in range(len(chunk))]
        out += [tuple(c - 1 for c in h) for h in hyps]
    return out


def error_counts(utterances, hyps):
    """``(edits, reference digits, correct strings, strings)``: exact integers."""
    edits = ref = correct = 0
    for u, h in zip(utterances, hyps):
        truth = tuple(c - 1 for c in u[1])
        edits += edit_distance(truth, h)
        ref += len(truth)
        correct += int(truth == tuple(h))
    return edits, ref, correct, len(utterances)


def evaluate(params, utterances, cell="lstm", method="greedy", beam_width=8):
    """Digit error rate (edits / reference digits), string accuracy and the exact counts."""
    hyps = decode(params, utterances, cell, method, beam_width)
    e, r, c, n = error_counts(utterances, hyps)
    return {"der": e / r, "string_acc": c / n, "edits": e, "digits": r, "correct": c,
            "strings": n}


def norm_stats(ds, recs, seed=123, n=200):
    """Per-band mean and standard deviation of the frames of ``n`` training utterances."""
    rng = np.random.default_rng(seed)
    X, lengths, _, _ = make_batch(ds, recs, rng, n)
    frames = np.concatenate([X[:lengths[b], b, :] for b in range(X.shape[1])])
    return frames.mean(axis=0), frames.std(axis=0) + 1e-6


def eval_sets(ds, cfg):
    """The fixed validation and test sets (seeded; identical on every run)."""
    sp = splits(ds)
    return {"val": make_eval_set(ds, sp["val"], cfg["n_val"], seed=1001),
            "test": make_eval_set(ds, sp["test"], cfg["n_test"], seed=2002),
            "unseen": make_eval_set(ds, sp["unseen"], cfg["n_test"], seed=3003)}


def train(steps, seed=0, out=CHECKPOINT, progress=True, log_every=10, **overrides):
    """Train; write the best-validation checkpoint and the JSON log; return ``(params, meta)``."""
    from tqdm import tqdm
    cfg = {**DEFAULTS, **overrides, "steps": int(steps), "seed": int(seed),
           "unseen_speaker": UNSEEN_SPEAKER, "train_speakers": list(TRAIN_SPEAKERS),
           "splits": {k: [v.start, v.stop] for k, v in SPLITS.items()}}
    t0 = time.time()
    ds = FSDD()
    sp = splits(ds)
    mean, std = norm_stats(ds, sp["train"])
    params = init_model(mean, std, cfg["hidden"], cfg["cell"], seed, cfg["dtype"])
    sets = eval_sets(ds, cfg)
    opt = Adam(lr=cfg["lr"])
    rng = np.random.default_rng([seed, 7])
    fb = mel_filterbank()
    log = {"step": [], "loss": [], "val_step": [], "val_der": []}
    best, best_der, run = dict(params), None, []
    bar = tqdm(range(1, steps + 1), disable=not progress, desc="speech_ctc")
    for step in bar:
        batch = make_batch(ds, sp["train"], rng, cfg["batch"], max_digits=cfg["max_digits"], fb=fb)
        loss, grads = loss_and_grads(params, batch, cfg["cell"])
        grads, _ = clip_by_global_norm(grads, cfg["clip"])
        trainable = {k: params[k] for k in _trainable(params)}
        opt.step(trainable, grads)
        params.update(trainable)
        run.append(loss)
        if step % log_every == 0:
            log["step"].append(step)
            log["loss"].append(round(float(np.mean(run)), 5))
            run = []
        if step % cfg["eval_every"] == 0 or step == steps:
            der = evaluate(params, sets["val"], cfg["cell"])["der"]
            log["val_step"].append(step)
            log["val_der"].append(round(der, 5))
            if best_der is None or der <= best_der:
                best, best_der = {k: v.copy() for k, v in params.items()}, der
            bar.set_postfix(loss=f"{loss:.3f}", val_der=f"{der:.3f}")
    train_s = time.time() - t0
    metrics = {}
    for name in ("val", "test", "unseen"):
        for method in ("greedy", "beam"):
            m = evaluate(best, sets[name], cfg["cell"], method, cfg["beam_width"])
            metrics[f"{name}_{method}"] = m
    out = Path(out)
    log_path = out.with_name("log.json" if out.name == "bilstm" else f"{out.name}_log.json")
    meta_extra = {"log": log_path.name, "train_wall_time_s": round(train_s, 1)}
    save_checkpoint(out, best, config=cfg, metrics=metrics,
                    data_files=[data_file("fsdd", "fsdd_logmel.npz")],
                    wall_time_s=time.time() - t0, extra=meta_extra)
    log_path.write_text(json.dumps(log) + "\n")
    return best, load_model(out)[1]


def load_model(path=CHECKPOINT):
    """``(params, meta)`` of a checkpoint written by :func:`train`."""
    return load_checkpoint(path)


def main(argv=None):
    """Command line: ``train`` (with ``--steps``, ``--seed``, ...) or ``evaluate``."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.speech_ctc",
                                 description="CTC speech recogniser for spoken digit strings (FSDD)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train and write checkpoints/speech_ctc/")
    t.add_argument("--steps", type=int, default=2500)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default=str(CHECKPOINT))
    for k in ("hidden", "batch", "eval_every"):
        t.add_argument(f"--{k.replace('_', '-')}", type=int, default=DEFAULTS[k])
    t.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    t.add_argument("--cell", default=DEFAULTS["cell"], choices=["lstm", "gru", "mlp"],
                   help="mlp: the non-recurrent baseline (a window of frames)")
    e = sub.add_parser("evaluate", help="recompute the metrics of a checkpoint")
    e.add_argument("--checkpoint", default=str(CHECKPOINT))
    args = ap.parse_args(argv)
    if args.cmd == "train":
        _, meta = train(args.steps, args.seed, args.out, hidden=args.hidden, batch=args.batch,
                        eval_every=args.eval_every, lr=args.lr, cell=args.cell)
        print(json.dumps(meta["metrics"], indent=1))
    else:
        params, meta = load_model(args.checkpoint)
        cfg = meta["config"]
        sets = eval_sets(FSDD(), cfg)
        for name in ("val", "test", "unseen"):
            for method in ("greedy", "beam"):
                m = evaluate(params, sets[name], cfg["cell"], method, cfg["beam_width"])
                print(f"{name:7s} {method:6s} DER {m['der']:.4f}  string acc {m['string_acc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
