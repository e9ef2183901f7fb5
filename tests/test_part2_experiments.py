"""labrnn.lab.experiments, Part II: the training loop and measurements for every cell."""

import math

import numpy as np
import pytest

import labrnn
from labrnn.cells import init_cell
from labrnn.lab.data import adding_problem
from labrnn.lab.experiments import (cell_loss_and_grads, delayed_copy, evaluate_cell,
                                seconds_per_step, train, train_cell)

VARIANTS = [("elman", {}), ("lstm", {}), ("lstm", {"peephole": True}),
            ("gru", {"reset": "after"}), ("gru", {"reset": "before"})]
IDS = ["elman", "lstm", "lstm-peephole", "gru-after", "gru-before"]


def _adding(T=6, B=4):
    return lambda step: adding_problem(T, B, seed=step)


@pytest.mark.parametrize("many_to_one", [True, False], ids=["many-to-one", "many-to-many"])
@pytest.mark.parametrize("cell, variant", VARIANTS, ids=IDS)
def test_loss_gradients_pass_a_gradient_check(cell, variant, many_to_one):
    T, B, D, H, O = 4, 2, 2, 3, 2
    rng = np.random.default_rng(0)
    p = init_cell(cell, D, H, O, seed=0, **variant)
    for k in p:
        p[k] = p[k] + 0.2 * rng.normal(size=p[k].shape)
    x = rng.normal(size=(T, B, D))
    y = rng.normal(size=(B, O) if many_to_one else (T, B, O))

    def f(q):
        return cell_loss_and_grads(cell, q, x, y, "mse", many_to_one=many_to_one)[0]

    value, grads, z = cell_loss_and_grads(cell, p, x, y, "mse", many_to_one=many_to_one)
    assert set(grads) == set(p) and z.shape == y.shape
    labrnn.gradcheck(f, p, grads).assert_ok(1e-6)


def test_for_the_elman_cell_it_is_the_part_one_loop():
    runs = []
    for loop in (train, train_cell):
        p = init_cell("elman", 2, 6, 1, seed=0)
        args = (p, _adding(), labrnn.Adam(1e-2))
        kw = dict(loss="mse", many_to_one=True, steps=20, max_norm=1.0)
        runs.append(loop("elman", *args, **kw) if loop is train_cell else loop(*args, **kw))
    assert runs[0].loss == pytest.approx(runs[1].loss, rel=1e-12)
    assert runs[0].grad_norm == pytest.approx(runs[1].grad_norm, rel=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_learn_the_short_adding_problem_reproducibly(cell):
    hists = []
    for _ in range(2):
        p = init_cell(cell, 2, 8, 1, seed=3)
        hists.append(train_cell(cell, p, _adding(T=5, B=16), labrnn.Adam(1e-2), loss="mse",
                                many_to_one=True, steps=120, max_norm=1.0))
    a, b = hists
    assert a.loss == b.loss
    assert a.steps == 120 and len(a.grad_norm) == 120 and not a.diverged
    assert a.final(20) < 0.5 * np.mean(a.loss[:20]) and a.final(20) < 0.167


def test_cross_entropy_sequence_labelling_with_an_lstm():
    p = init_cell("lstm", 2, 8, 2, seed=0)
    hist = train_cell("lstm", p, lambda s: delayed_copy(12, 8, 1, seed=s), labrnn.Adam(3e-2),
                      loss="cross_entropy", steps=60)
    assert hist.final(10) < 0.3 < math.log(2)


def test_train_cell_on_every_backend(backend):
    p = init_cell("gru", 2, 4, 1, seed=0, xp=backend.xp, device=backend.device)
    before = backend.to_numpy(p["W_h"]).copy()
    hist = train_cell("gru", p, _adding(), labrnn.Adam(1e-2), loss="mse", many_to_one=True,
                      steps=3)
    assert hist.steps == 3 and all(math.isfinite(v) for v in hist.loss)
    assert not np.array_equal(backend.to_numpy(p["W_h"]), before)
    assert backend.on_this_device(p["W_h"]) and backend.on_this_device(p["W_hy"])


def test_an_overflow_stops_the_run():
    p = init_cell("elman", 2, 4, 1, seed=0, W_hh_scale=3.0)
    hist = train_cell("elman", p, _adding(T=800, B=2), labrnn.SGD(0.1), loss="mse",
                      activation="relu", many_to_one=True, steps=3, on_nonfinite="stop")
    assert hist.diverged and hist.steps == 0 and hist.error.startswith("step 0: ")
    with pytest.raises(labrnn.NonFiniteError):
        with np.errstate(over="ignore", invalid="ignore"):
            train_cell("elman", init_cell("elman", 2, 4, 1, seed=0, W_hh_scale=3.0),
                       _adding(T=800, B=2), labrnn.SGD(0.1), loss="mse", activation="relu",
                       many_to_one=True, steps=1)


def test_evaluate_cell_returns_loss_and_outputs_and_leaves_params_alone():
    p = init_cell("lstm", 2, 5, 1, seed=1)
    x, y = adding_problem(7, 3, seed=0)
    before = {k: v.copy() for k, v in p.items()}
    value, z = evaluate_cell("lstm", p, x, y, "mse", many_to_one=True)
    assert isinstance(z, np.ndarray) and z.shape == (3, 1)
    assert value == pytest.approx(float(np.mean((z - y) ** 2)), rel=1e-12)
    assert all(np.array_equal(p[k], before[k]) for k in p)


def test_seconds_per_step_is_a_positive_time():
    p = init_cell("gru", 2, 4, seed=0)
    x = np.zeros((5, 2, 2))
    s = seconds_per_step("gru", p, x, repeats=2)
    assert math.isfinite(s) and 0 < s < 1
    with pytest.raises(ValueError, match="repeats"):
        seconds_per_step("gru", p, x, repeats=0)


def test_bad_arguments_are_refused():
    p = init_cell("lstm", 2, 4, 1, seed=0)
    with pytest.raises(ValueError, match="on_nonfinite"):
        train_cell("lstm", p, _adding(), labrnn.SGD(0.1), on_nonfinite="ignore")
    with pytest.raises(ValueError, match="steps"):
        train_cell("lstm", p, _adding(), labrnn.SGD(0.1), steps=2.5)
    with pytest.raises(KeyError, match=r"init_cell\('gru', D, H, O"):
        cell_loss_and_grads("gru", init_cell("gru", 2, 4, seed=0), *adding_problem(3, 2, seed=0))
