"""A character-level language model on tinyshakespeare (book chapter 13).

The model, equation ``charlm-model`` of the chapter, for the character ids
``x_1..x_T`` of a chunk (time-major ``(T, B)``, B parallel streams of text)::

    e_t   = E[x_t]                                   embedding          (V, De)
    h_t^l = LSTM_l(h_{t-1}^l, c_{t-1}^l, h_t^{l-1})  l = 1..L, h_t^0 = e_t
    z_t   = W_y (m * h_t^L) + b_y                    m: inverted-dropout mask (training only)
    loss  = mean_t -log softmax(z_t)[x_{t+1}]        nats per character

trained with truncated backpropagation through time: the text is cut into B
contiguous streams, each walked in chunks of T characters; the state ``(h, c)``
at the end of a chunk starts the next one (carried), but no gradient flows
back across the cut. The script::

    python -m labrnn.apps.charlm train --hidden 384 --steps 1000 --seed 0
    python -m labrnn.apps.charlm train --steps 800 --lr 2e-3 --seed 1 --init checkpoints/charlm/lstm

writes ``checkpoints/charlm/lstm.npz/.json`` (the parameters with the best
validation loss, early stopping) and ``checkpoints/charlm/log.json`` (training and
validation curves, and samples drawn at several points of training).

Parameters (a flat dict, :mod:`labrnn.paramtree`): ``E (V, De)``; ``l{k}.W_x,
l{k}.W_h, l{k}.b`` for each LSTM layer (see :func:`labrnn.lstm_forward`); ``W_y (V, H)``,
``b_y (V,)``. Training runs in float32; evaluation in float64 (of the same weights),
so that a metric recomputed on another machine agrees to many digits.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from .. import (affine_backward, affine_forward, dropout_mask, embedding_backward,
                embedding_forward, from_numpy, init_embedding, init_lstm, log_softmax,
                lstm_backward, lstm_forward, lstm_step_forward, softmax_cross_entropy,
                to_numpy, Adam, clip_by_global_norm)
from ..training.checkpoint import save_checkpoint, load_checkpoint
from ..lab.data import CharVocab
from ..datasets import data_file, tinyshakespeare
from ..models.decoding import sample_decode
from ..paramtree import subparams, with_prefix
from ..training.schedules import warmup_cosine

__all__ = ["init_charlm", "charlm_forward", "charlm_backward", "loss_and_grads", "streams",
           "evaluate", "make_step_fn", "sample_text", "train", "load_model", "main",
           "DEFAULT_CHECKPOINT", "SAMPLE_SETTINGS"]

DEFAULT_CHECKPOINT = Path("checkpoints") / "charlm" / "lstm"
#: the (temperature, top_k) pairs the training log samples with
SAMPLE_SETTINGS = ((0.5, None), (0.8, None), (1.0, None), (1.0, 5))


def _layers(params):
    L = 0
    while f"l{L}.W_x" in params:
        L += 1
    if L == 0:
        raise KeyError(f"params holds no LSTM layer 'l0.W_x'; its keys are {sorted(params)}")
    return L


def init_charlm(V, hidden=256, layers=1, embed=32, seed=0, dtype="float32"):
    """Parameters of the model (equation ``charlm-model``), drawn on the host from ``seed``."""
    for name, v in (("V", V), ("hidden", hidden), ("layers", layers), ("embed", embed)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, received {v!r}")
    rng = np.random.default_rng(seed)
    params = {"E": init_embedding(V, embed, seed=int(rng.integers(2**31)), dtype=dtype)}
    d_in = embed
    for l in range(layers):
        params.update(with_prefix(f"l{l}.", init_lstm(d_in, hidden, seed=int(rng.integers(2**31)),
                                                     dtype=dtype)))
        d_in = hidden
    limit = math.sqrt(6.0 / (hidden + V))
    params["W_y"] = from_numpy(rng.uniform(-limit, limit, (V, hidden)), dtype=dtype)
    params["b_y"] = from_numpy(np.zeros(V), dtype=dtype)
    return params


def charlm_forward(params, ids, state=None, dropout=0.0, rng=None):
    """Logits ``(T, B, V)`` for input ids ``(T, B)``; returns ``(logits, new_state, cache)``.

    ``state`` is a list of ``(h, c)`` per layer (``None``: zeros); ``dropout`` is the
    probability of zeroing each entry of every LSTM layer's output (inverted dropout,
    drawn from ``rng``, a seeded ``numpy.random.Generator``); 0 at evaluation.
    """
    L = _layers(params)
    state = [None] * L if state is None else list(state)
    if len(state) != L:
        raise ValueError(f"state must hold one (h, c) pair per layer ({L}), received {len(state)}")
    x, ecache = embedding_forward(ids, params["E"])
    caches, masks, new_state = [], [], []
    for l in range(L):
        x, st, cache = lstm_forward(x, subparams(params, f"l{l}."), state0=state[l])
        mask = None
        if dropout > 0:
            if rng is None:
                raise ValueError("dropout > 0 needs rng, a seeded numpy.random.Generator")
            mask = dropout_mask(tuple(x.shape), dropout, rng, like=x)
            x = x * mask
        caches.append(cache)
        masks.append(mask)
        new_state.append(st)
    logits, acache = affine_forward(x, params["W_y"], params["b_y"])
    return logits, new_state, (ecache, caches, masks, acache)


def charlm_backward(dlogits, cache):
    """Gradients of every parameter (same keys) from ``dlogits (T, B, V)``."""
    ecache, caches, masks, acache = cache
    dx, dW, db = affine_backward(dlogits, acache)
    grads = {"W_y": dW, "b_y": db}
    for l in range(len(caches) - 1, -1, -1):
        if masks[l] is not None:
            dx = dx * masks[l]
        dx, _, g = lstm_backward(dx, caches[l])
        grads.update(with_prefix(f"l{l}.", g))
    grads["E"] = embedding_backward(dx, ecache)
    return grads


def loss_and_grads(params, ids, state=None, dropout=0.0, rng=None):
    """Mean cross-entropy (nats per character) of predicting ``ids[1:]`` from ``ids[:-1]``.

    ``ids``: ``(T + 1, B)`` integers. Returns ``(loss, grads, new_state)``; the state
    after the chunk is returned for carrying into the next chunk (truncated BPTT).
    """
    logits, new_state, cache = charlm_forward(params, ids[:-1], state, dropout, rng)
    loss, dlogits = softmax_cross_entropy(logits, ids[1:])
    return float(loss), charlm_backward(dlogits, cache), new_state


def streams(ids, B):
    """Cut a 1-d id array into ``B`` contiguous streams, time-major ``(N // B, B)``.

    Stream ``b`` is ``ids[b * L:(b + 1) * L]`` with ``L = N // B`` (the last ``N mod B``
    characters are dropped).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-d, received shape {ids.shape}")
    L = ids.size // B
    if L < 2:
        raise ValueError(f"{ids.size} characters are too few for {B} streams of at least 2")
    return np.ascontiguousarray(ids[:L * B].reshape(B, L).T)


def evaluate(params, ids, B=64, chunk=200, dtype="float64"):
    """Mean cross-entropy in nats per predicted character of a text (no dropout).

    The text ``ids`` is cut into ``B`` streams (:func:`streams`); each stream starts
    from a zero state and carries it from chunk to chunk, so every character except
    each stream's first is predicted from everything before it in its stream.
    The parameters are cast to ``dtype`` first (float64: reproducible to many digits).
    """
    params = {k: from_numpy(to_numpy(v), dtype=dtype) for k, v in params.items()}
    data = streams(ids, B)
    state, total, count = None, 0.0, 0
    for s in range(0, data.shape[0] - 1, chunk):
        block = data[s:s + chunk + 1]
        logits, state, _ = charlm_forward(params, block[:-1], state)
        logp = to_numpy(log_softmax(logits))
        tgt = block[1:]
        total += -float(np.take_along_axis(logp, tgt[..., None], axis=-1).sum())
        count += tgt.size
    return total / count


def make_step_fn(params, dtype="float64"):
    """A decoder step ``(log_probs (V,), state) = step_fn(state, token)`` for :mod:`labrnn.models.decoding`."""
    params = {k: from_numpy(to_numpy(v), dtype=dtype) for k, v in params.items()}
    L = _layers(params)
    layer_params = [subparams(params, f"l{l}.") for l in range(L)]
    E = params["E"]

    def step_fn(state, token):
        x = E[token:token + 1, :]
        new = []
        for l in range(L):
            st, _ = lstm_step_forward(x, state[l], layer_params[l])
            new.append(st)
            x = st[0]
        logits, _ = affine_forward(x, params["W_y"], params["b_y"])
        return log_softmax(logits)[0, :], new

    return step_fn


def sample_text(params, vocab, prompt="\n", length=200, seed=0, temperature=1.0, top_k=None):
    """Run ``prompt`` through the model, then sample ``length`` characters; returns the str.

    Sampling is :func:`labrnn.models.decoding.sample_decode` (softmax of ``log p / temperature``
    over the ``top_k`` most likely characters), seeded by ``seed``.
    """
    if not prompt:
        raise ValueError("prompt must hold at least one character (the model needs an input)")
    step_fn = make_step_fn(params)
    H = params["l0.W_h"].shape[1]
    L = _layers(params)
    state = [(from_numpy(np.zeros((1, H))), from_numpy(np.zeros((1, H)))) for _ in range(L)]
    ids = vocab.encode(prompt)
    for t in ids[:-1]:
        _, state = step_fn(state, int(t))
    hyp = sample_decode(step_fn, state, bos=int(ids[-1]), eos=-1, max_len=length, seed=seed,
                        temperature=temperature, top_k=top_k)
    return vocab.decode(hyp.tokens)


def _samples(params, vocab, seed):
    return [{"temperature": t, "top_k": k,
             "text": sample_text(params, vocab, prompt="\n", length=240, seed=seed,
                                 temperature=t, top_k=k)} for t, k in SAMPLE_SETTINGS]


def _to_bits(nats):
    return {"nats": nats, "bpc": nats / math.log(2), "perplexity": math.exp(nats)}


def train(*, hidden=384, layers=1, embed=48, T=64, B=64, steps=1000, lr=3e-3, warmup=50,
          final_lr_frac=0.05, dropout=0.2, clip=5.0, seed=0, eval_every=100, patience=5,
          sample_at=(), max_cpu_minutes=None, out=DEFAULT_CHECKPOINT, log_path=None,
          progress=True, text_path=None, test_slice=4000, init=None):
    """Train the model (truncated BPTT with a carried state, Adam, warm-up + cosine decay,
    global-norm clipping, output dropout), keep the parameters with the best validation
    loss and stop after ``patience`` evaluations without improvement (early stopping).

    ``init`` names a checkpoint to continue from (its parameters, with fresh optimiser
    moments and a new warm-up; its configuration must match). The log then keeps the
    earlier run's curves under ``previous`` and counts updates on from its best step.

    Returns ``(best_params, log)``; with ``out`` not ``None`` also writes the checkpoint
    ``out.npz/.json`` and the log (``log_path``, default ``out``'s folder ``/log.json``).
    """
    from tqdm.auto import tqdm

    t_start, cpu_start = time.perf_counter(), time.process_time()
    text = tinyshakespeare.load_text(text_path)
    vocab = CharVocab(text)
    train_txt, val_txt, test_txt = tinyshakespeare.split_text(text)
    train_ids, val_ids, test_ids = (vocab.encode(s) for s in (train_txt, val_txt, test_txt))
    V = len(vocab)
    rng = np.random.default_rng(seed)
    params = init_charlm(V, hidden, layers, embed, seed=int(rng.integers(2**31)))
    previous, offset = None, 0
    if init is not None:
        loaded, meta = load_checkpoint(init)
        if set(loaded) != set(params) or any(loaded[k].shape != tuple(params[k].shape)
                                             for k in params):
            raise ValueError(f"init checkpoint {init} does not match hidden={hidden}, "
                             f"layers={layers}, embed={embed}: its arrays are {meta['arrays']}")
        params = {k: from_numpy(v, dtype="float32") for k, v in loaded.items()}
        prev_log = Path(init).parent / "log.json"
        previous = json.loads(prev_log.read_text()) if prev_log.is_file() else {}
        previous["checkpoint_metrics"] = meta["metrics"]
        offset = int(meta["metrics"].get("best_step", 0))      # updates counted globally
    opt = Adam(lr=lr)
    data = streams(train_ids, B)
    chunks_per_epoch = (data.shape[0] - 1) // T
    config = dict(cell="lstm", hidden=hidden, layers=layers, embed=embed, T=T, B=B,
                  steps=steps, lr=lr, warmup=warmup, final_lr_frac=final_lr_frac,
                  dropout=dropout, clip=clip, seed=seed, eval_every=eval_every,
                  patience=patience, dtype="float32", vocab="".join(vocab.chars),
                  max_cpu_minutes=max_cpu_minutes, init=None if init is None else str(init),
                  offset=offset)
    log = {"config": config, "train": [], "val": [], "samples": [], "stopped": None}
    if previous is not None:
        log["previous"] = previous
    best = (math.inf, None, -1)
    if previous is not None:           # the continuation must beat the checkpoint it starts from
        best = (float(meta["metrics"]["val_nats"]), {k: np.array(v) for k, v in loaded.items()},
                offset)
    state, running, n_run, bad_evals = None, 0.0, 0, 0
    sample_at = set(int(s) for s in sample_at)
    bar = tqdm(range(1, steps + 1), disable=not progress, desc="charlm", unit="step")
    step = 0
    for step in bar:
        c = (step - 1) % chunks_per_epoch
        if c == 0:
            state = None                                   # a new epoch starts afresh
        opt.lr = warmup_cosine(step - 1, base_lr=lr, total_steps=steps, warmup_steps=warmup,
                               final_lr=lr * final_lr_frac)
        ids = data[c * T:c * T + T + 1]
        loss, grads, state = loss_and_grads(params, ids, state, dropout, rng)
        grads, _ = clip_by_global_norm(grads, clip)
        params = opt.step(params, grads)
        running += loss
        n_run += 1
        if step in sample_at:
            log["samples"].append({"step": offset + step, "samples": _samples(params, vocab, seed)})
        if step % eval_every == 0 or step == steps:
            val = evaluate(params, val_ids, dtype="float32")
            log["train"].append([offset + step, running / n_run])
            log["val"].append([offset + step, val])
            running, n_run = 0.0, 0
            bar.set_postfix(train=f"{log['train'][-1][1]:.3f}", val=f"{val:.3f}")
            if val < best[0]:
                best, bad_evals = (val, {k: np.array(to_numpy(v)) for k, v in params.items()},
                                   offset + step), 0
            else:
                bad_evals += 1
            if bad_evals >= patience:
                log["stopped"] = f"early stopping at step {step}: no better validation loss " \
                                 f"in {patience} evaluations"
                break
            if max_cpu_minutes and time.process_time() - cpu_start > 60 * max_cpu_minutes:
                log["stopped"] = (f"CPU-time budget of {max_cpu_minutes} minutes reached at "
                                  f"step {step}")
                break
    bar.close()
    wall, cpu = time.perf_counter() - t_start, time.process_time() - cpu_start
    best_val, best_params, best_step = best
    if best_params is None:
        best_params = {k: np.array(to_numpy(v)) for k, v in params.items()}
        best_step = offset + step
    log["best_step"], log["last_step"], log["wall_time_s"] = best_step, offset + step, round(wall, 1)
    log["cpu_time_s"] = round(cpu, 1)
    log["samples"].append({"step": best_step, "best": True,
                           "samples": _samples(best_params, vocab, seed)})
    test = evaluate(best_params, test_ids)
    val64 = evaluate(best_params, val_ids)
    sl = evaluate(best_params, test_ids[:test_slice], B=8)
    metrics = {"val_nats": val64, "test_nats": test, "test_bpc": test / math.log(2),
               "test_perplexity": math.exp(test), "test_slice_chars": test_slice,
               "test_slice_B": 8, "test_slice_nats": sl, "best_step": best_step,
               "epochs": best_step / chunks_per_epoch, "train_cpu_time_s": round(cpu, 1)}
    if out is not None:
        out = Path(out)
        save_checkpoint(out, best_params, config=config, metrics=metrics,
                        data_files=[data_file(*tinyshakespeare.TEXT_FILE) if text_path is None
                                    else text_path],
                        wall_time_s=wall)
        log_path = Path(log_path) if log_path else out.parent / "log.json"
        log_path.write_text(json.dumps(log, indent=1) + "\n")
    log["metrics"] = metrics
    return best_params, log


def load_model(path=DEFAULT_CHECKPOINT):
    """``(params, vocab, meta)`` of a saved model (host float32 arrays)."""
    params, meta = load_checkpoint(path)
    return params, CharVocab(meta["config"]["vocab"]), meta


def main(argv=None):
    """Command-line entry: ``python -m labrnn.apps.charlm train [options]``."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.apps.charlm",
                                 description="Character-level LSTM language model on tinyshakespeare")
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train and write the checkpoint and the log")
    tr.add_argument("--hidden", type=int, default=384)
    tr.add_argument("--layers", type=int, default=1)
    tr.add_argument("--embed", type=int, default=48)
    tr.add_argument("--T", type=int, default=64, help="truncation length (characters per chunk)")
    tr.add_argument("--B", type=int, default=64, help="parallel streams (batch size)")
    tr.add_argument("--steps", type=int, default=1000)
    tr.add_argument("--lr", type=float, default=3e-3)
    tr.add_argument("--warmup", type=int, default=50)
    tr.add_argument("--dropout", type=float, default=0.2)
    tr.add_argument("--clip", type=float, default=5.0)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--eval-every", type=int, default=100)
    tr.add_argument("--patience", type=int, default=4)
    tr.add_argument("--sample-at", type=int, nargs="*", default=[25, 100, 300, 600])
    tr.add_argument("--max-cpu-minutes", type=float, default=None,
                    help="stop (keeping the best parameters) after this much CPU time")
    tr.add_argument("--out", default=str(DEFAULT_CHECKPOINT))
    tr.add_argument("--init", default=None,
                    help="continue from this checkpoint (same sizes; fresh optimiser and warm-up)")
    ev = sub.add_parser("evaluate", help="recompute a checkpoint's test metrics")
    ev.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    args = ap.parse_args(argv)
    if args.command == "train":
        _, log = train(hidden=args.hidden, layers=args.layers, embed=args.embed, T=args.T,
                       B=args.B, steps=args.steps, lr=args.lr, warmup=args.warmup,
                       dropout=args.dropout, clip=args.clip, seed=args.seed,
                       eval_every=args.eval_every, patience=args.patience,
                       sample_at=args.sample_at, max_cpu_minutes=args.max_cpu_minutes, out=args.out,
                       init=args.init)
        print(json.dumps(log["metrics"], indent=1))
    else:
        params, vocab, meta = load_model(args.checkpoint)
        test = tinyshakespeare.load_splits()[2]
        nats = evaluate(params, vocab.encode(test))
        print(json.dumps({**_to_bits(nats), "stored": meta["metrics"]["test_nats"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
