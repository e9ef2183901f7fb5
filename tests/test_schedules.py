"""Learning-rate schedules (chapter 12): warm-up + cosine and step decay, and their errors."""

import math

import pytest

from labrnn.training.schedules import step_decay, warmup_cosine


def test_warmup_cosine_by_hand():
    kw = dict(base_lr=1.0, total_steps=12, warmup_steps=4, final_lr=0.1)
    assert [warmup_cosine(s, **kw) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert warmup_cosine(4, **kw) == 1.0                              # the top of the cosine
    assert warmup_cosine(8, **kw) == pytest.approx(0.55, rel=1e-15)   # half way: the mean
    assert warmup_cosine(12, **kw) == pytest.approx(0.1, rel=1e-15)
    assert warmup_cosine(100, **kw) == 0.1
    rates = [warmup_cosine(s, **kw) for s in range(4, 13)]
    assert all(a > b for a, b in zip(rates, rates[1:]))               # decays monotonically
    assert warmup_cosine(0, base_lr=2.0, total_steps=10) == 2.0       # no warm-up


def test_step_decay_by_hand():
    assert [step_decay(s, base_lr=0.8, every=3, factor=0.5) for s in range(7)] == \
        [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]


def test_schedule_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"step must be an integer >= 0, received -1"):
        warmup_cosine(-1, base_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match=r"base_lr must be a positive finite number, received 0"):
        warmup_cosine(0, base_lr=0, total_steps=5)
    with pytest.raises(ValueError, match=r"warmup_steps must be below total_steps=5, received 5"):
        warmup_cosine(0, base_lr=1.0, total_steps=5, warmup_steps=5)
    with pytest.raises(ValueError, match=r"final_lr must not exceed base_lr=1.0, received 2"):
        warmup_cosine(0, base_lr=1.0, total_steps=5, final_lr=2)
    with pytest.raises(ValueError, match=r"base_lr must be a positive finite number, received nan"):
        step_decay(0, base_lr=math.nan, every=2)
    with pytest.raises(ValueError, match=r"every must be an integer >= 1, received 0"):
        step_decay(0, base_lr=1.0, every=0)
    with pytest.raises(ValueError, match=r"factor must lie in \(0, 1\], received 1.5"):
        step_decay(0, base_lr=1.0, every=2, factor=1.5)
