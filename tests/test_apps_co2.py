"""The CO2 forecasters' script: rollout consistency, committed checkpoints, and a few training steps."""

from pathlib import Path

import numpy as np
import pytest

from labrnn.apps import co2 as app
from labrnn.cells import cell_forward, init_cell
from labrnn.training.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = sorted((ROOT / "checkpoints" / "co2").glob("*.npz"))


@pytest.fixture(scope="module")
def st():
    return app.setup()


def test_rollout_feeds_its_forecasts_back(st):
    params = init_cell("gru", 3, 8, 1, seed=2)
    o, _ = app.split_origins(st, "test")
    for model in ("diff", "levels"):
        roll = app.rollout_forecast(params, st, model, o, horizon=5)
        np.testing.assert_allclose(roll[:, 0], app.onestep_forecast(params, st, model, o),
                                   rtol=1e-12)
        # step k + 1 of the rollout = the network run over the window and the first k
        # forecasts written into the series, read out once
        k, o0 = 3, int(o[0])
        y2 = st.y.copy()
        y2[o0 + 1:o0 + 1 + k] = roll[0, :k]
        x = app.features(st, model, y2)[o0 - app.WINDOW + 1:o0 + k + 1][:, None, :]
        h, _, _ = cell_forward("gru", x, params)
        u = (h[-1] @ params["W_hy"].T + params["b_y"])[0, 0]
        want = u * st.s + st.m if model == "levels" else y2[o0 + k] + st.mu + st.sigma * u
        np.testing.assert_allclose(roll[0, k], want, rtol=1e-12)


def test_features_are_normalised_on_the_training_years(st):
    tr = st.split["train"]
    F = app.features(st, "diff")[1:tr.stop]
    assert abs(F[:, 0].mean()) < 1e-12 and abs(F[:, 0].std() - 1) < 1e-12
    L = app.features(st, "levels")[:tr.stop]
    assert abs(L[:, 0].mean()) < 1e-12 and abs(L[:, 0].std() - 1) < 1e-12


def test_there_are_committed_checkpoints():
    names = {p.stem for p in CHECKPOINTS}
    assert {f"{m}_s{s}" for m in app.MODELS for s in range(3)} <= names, f"found {names}"


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.stem)
def test_committed_checkpoint_reproduces_its_test_errors(path, st):
    params, meta = load_checkpoint(path.with_suffix(""))
    got = app.evaluate_params(params, st, meta["config"]["model"], "test")
    for key in ("rmse", "mae"):
        np.testing.assert_allclose(got[key], meta["metrics"]["test"][key], rtol=1e-9)


@pytest.mark.parametrize("model", app.MODELS)
def test_a_few_training_steps_lower_the_loss(model):
    _, log = app.train(model, H=8, steps=60, eval_every=60, lr=1e-2, progress=False)
    loss = log["loss"]
    assert len(loss) == 60 and np.mean(loss[-10:]) < np.mean(loss[:10])


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match=r"model must be one of \['diff', 'direct', 'levels'\]"):
        app.train("arima", steps=1)
