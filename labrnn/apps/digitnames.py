"""Spell the English name of a handwritten digit from its 8 x 8 image (book chapter 19).

::

    python -m labrnn.apps.digitnames train          # 8 min on a busy shared 2-core machine
    python -m labrnn.apps.digitnames evaluate

Data: :func:`labrnn.datasets.digits.load_split` (1257 training images, 540
test images held out, stratified). Model: :mod:`labrnn.models.vec2seq`, equation
``vec2seq``: the 64 pixels are encoded by an affine layer and ``tanh`` into
the initial state of a GRU decoder that spells the name one character at a
time until ``<eos>``. Training: teacher forcing, masked cross-entropy, Adam,
minibatches drawn with a seeded generator; no model selection (the last
parameters are kept), so the test set is used once, for the final figures.
The checkpoint ``checkpoints/digitnames/gru`` records the test exact-name
accuracy of greedy decoding and of beam search, which :func:`evaluate`
recomputes.
"""

from __future__ import annotations

import sys

import numpy as np

from ..backend import host_rng
from ..training.checkpoint import load_checkpoint
from ..datasets.digits import BOS, DIGIT_NAMES, EOS, NAME_VOCAB, decode_name, encode_names, load_split
from ..models.decoding import beam_search, greedy_decode
from ..training.optim import Adam
from ..models.vec2seq import init_vec2seq, make_step_fn, vec2seq_encode, vec2seq_loss
from .common import checkpoint_dir, fit, save_run, train_cli

__all__ = ["CONFIG", "MAX_LEN", "generate", "evaluate", "train", "load", "main"]

CONFIG = {"cell": "gru", "H": 64, "E": 16, "B": 64, "steps": 3000, "lr": 3e-3, "max_norm": 1.0,
          "seed": 0, "beam_width": 3}
MAX_LEN = 8          # the longest name has 5 letters and <eos>


def generate(params, images, cell="gru", beam_width=None):
    """Decode a name for every image (N, 64): greedy, or beam search if ``beam_width``.

    Returns a list of :class:`labrnn.models.decoding.Hypothesis` (tokens end with
    ``<eos>`` when it was produced); :func:`labrnn.datasets.digits.decode_name`
    turns one into a string.
    """
    step = make_step_fn(params, cell)
    hyps = []
    for v in np.asarray(images, dtype=np.float64):
        state, _ = vec2seq_encode(v[None, :], params, cell)
        if beam_width is None:
            hyps.append(greedy_decode(step, state, BOS, EOS, MAX_LEN))
        else:
            hyps.append(beam_search(step, state, BOS, EOS, MAX_LEN, beam_width)[0])
    return hyps


def _accuracy(hyps, labels):
    return float(np.mean([decode_name(h.tokens) == DIGIT_NAMES[int(k)]
                          for h, k in zip(hyps, labels)]))


def evaluate(params, cell="gru", beam_width=3, data=None):
    """Test exact-name accuracy, greedy and beam: ``{"test_greedy": .., "test_beam": ..}``."""
    d = load_split() if data is None else data
    return {"test_greedy": _accuracy(generate(params, d["X_test"], cell), d["y_test"]),
            "test_beam": _accuracy(generate(params, d["X_test"], cell, beam_width), d["y_test"])}


def train(steps=None, seed=None, out=None, progress=True, save=True, final_eval=True,
          **overrides):
    """Train with :data:`CONFIG` (keys overridable); returns ``(params, record)``.

    ``final_eval=False`` skips decoding the test and training images at the end
    (``record["metrics"]`` is then empty; a quick smoke run).

    With ``save=True`` writes ``<out>/gru.npz|.json`` and ``<out>/log.json``
    (``out`` defaults to ``checkpoints/digitnames``).
    """
    cfg = dict(CONFIG, **overrides)
    if steps is not None:
        cfg["steps"] = int(steps)
    if seed is not None:
        cfg["seed"] = int(seed)
    d = load_split()
    cell = cfg["cell"]
    params = init_vec2seq(64, len(NAME_VOCAB), cfg["E"], cfg["H"], cell, seed=cfg["seed"])
    opt = Adam(cfg["lr"])
    rng = host_rng([1, cfg["seed"]])
    N = len(d["y_train"])

    def loss_and_grads(step):
        idx = rng.integers(0, N, size=cfg["B"])
        tgt, lengths = encode_names(d["y_train"][idx])
        loss, grads, _ = vec2seq_loss(d["X_train"][idx], tgt, params, BOS, cell, lengths)
        return loss, grads

    losses, seconds = fit(loss_and_grads, params, opt, cfg["steps"], cfg["max_norm"],
                          desc="digit names", progress=progress)
    metrics = {}
    if final_eval:
        metrics = evaluate(params, cell, cfg["beam_width"], d)
        metrics["train_greedy"] = _accuracy(generate(params, d["X_train"], cell), d["y_train"])
    record = {"config": cfg, "train_loss": losses, "metrics": metrics,
              "wall_time_s": round(seconds, 1)}
    if save:
        save_run("digitnames", cell, params, record, out)
    return params, record


def load(path=None):
    """The committed checkpoint ``(params, meta)`` (default ``checkpoints/digitnames/gru``)."""
    return load_checkpoint(path or checkpoint_dir("digitnames") / "gru")


def main(argv=None):
    """Command line: ``train [--steps N] [--seed S] [--out DIR]`` or ``evaluate [--path P]``."""
    return train_cli("digitnames", __doc__, argv, CONFIG, train, load,
                     lambda params, meta: evaluate(params, meta["config"]["cell"],
                                                     meta["config"]["beam_width"]))


if __name__ == "__main__":
    sys.exit(main())
