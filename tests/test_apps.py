"""Training scripts (labrnn.apps): the committed checkpoints reproduce their stored metrics,
a few training steps lower the loss, and the command lines parse."""

import numpy as np
import pytest

from labrnn.apps import digitnames, flipflop, lorenz, recall
from labrnn.apps.common import checkpoint_dir, loss_went_down


def test_flipflop_checkpoint_reproduces_its_metrics():
    params, meta = flipflop.load()
    m = flipflop.evaluate(params)
    assert m["test_accuracy"] == meta["metrics"]["test_accuracy"] >= 0.99
    assert m["test_mse"] == pytest.approx(meta["metrics"]["test_mse"], rel=1e-9)


def test_lorenz_checkpoint_reproduces_its_metrics():
    params, meta = lorenz.load()
    m = lorenz.evaluate(params)
    assert m["divergence_steps"] == meta["metrics"]["divergence_steps"]
    assert m["one_step_rmse"] == pytest.approx(meta["metrics"]["one_step_rmse"], rel=1e-9)
    assert m["median_divergence_lyapunov"] == meta["metrics"]["median_divergence_lyapunov"]


def test_digitnames_checkpoint_reproduces_its_metrics():
    params, meta = digitnames.load()
    m = digitnames.evaluate(params, meta["config"]["cell"], meta["config"]["beam_width"])
    assert m["test_greedy"] == meta["metrics"]["test_greedy"] >= 0.95
    assert m["test_beam"] == meta["metrics"]["test_beam"]


def test_recall_checkpoints_reproduce_their_metrics():
    for cell in recall.CELLS:
        for P in recall.PAIRS:
            for seed in recall.SEEDS:
                params, meta = recall.load(cell, P, seed)
                assert recall.accuracy(cell, params, P) == meta["metrics"]["test_accuracy"], \
                    recall.run_name(cell, P, seed)


def test_flipflop_training_lowers_the_loss():
    _, rec = flipflop.train(steps=40, save=False, progress=False)
    assert loss_went_down(rec["train_loss"])


def test_lorenz_training_lowers_the_loss(tmp_path):
    _, rec = lorenz.train(steps=30, out=tmp_path, progress=False, n_train=8, n_test=2,
                          traj_steps=1200)
    assert loss_went_down(rec["train_loss"])
    assert (tmp_path / "gru.npz").is_file() and (tmp_path / "log.json").is_file()
    assert len(rec["metrics"]["divergence_steps"]) == 2


def test_digitnames_training_lowers_the_loss():
    _, rec = digitnames.train(steps=30, save=False, progress=False, final_eval=False)
    assert loss_went_down(rec["train_loss"])


def test_recall_training_lowers_the_loss():
    _, losses, _, acc = recall.train_one("gru", 1, 0, progress=False, steps=60)
    assert loss_went_down(losses) and 0.0 <= acc <= 1.0


def test_command_lines(capsys, tmp_path):
    with pytest.raises(SystemExit):
        flipflop.main(["fly"])
    assert "invalid choice" in capsys.readouterr().err
    assert flipflop.main(["train", "--steps", "2", "--out", str(tmp_path)]) == 0
    assert "test_accuracy" in capsys.readouterr().out
    assert flipflop.main(["evaluate", "--path", str(tmp_path / "elman")]) == 0
    assert checkpoint_dir("x", tmp_path) == tmp_path
    assert checkpoint_dir("flipflop").parts[-2:] == ("checkpoints", "flipflop")


def test_loss_went_down_needs_enough_values():
    assert loss_went_down([3.0] * 5 + [1.0] * 5)
    assert not loss_went_down([1.0] * 10)
    with pytest.raises(ValueError, match="need at least 10 losses to compare, received 4"):
        loss_went_down([1.0] * 4)


def test_lorenz_rollout_feeds_its_own_predictions_back():
    from labrnn.cells import init_cell
    params = init_cell("gru", 3, 8, 3, seed=0)
    warm = lorenz.data("test", n_test=2, traj_steps=200)[:20]
    free = lorenz.rollout(params, warm, 3)
    assert free.shape == (3, 2, 3)
    # step k + 1 of the rollout equals a rollout warmed up on the true states plus the
    # rollout's own first k predictions
    again = lorenz.rollout(params, np.concatenate([warm, free[:1]]), 2)
    np.testing.assert_allclose(again, free[1:], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lorenz.denormalise(lorenz.normalise(warm)), warm, rtol=1e-15)


def test_flipflop_hidden_states_shape():
    params, _ = flipflop.load()
    x, _ = flipflop.test_set()
    assert flipflop.hidden_states(params, x[:5, :2]).shape == (5, 2, 64)
