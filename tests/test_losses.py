"""labrnn.training.losses: values against NumPy formulas, gradients by central differences,
masks, numerical stability and the error messages."""

import numpy as np
import pytest

import labrnn
from labrnn import DTypeError, DeviceError, NonFiniteError, ShapeError

T, B, C = 3, 2, 4


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((T, B, C))


def _np_log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _gradcheck_loss(lossf, z, *args):
    _, dz = lossf(z, *args)
    labrnn.gradcheck(lambda d: lossf(d["z"], *args)[0], {"z": z}, {"z": dz}).assert_ok(1e-6)


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "mask"])
def test_softmax_cross_entropy(backend, masked):
    rng, z = _data(1)
    y = rng.integers(0, C, size=(T, B))
    m = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.float64) if masked else np.ones((T, B))
    nll = -np.take_along_axis(_np_log_softmax(z), y[..., None], axis=-1)[..., 0]
    ref = (nll * m).sum() / m.sum()
    args = (backend.asarray(y), backend.asarray(m) if masked else None)
    loss, dz = labrnn.softmax_cross_entropy(backend.asarray(z), *args)
    assert tuple(loss.shape) == () and backend.on_this_device(loss)
    np.testing.assert_allclose(float(loss), ref, rtol=1e-13)
    if masked:   # a masked position contributes no gradient
        assert not np.any(backend.to_numpy(dz)[1, 1]) and not np.any(backend.to_numpy(dz)[2, 0])
    _gradcheck_loss(labrnn.softmax_cross_entropy, backend.asarray(z), *args)


def test_mask_equals_dropping_the_positions(backend):
    rng, z = _data(2)
    y = rng.integers(0, C, size=(T, B))
    m = np.array([[1, 0], [1, 0], [1, 0]])
    full, _ = labrnn.softmax_cross_entropy(backend.asarray(z), backend.asarray(y), backend.asarray(m))
    kept, _ = labrnn.softmax_cross_entropy(backend.asarray(z[:, :1]), backend.asarray(y[:, :1]))
    np.testing.assert_allclose(float(full), float(kept), rtol=1e-14)


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "mask"])
def test_binary_cross_entropy(backend, masked):
    rng, z = _data(3)
    y = rng.uniform(0, 1, size=z.shape)
    m = (rng.uniform(size=z.shape) > 0.3).astype(float) if masked else np.ones(z.shape)
    p = 1 / (1 + np.exp(-z))
    ref = (-(y * np.log(p) + (1 - y) * np.log(1 - p)) * m).sum() / m.sum()
    args = (backend.asarray(y), backend.asarray(m) if masked else None)
    loss, _ = labrnn.binary_cross_entropy(backend.asarray(z), *args)
    np.testing.assert_allclose(float(loss), ref, rtol=1e-13)
    _gradcheck_loss(labrnn.binary_cross_entropy, backend.asarray(z), *args)


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "mask"])
def test_mean_squared_error(backend, masked):
    rng, z = _data(4)
    target = rng.standard_normal(z.shape)
    m = np.array([[1, 0], [1, 1], [0, 1]], dtype=float) if masked else np.ones((T, B))
    ref = (((z - target) ** 2) * m[..., None]).sum() / (m.sum() * C)
    args = (backend.asarray(target), backend.asarray(m) if masked else None)
    loss, _ = labrnn.mean_squared_error(backend.asarray(z), *args)
    np.testing.assert_allclose(float(loss), ref, rtol=1e-13)
    _gradcheck_loss(labrnn.mean_squared_error, backend.asarray(z), *args)


@pytest.mark.filterwarnings("error")          # no overflow warning from exp() either
def test_losses_are_stable_at_huge_logits(backend):
    z = backend.asarray(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]]))
    loss, dz = labrnn.softmax_cross_entropy(z, backend.asarray(np.array([0, 1])))
    assert np.isfinite(float(loss)) and np.all(np.isfinite(backend.to_numpy(dz)))
    np.testing.assert_allclose(float(loss), np.log(3) / 2, rtol=1e-14)
    loss, dz = labrnn.softmax_cross_entropy(z, backend.asarray(np.array([2, 1])))
    np.testing.assert_allclose(float(loss), (2000.0 + np.log(3)) / 2, rtol=1e-14)

    z = backend.asarray(np.array([-1000.0, 1000.0, -1000.0, 1000.0]))
    y = backend.asarray(np.array([1.0, 0.0, 0.0, 1.0]))
    loss, dz = labrnn.binary_cross_entropy(z, y)
    assert np.isfinite(float(loss)) and np.all(np.isfinite(backend.to_numpy(dz)))
    np.testing.assert_allclose(float(loss), 2000.0 / 4, rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(dz), [-0.25, 0.25, 0.0, 0.0], atol=1e-300)


def test_binary_cross_entropy_keeps_relative_precision_for_large_logits(backend):
    """-log sigmoid(z) for z = 30, 40, 700: log1p keeps it exact to the last bits
    (log(1 + exp(-z)) would be off by 1e-3 relative at 30 and exactly 0 beyond about 37)."""
    z = np.array([30.0, 40.0, 700.0, -30.0])
    y = np.array([1.0, 1.0, 1.0, 0.0])
    per = []
    for zi, yi in zip(z, y):
        loss, _ = labrnn.binary_cross_entropy(backend.asarray(np.array([zi])), backend.asarray(np.array([yi])))
        per.append(float(loss))
    exact = [np.exp(-30.0) - np.exp(-60.0) / 2, np.exp(-40.0), np.exp(-700.0), np.exp(-30.0) - np.exp(-60.0) / 2]
    np.testing.assert_allclose(per, exact, rtol=1e-13)
    assert per[1] > 0 and per[2] > 0


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_suggest_clipping(backend, bad):
    z = np.zeros((2, 3))
    z[1, 2] = bad
    for lossf, target in [(labrnn.softmax_cross_entropy, np.array([0, 1])),
                          (labrnn.binary_cross_entropy, np.zeros((2, 3)))]:
        with pytest.raises(NonFiniteError, match=r"logits contains a non-finite value \((nan|inf|-inf)\) "
                                                 r"at index \(1, 2\).*clip the gradients"):
            lossf(backend.asarray(z), backend.asarray(target))
    with pytest.raises(NonFiniteError, match=r"pred contains a non-finite value .*at index \(1, 2\)"
                                             r".*lower the learning rate or clip"):
        labrnn.mean_squared_error(backend.asarray(z), backend.asarray(np.zeros((2, 3))))


def test_cross_entropy_target_errors(backend):
    z = backend.asarray(np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 4\), found values in \[0, 4\]"):
        labrnn.softmax_cross_entropy(z, backend.asarray(np.array([[0, 4], [1, 1], [2, 2]])))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 4\), found values in \[-1, 2\]"):
        labrnn.softmax_cross_entropy(z, backend.asarray(np.array([[0, -1], [1, 1], [2, 2]])))
    with pytest.raises(ShapeError, match=r"targets must have shape \(3, 2\) \(the logits' shape without "
                                         r"the class axis C=4\), received \(3, 2, 4\)"):
        labrnn.softmax_cross_entropy(z, backend.asarray(np.zeros((3, 2, 4), dtype=np.int64)))
    with pytest.raises(DTypeError, match=r"targets must hold integer class indices, received dtype \S*float64"):
        labrnn.softmax_cross_entropy(z, backend.asarray(np.zeros((3, 2))))
    with pytest.raises(DTypeError, match=r"logits must be a floating-point array .*received dtype \S*int64"):
        labrnn.softmax_cross_entropy(backend.asarray(np.zeros((3, 2, 4), dtype=np.int64)),
                                     backend.asarray(np.zeros((3, 2), dtype=np.int64)))


def test_mask_errors(backend):
    z = backend.asarray(np.zeros((3, 2, 4)))
    y = backend.asarray(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ShapeError, match=r"mask must cover the leading axes of the entries \(3, 2\), "
                                         r"e\.g\. shape \(3, 2\) \(one value per position\), "
                                         r"received \(3, 2, 4\)"):
        labrnn.softmax_cross_entropy(z, y, backend.asarray(np.ones((3, 2, 4))))
    with pytest.raises(ValueError, match="mask selects no position"):
        labrnn.softmax_cross_entropy(z, y, backend.asarray(np.zeros((3, 2))))
    with pytest.raises(ShapeError, match=r"mask must cover the leading axes of the entries \(3, 2\).*"
                                         r"received \(2,\)"):
        labrnn.mean_squared_error(z, z, backend.asarray(np.ones(2)))
    with pytest.raises(ValueError, match="mask selects no position"):
        labrnn.binary_cross_entropy(z, z, backend.asarray(np.zeros((3, 2, 4))))


def test_bce_and_mse_target_errors(backend):
    z = backend.asarray(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match=r"targets must have the logits' shape \(3, 2\), received \(2, 3\)"):
        labrnn.binary_cross_entropy(z, backend.asarray(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\] \(probabilities\), found values "
                                         r"in \[0\.0, 2\.0\]"):
        labrnn.binary_cross_entropy(z, backend.asarray(np.array([[0.0, 1.0], [2.0, 0.5], [0.0, 0.0]])))
    with pytest.raises(ShapeError, match=r"target must have pred's shape \(3, 2\), received \(3, 1\)"):
        labrnn.mean_squared_error(z, backend.asarray(np.zeros((3, 1))))
    with pytest.raises(DTypeError, match=r"target has dtype \S*float32 but the parameters have dtype \S*float64"):
        labrnn.mean_squared_error(z, backend.asarray(np.zeros((3, 2)), dtype="float32"))


def test_losses_refuse_mixed_devices_and_libraries():
    import array_api_strict as xs
    z = labrnn.from_numpy(np.zeros((2, 3)), xp=xs, device=xs.Device("device1"))
    y_cpu = xs.asarray([0, 1])
    with pytest.raises(DeviceError, match=r"targets is on device .*CPU_DEVICE.* but logits is on .*device1"):
        labrnn.softmax_cross_entropy(z, y_cpu)
    m_np = np.ones(2)
    with pytest.raises(DeviceError, match=r"different array libraries \(mask: numpy\.ndarray"):
        labrnn.softmax_cross_entropy(z, labrnn.from_numpy(np.array([0, 1]), like=z), m_np)
    with pytest.raises(DTypeError, match="targets must be an array.*received list"):
        labrnn.softmax_cross_entropy(z, [0, 1])
