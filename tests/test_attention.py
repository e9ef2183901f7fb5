"""Attention: additive and multiplicative scores, masks, gradients (chapter 11)."""

import numpy as np
import pytest

import labrnn
from labrnn.layers.attention import attention_backward, attention_forward, init_attention
from labrnn.errors import DTypeError, ShapeError
from labrnn.layers.masking import sequence_mask

T, B, Hq, Hk = 4, 3, 2, 3
LENGTHS = [4, 2, 3]


def _problem(backend, score, seed=0):
    rng = np.random.default_rng(seed)
    Hq_ = Hk if score == "dot" else Hq
    params = init_attention(score, Hq_, Hk, A=2, seed=seed, xp=backend.xp, device=backend.device)
    q = backend.asarray(rng.normal(size=(B, Hq_)))
    keys = backend.asarray(rng.normal(size=(T, B, Hk)))
    mask = sequence_mask(backend.asarray(np.array(LENGTHS)), T)
    return q, keys, params, mask


@pytest.mark.parametrize("score", ["additive", "general", "dot"])
def test_gradcheck_with_mask(backend, score):
    q, keys, params, mask = _problem(backend, score)
    xp = backend.xp
    rng = np.random.default_rng(1)
    r_c = backend.asarray(rng.normal(size=(B, Hk)))
    r_a = backend.asarray(rng.normal(size=(T, B)))

    def loss(inp):
        c, a, _ = attention_forward(inp["q"], inp["keys"], inp, score, mask)
        return xp.sum(c * r_c) + xp.sum(a * r_a)

    c, a, cache = attention_forward(q, keys, params, score, mask)
    dq, dkeys, grads = attention_backward(r_c, cache, dalpha=r_a)
    labrnn.gradcheck(loss, {"q": q, "keys": keys, **params},
                     {"q": dq, "keys": dkeys, **grads}).assert_ok(1e-6)
    an, dkn = backend.to_numpy(a), backend.to_numpy(dkeys)
    for b, L in enumerate(LENGTHS):
        assert np.all(an[L:, b] == 0.0) and np.all(dkn[L:, b] == 0.0)
        assert an[:L, b].sum() == pytest.approx(1.0, abs=1e-14)
    assert backend.on_this_device(c) and backend.on_this_device(dq)


@pytest.mark.parametrize("score", ["additive", "general", "dot"])
def test_padding_invariance_and_reference_formula(score):
    from conftest import make_backend
    q, keys, params, mask = _problem(make_backend("numpy"), score)
    c, a, _ = attention_forward(q, keys, params, score, mask)
    for b, L in enumerate(LENGTHS):
        kb = keys[:L, b]
        if score == "additive":
            e = np.tanh(kb @ params["W_k"].T + q[b] @ params["W_q"].T) @ params["v"]
        elif score == "general":
            e = kb @ (q[b] @ params["W_a"])
        else:
            e = kb @ q[b]
        w = np.exp(e - e.max())
        w /= w.sum()
        np.testing.assert_allclose(a[:L, b], w, rtol=1e-12)
        np.testing.assert_allclose(c[b], w @ kb, rtol=1e-12)
        c1, a1, _ = attention_forward(q[b:b + 1], keys[:L, b:b + 1], params, score)
        np.testing.assert_allclose(c[b], c1[0], rtol=1e-12)


def test_errors():
    q, keys, params, mask = _problem(__import__("conftest").make_backend("numpy"), "general")
    with pytest.raises(ValueError, match="unknown attention score 'cosine'"):
        attention_forward(q, keys, params, "cosine")
    with pytest.raises(ValueError, match=r"mask must hold only 0 and 1 \(or False/True\)"):
        attention_forward(q, keys, params, "general", mask=np.full((T, B), 0.5))
    with pytest.raises(DTypeError, match="mask must be boolean or hold 0/1 numbers"):
        attention_forward(q, keys, params, "general", mask=np.ones((T, B), dtype=complex))
    with pytest.raises(ShapeError, match=r"q must have shape \(B=3, Hq\)"):
        attention_forward(q[:2], keys, params, "general")
    with pytest.raises(ShapeError, match=r"params\['W_a'\] must have shape \(Hq=2, Hk=3\)"):
        attention_forward(q, keys, {"W_a": np.ones((3, 3))}, "general")
    with pytest.raises(ValueError, match="dot attention needs Hq == Hk"):
        init_attention("dot", 2, 3)
    with pytest.raises(ValueError, match="masks every step"):
        attention_forward(q, keys, params, "general", mask=np.zeros((T, B), dtype=bool))
