"""The date translator's script: batched greedy decoding, committed checkpoints, and a few training steps."""

from pathlib import Path

import numpy as np
import pytest

from labrnn import greedy_decode
from labrnn.apps import dates as app
from labrnn.training.checkpoint import load_checkpoint
from labrnn.datasets import dates as D
from labrnn.models.seq2seq import init_seq2seq, make_step_fn, seq2seq_encode

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = sorted((ROOT / "checkpoints" / "dates").glob("*.npz"))


@pytest.mark.parametrize("decoder", ["attention", "feed"])
def test_batched_greedy_equals_greedy_decode_one_by_one(decoder):
    params = init_seq2seq(len(D.SRC_ALPHABET), len(D.TGT_TOKENS), 8, 12, decoder=decoder,
                          cell="gru", seed=3)
    params = {k: v * 3.0 for k, v in params.items()}          # larger weights: varied outputs
    pairs = D.generate(12, 9, formats=tuple(D.FORMATS))
    kw = {"decoder": decoder, "cell": "gru", "score": "additive"}
    batched = app.greedy_batch(params, pairs, kw)
    step = make_step_fn(params, **kw)
    for (src, _, _), got in zip(pairs, batched):
        state, _ = seq2seq_encode(np.array(D.encode_source(src))[:, None], params, **kw)
        hyp = greedy_decode(step, state, D.BOS, D.EOS, max_len=app.MAX_LEN)
        assert got == D.decode_target(hyp.tokens)
    assert len(set(batched)) > 1


def test_there_are_committed_checkpoints():
    names = {p.stem for p in CHECKPOINTS}
    assert {"attention", "no_attention"} <= names, f"found {names}"


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.stem)
def test_committed_checkpoint_reproduces_its_test_metric(path):
    params, meta = load_checkpoint(path.with_suffix(""))
    kw = app.model_kw(meta["config"])
    test = app.test_pairs(meta["metrics"]["n_test"])
    right = app.exact_match(params, test, kw)
    assert right == round(meta["metrics"]["test_exact_match_greedy"] * len(test))


def test_a_few_training_steps_lower_the_loss():
    _, log = app.train("attention", H=16, batch=16, steps=40, lr=1e-2, eval_every=40,
                       progress=False)
    loss = log["loss"]
    assert len(loss) == 40 and np.mean(loss[-10:]) < 0.8 * np.mean(loss[:10])


def test_cli_refuses_an_unknown_decoder(capsys):
    with pytest.raises(SystemExit):
        app.main(["train", "--decoder", "transformer", "--out", "x"])
    assert "invalid choice: 'transformer'" in capsys.readouterr().err
