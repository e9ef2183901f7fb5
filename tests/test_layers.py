"""labrnn.layers.affine: the affine output layer ``y = h W^T + b``."""

import numpy as np
import pytest

import labrnn
from labrnn import DTypeError, ShapeError


@pytest.mark.parametrize("lead", [(3,), (2, 3)], ids=["(B,H)", "(T,B,H)"])
def test_affine_values_and_gradients(backend, lead):
    rng = np.random.default_rng(0)
    H, O = 4, 3
    h_np, W_np, b_np = rng.standard_normal(lead + (H,)), rng.standard_normal((O, H)), rng.standard_normal(O)
    G = backend.asarray(rng.standard_normal(lead + (O,)))
    inputs = {"h": backend.asarray(h_np), "W": backend.asarray(W_np), "b": backend.asarray(b_np)}

    y, cache = labrnn.affine_forward(inputs["h"], inputs["W"], inputs["b"])
    assert backend.on_this_device(y)
    np.testing.assert_allclose(backend.to_numpy(y), h_np @ W_np.T + b_np, rtol=1e-13)

    dh, dW, db = labrnn.affine_backward(G, cache)
    xp = labrnn.namespace(y)

    def loss(inp):
        return xp.sum(labrnn.affine_forward(inp["h"], inp["W"], inp["b"])[0] * G)

    labrnn.gradcheck(loss, inputs, {"h": dh, "W": dW, "b": db}).assert_ok(1e-6)


def test_affine_errors(backend):
    W, b = backend.asarray(np.ones((3, 4))), backend.asarray(np.ones(3))
    with pytest.raises(ShapeError, match=r"h must have shape \(·, ·, H=4\), received \(2, 5, 3\)"):
        labrnn.affine_forward(backend.asarray(np.ones((2, 5, 3))), W, b)
    with pytest.raises(ShapeError, match=r"b must have shape \(O=3,\), received \(4,\)"):
        labrnn.affine_forward(backend.asarray(np.ones((2, 4))), W, backend.asarray(np.ones(4)))
    with pytest.raises(DTypeError, match=r"h has dtype \S*float32 but the parameters have dtype \S*float64"):
        labrnn.affine_forward(backend.asarray(np.ones((2, 4)), dtype="float32"), W, b)
