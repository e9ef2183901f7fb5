"""Embedding and dense layers with their backward passes (chapter 10)."""

import numpy as np
import pytest

import labrnn
from labrnn.layers.embedding import embedding_backward, embedding_forward, init_embedding
from labrnn.errors import DTypeError

V, Demb, O, T, B = 5, 3, 2, 4, 2


def test_embedding_then_dense_gradcheck(backend):
    xp = backend.xp
    E = init_embedding(V, Demb, seed=0, scale=1.0, xp=xp, device=backend.device)
    W = backend.asarray(np.random.default_rng(1).normal(size=(O, Demb)))
    b = backend.asarray(np.random.default_rng(2).normal(size=O))
    ids = backend.asarray(np.array([[0, 4], [2, 2], [4, 1], [2, 0]]))     # repeated ids add up
    r = backend.asarray(np.random.default_rng(3).normal(size=(T, B, O)))

    def loss(inp):
        e, _ = embedding_forward(ids, inp["E"])
        y, _ = labrnn.affine_forward(e, inp["W"], inp["b"])
        return xp.sum(y * r)

    e, ce = embedding_forward(ids, E)
    y, ca = labrnn.affine_forward(e, W, b)
    de, dW, db = labrnn.affine_backward(r, ca)
    dE = embedding_backward(de, ce)
    labrnn.gradcheck(loss, {"E": E, "W": W, "b": b}, {"E": dE, "W": dW, "b": db}).assert_ok(1e-6)
    np.testing.assert_array_equal(backend.to_numpy(e)[1, 0], backend.to_numpy(E)[2])
    assert np.all(backend.to_numpy(dE)[3] == 0)          # id 3 never read: no gradient
    assert backend.on_this_device(dE)


def test_errors():
    E = init_embedding(V, Demb)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, V=5\), found values in \[0, 5\]"):
        embedding_forward(np.array([0, 5]), E)
    with pytest.raises(DTypeError, match="ids must hold integer token ids"):
        embedding_forward(np.array([0.0, 1.0]), E)
    e, cache = embedding_forward([[1, 2]], E)
    assert e.shape == (1, 2, Demb)
    with pytest.raises(labrnn.ShapeError, match="de must have shape"):
        embedding_backward(np.zeros((2, Demb)), cache)
