"""labrnn.backend and labrnn.shapes: namespaces, devices, host <-> backend moves."""

import numpy as np
import pytest

import array_api_strict
import labrnn
from labrnn import DeviceError, DTypeError
from labrnn.backend import float_dtype


def test_strict_device1_behaves_like_a_gpu():
    """The second strict device must refuse what a GPU array refuses, or it tests nothing."""
    a = labrnn.from_numpy(np.arange(3.0), xp=array_api_strict,
                          device=array_api_strict.Device("device1"))
    with pytest.raises(RuntimeError, match="device1"):
        np.asarray(a)
    cpu = array_api_strict.asarray([1.0, 2.0, 3.0], dtype=array_api_strict.float64)
    with pytest.raises(ValueError, match="different devices"):
        a + cpu
    # labrnn.to_numpy still gets the data back, through the CPU device
    np.testing.assert_array_equal(labrnn.to_numpy(a), np.arange(3.0))


def test_from_numpy_places_data_on_the_backend(backend):
    host = np.arange(6.0).reshape(2, 3)
    a = backend.asarray(host)
    assert backend.on_this_device(a)
    assert a.dtype == backend.xp.float64
    assert tuple(a.shape) == (2, 3)
    back = labrnn.to_numpy(a)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host)


def test_from_numpy_dtype_rules(backend):
    xp = backend.xp
    # floating data defaults to float64 even when the host array is float32
    assert backend.asarray(np.ones(2, dtype=np.float32)).dtype == xp.float64
    assert labrnn.from_numpy(np.ones(2), xp=xp, device=backend.device,
                             dtype="float32").dtype == xp.float32
    assert labrnn.from_numpy(np.ones(2), xp=xp, device=backend.device,
                             dtype=np.float32).dtype == xp.float32
    # integer data keeps its integer dtype
    ints = backend.asarray(np.array([1, 2], dtype=np.int64))
    assert ints.dtype == xp.int64
    # like= copies namespace, device and floating dtype
    like = labrnn.from_numpy(np.ones(1), xp=xp, device=backend.device, dtype="float32")
    b = labrnn.from_numpy(np.arange(3.0), like=like)
    assert b.dtype == xp.float32 and backend.on_this_device(b)
    # a dtype object of the backend itself is accepted
    assert labrnn.from_numpy(np.ones(1), like=like, dtype=xp.float64).dtype == xp.float64


def test_float_dtype_rejects_other_names(backend):
    with pytest.raises(DTypeError, match=r"dtype must be 'float32' or 'float64', received 'int8'"):
        float_dtype(backend.xp, "int8")


def test_move_maps_a_parameter_dict(backend):
    host = labrnn.init_elman(2, 3, 2, seed=4)
    moved = labrnn.move(host, xp=backend.xp, device=backend.device)
    assert set(moved) == set(host)
    for k in host:
        assert backend.on_this_device(moved[k])
        np.testing.assert_array_equal(labrnn.to_numpy(moved[k]), host[k])
    # and back to NumPy, via like=
    back = labrnn.move(moved, like=np.zeros(1))
    for k in host:
        assert isinstance(back[k], np.ndarray)
        np.testing.assert_array_equal(back[k], host[k])


def test_namespace_returns_the_library_namespace(backend):
    a, b = backend.asarray(np.ones(2)), backend.asarray(np.zeros(2))
    xp = labrnn.namespace(a, None, b)
    assert backend.on_this_device(xp.zeros(1, device=labrnn.device_of(a), dtype=xp.float64))


def test_namespace_needs_an_array():
    with pytest.raises(ValueError, match="at least one array"):
        labrnn.namespace(None)


@pytest.mark.parametrize("bad", [[1.0, 2.0], (1.0,), 3.0, 2])
def test_namespace_rejects_python_objects(bad):
    with pytest.raises(DTypeError, match=r"x must be an array .*received (list|tuple|float|int).*numpy\.asarray"):
        labrnn.namespace(bad, names=["x"])


def test_namespace_rejects_mixed_libraries():
    a = np.ones(2)
    b = array_api_strict.asarray([1.0, 2.0])
    with pytest.raises(DeviceError, match=r"different array libraries \(x: numpy\.ndarray, "
                                          r"w: array_api_strict.*labrnn\.move"):
        labrnn.namespace(a, b, names=["x", "w"])


def test_namespace_rejects_mixed_devices():
    a = array_api_strict.asarray([1.0])
    b = array_api_strict.asarray([1.0], device=array_api_strict.Device("device1"))
    with pytest.raises(DeviceError, match=r"w is on device .*device1.* but x is on .*CPU_DEVICE"):
        labrnn.namespace(a, b, names=["x", "w"])


def test_to_numpy_accepts_python_objects_and_numpy():
    a = np.arange(3.0)
    assert labrnn.to_numpy(a) is a
    np.testing.assert_array_equal(labrnn.to_numpy([1, 2]), np.array([1, 2]))


def test_host_rng():
    g = np.random.default_rng(1)
    assert labrnn.host_rng(g) is g
    np.testing.assert_array_equal(labrnn.host_rng(7).standard_normal(3),
                                  np.random.default_rng(7).standard_normal(3))
    with pytest.raises(ValueError, match="pass a seed"):
        labrnn.host_rng(None)


def test_time_major_conversions(backend):
    host = np.arange(24.0).reshape(2, 3, 4)             # (B, T, D)
    x = labrnn.batch_to_time_major(backend.asarray(host))
    assert tuple(x.shape) == (3, 2, 4)
    np.testing.assert_array_equal(labrnn.to_numpy(x), host.transpose(1, 0, 2))
    back = labrnn.time_major_to_batch(x)
    np.testing.assert_array_equal(labrnn.to_numpy(back), host)
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*received shape \(4,\)"):
        labrnn.batch_to_time_major(backend.asarray(np.ones(4)))
