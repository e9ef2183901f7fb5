"""Every input check of the Elman RNN: the message names the argument, what was
received and what was expected (DESIGN.md, "errors speak the user's language")."""

import re

import numpy as np
import pytest

import array_api_strict as xs
import labrnn
from labrnn import DeviceError, DTypeError, NonFiniteError, ShapeError

T, B, D, H = 4, 2, 3, 5


@pytest.fixture
def case(backend):
    p = backend.params(D, H)
    x = backend.asarray(np.random.default_rng(0).standard_normal((T, B, D)))
    return backend, p, x


def test_errors_are_builtin_subclasses():
    assert issubclass(ShapeError, ValueError) and issubclass(DeviceError, ValueError)
    assert issubclass(DTypeError, TypeError) and issubclass(NonFiniteError, FloatingPointError)


def test_shape_errors(case):
    bk, p, x = case
    with pytest.raises(ShapeError, match=re.escape(
            "params['W_xh'] of an elman cell with D=5 inputs and H=5 units must have shape (5, 5), "
            "received (5, 3) (x has D=5 features per step, these parameters were made for D=3)")):
        labrnn.rnn_forward(bk.asarray(np.zeros((T, B, 5))), p)
    with pytest.raises(ShapeError, match=re.escape(
            "x must be a time-major sequence of shape (T, B, D), received a single array of "
            "shape (4, 3); for one sequence use x[:, None, :]")):
        labrnn.rnn_forward(bk.asarray(np.zeros((T, D))), p)
    with pytest.raises(ShapeError, match=re.escape("state0[0] (h) must have shape (B=2, H=5), received (3, 5)")):
        labrnn.rnn_forward(x, p, (bk.asarray(np.zeros((3, H))),))
    with pytest.raises(ShapeError, match=re.escape("state0[0] (h) must have shape (B=2, H=5), received (2, 4)")):
        labrnn.rnn_forward(x, p, (bk.asarray(np.zeros((B, 4))),))
    with pytest.raises(ShapeError, match=re.escape(
            "params['W_xh'] of an elman cell with D=4 inputs and H=5 units must have shape (5, 4), "
            "received (5, 3) (x has D=4 features per step, these parameters were made for D=3)")):
        labrnn.rnn_step_forward(bk.asarray(np.zeros((B, 4))), bk.asarray(np.zeros((B, H))), p)
    with pytest.raises(ShapeError, match=re.escape("x_t must be the inputs of one time step, shape "
                                                   "(B, D), received a single array of shape (4, 2, 3)")):
        labrnn.rnn_step_forward(x, bk.asarray(np.zeros((B, H))), p)
    with pytest.raises(ShapeError, match=re.escape("h_prev must have shape (B=2, H=5), received (1, 5)")):
        labrnn.rnn_step_forward(bk.asarray(np.zeros((B, D))), bk.asarray(np.zeros((1, H))), p)


def test_empty_sequence(case):
    bk, p, _ = case
    with pytest.raises(ShapeError, match=re.escape("x is empty along axis 0 (T=0): a sequence needs "
                                                   "at least one time step")):
        labrnn.rnn_forward(bk.asarray(np.zeros((0, B, D))), p)


def test_backward_shape_errors(case):
    bk, p, x = case
    h, _, cache = labrnn.rnn_forward(x, p)
    with pytest.raises(ShapeError, match=re.escape("dout must have shape (T=4, B=2, H=5), received (4, 2, 4)")):
        labrnn.rnn_backward(bk.asarray(np.zeros((T, B, 4))), cache)
    with pytest.raises(ShapeError, match=re.escape("dout must have shape (T=4, B=2, H=5), received (2, 5)")):
        labrnn.rnn_backward(bk.asarray(np.zeros((B, H))), cache)
    # dh_T of shape (1, H) would broadcast silently over the batch without the check
    with pytest.raises(ShapeError, match=re.escape("dstate_T[0] (h) must have shape (B=2, H=5), received (1, 5)")):
        labrnn.rnn_backward(h, cache, (bk.asarray(np.ones((1, H))),))
    with pytest.raises(TypeError, match=re.escape(
            "dstate_T of an elman cell must be the tuple (h,) of (B, H) arrays, received a single "
            "array of shape (2, 5); wrap the array: dstate_T=(h,)")):
        labrnn.rnn_backward(h, cache, bk.asarray(np.ones((B, H))))
    h1, step_cache = labrnn.rnn_step_forward(x[0, ...], bk.asarray(np.zeros((B, H))), p)
    with pytest.raises(ShapeError, match=re.escape("dh_t must have shape (B=2, H=5), received (5, 2)")):
        labrnn.rnn_step_backward(bk.asarray(np.zeros((H, B))), step_cache)


def test_parameter_shape_errors(case):
    bk, p, x = case
    bad = {**p, "W_hh": bk.asarray(np.zeros((H, H - 1)))}
    with pytest.raises(ShapeError, match=re.escape("params['W_hh'] of an elman cell must have shape "
                                                   "(H, H), received (5, 4)")):
        labrnn.rnn_forward(x, bad)
    bad = {**p, "b_h": bk.asarray(np.zeros(H + 1))}
    with pytest.raises(ShapeError, match=re.escape("params['b_h'] of an elman cell with D=3 inputs and "
                                                   "H=5 units must have shape (5,), received (6,)")):
        labrnn.rnn_forward(x, bad)
    bad = {**p, "W_xh": bk.asarray(np.zeros(D))}
    with pytest.raises(ShapeError, match=re.escape("params['W_xh'] of an elman cell with D=3 inputs and "
                                                   "H=5 units must have shape (5, 3), received (3,)")):
        labrnn.rnn_forward(x, bad)
    bad = {**p, "W_xh": bk.xp.matrix_transpose(p["W_xh"])}
    with pytest.raises(ShapeError, match=re.escape(
            "params['W_xh'] of an elman cell with D=3 inputs and H=5 units must have shape (5, 3), "
            "received (3, 5) (it looks transposed: the book stores W as (out, in))")):
        labrnn.rnn_forward(x, bad)


def test_dtype_errors(case):
    bk, p, x = case
    with pytest.raises(DTypeError, match=r"x has dtype \S*float32 but the parameters have dtype \S*float64; "
                                         r"use one dtype throughout"):
        labrnn.rnn_forward(bk.asarray(np.zeros((T, B, D)), dtype="float32"), p)
    with pytest.raises(DTypeError, match=r"state0\[0\] \(h\) has dtype \S*float32 but the parameters "
                                         r"have dtype \S*float64"):
        labrnn.rnn_forward(x, p, (bk.asarray(np.zeros((B, H)), dtype="float32"),))
    with pytest.raises(DTypeError, match=r"h_prev has dtype \S*float32 but the parameters have dtype "
                                         r"\S*float64"):
        labrnn.rnn_step_forward(x[0, ...], bk.asarray(np.zeros((B, H)), dtype="float32"), p)
    with pytest.raises(DTypeError, match=r"params\['W_hh'\] has dtype \S*float32 but the parameters have "
                                         r"dtype \S*float64"):
        labrnn.rnn_forward(x, {**p, "W_hh": bk.asarray(np.eye(H), dtype="float32")})
    with pytest.raises(DTypeError, match=r"x must be a floating-point array \(float32 or float64\), "
                                         r"received dtype \S*int64"):
        labrnn.rnn_forward(bk.asarray(np.zeros((T, B, D), dtype=np.int64)), p)
    with pytest.raises(DTypeError, match=r"x_t must be a floating-point array"):
        labrnn.rnn_step_forward(bk.asarray(np.zeros((B, D), dtype=np.int64)), bk.asarray(np.zeros((B, H))), p)


@pytest.mark.parametrize("bad,shown", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_inputs(case, bad, shown):
    bk, p, _ = case
    host = np.zeros((T, B, D))
    host[2, 1, 0] = bad
    with pytest.raises(NonFiniteError, match=re.escape(f"x contains a non-finite value ({shown}) at index "
                                                       f"(2, 1, 0); clean the data")):
        labrnn.rnn_forward(bk.asarray(host), p)


def test_name_errors(case):
    bk, p, x = case
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'; choose one of \['identity', 'relu', "
                                         r"'sigmoid', 'tanh'\]"):
        labrnn.rnn_forward(x, p, activation="gelu")
    with pytest.raises(ValueError, match="unknown activation 'Tanh'"):
        labrnn.rnn_step_forward(x[0, ...], bk.asarray(np.zeros((B, H))), p, activation="Tanh")


def test_params_container_errors(case):
    bk, p, x = case
    with pytest.raises(KeyError, match=re.escape("params is missing ['W_hh']; it has ['W_xh', 'b_h']")):
        labrnn.rnn_forward(x, {k: p[k] for k in ("W_xh", "b_h")})
    with pytest.raises(TypeError, match="params must be a dict of named arrays, received tuple"):
        labrnn.rnn_forward(x, (p["W_xh"], p["W_hh"], p["b_h"]))
    with pytest.raises(DTypeError, match=re.escape("params['W_xh'] must be an array (NumPy, CuPy, ...), "
                                                   "received list")):
        labrnn.rnn_forward(x, {**p, "W_xh": bk.to_numpy(p["W_xh"]).tolist()})


def test_python_list_input(case):
    bk, p, x = case
    with pytest.raises(DTypeError, match=r"x must be an array \(NumPy, CuPy, \.\.\.\), received list; "
                                         r"wrap it with numpy\.asarray\(\.\.\.\) first"):
        labrnn.rnn_forward(bk.to_numpy(x).tolist(), p)
    with pytest.raises(TypeError, match=r"h_prev of an Elman cell must be ONE array h of shape "
                                        r"\(B, H\), received a list of length 2"):
        labrnn.rnn_step_forward(x[0, ...], [[0.0] * H] * B, p)


# ------------------------------------------------------------ libraries and devices

DEV1 = xs.Device("device1")


def _strict(a, device=None):
    return labrnn.from_numpy(np.asarray(a), xp=xs, device=device)


def test_mismatched_devices_name_the_argument():
    p_cpu = labrnn.init_elman(D, H, seed=0, xp=xs)
    p_dev = labrnn.init_elman(D, H, seed=0, xp=xs, device=DEV1)
    x_cpu = _strict(np.zeros((T, B, D)))
    with pytest.raises(DeviceError, match=r"params\['W_xh'\] is on device .*device1.* but x is on "
                                          r".*CPU_DEVICE.*must live on the same device"):
        labrnn.rnn_forward(x_cpu, p_dev)
    with pytest.raises(DeviceError, match=r"state0\[0\] \(h\) is on device .*device1.* but x is on "
                                          r".*CPU_DEVICE"):
        labrnn.rnn_forward(x_cpu, p_cpu, (_strict(np.zeros((B, H)), DEV1),))
    with pytest.raises(DeviceError, match=r"h_prev is on device .*device1.* but x_t is on .*CPU_DEVICE"):
        labrnn.rnn_step_forward(x_cpu[0, ...], _strict(np.zeros((B, H)), DEV1), p_cpu)
    # one parameter alone on the other device
    mixed = {**p_cpu, "W_hh": _strict(np.eye(H), DEV1)}
    with pytest.raises(DeviceError, match=r"params\['W_hh'\] is on device .*device1.* but params\['W_xh'\] "
                                          r"is on .*CPU_DEVICE"):
        labrnn.rnn_forward(x_cpu, mixed)
    # the upstream gradient on the wrong device
    _, _, cache = labrnn.rnn_forward(x_cpu, p_cpu)
    with pytest.raises(DeviceError, match=r"the forward pass's x is on device .*CPU_DEVICE.* but dout "
                                          r"is on .*device1"):
        labrnn.rnn_backward(_strict(np.zeros((T, B, H)), DEV1), cache)
    with pytest.raises(DeviceError, match=r"dstate_T\[0\] \(h\) is on device .*device1.* but x is on "
                                          r".*CPU_DEVICE"):
        labrnn.rnn_backward(_strict(np.zeros((T, B, H))), cache, (_strict(np.zeros((B, H)), DEV1),))
    # the step's upstream gradient on the wrong device
    _, step_cache = labrnn.rnn_step_forward(x_cpu[0, ...], _strict(np.zeros((B, H))), p_cpu)
    with pytest.raises(DeviceError, match=r"dh_t is on device .*device1.* but the forward step's x_t "
                                          r"is on .*CPU_DEVICE"):
        labrnn.rnn_step_backward(_strict(np.zeros((B, H)), DEV1), step_cache)


def test_mixing_libraries_is_refused():
    p_strict = labrnn.init_elman(D, H, seed=0, xp=xs)
    with pytest.raises(DeviceError, match=r"arrays come from different array libraries \(x: numpy\.ndarray, "
                                          r"params\['W_xh'\]: array_api_strict\..*labrnn\.move"):
        labrnn.rnn_forward(np.zeros((T, B, D)), p_strict)
    p_np = labrnn.init_elman(D, H, seed=0)
    with pytest.raises(DeviceError, match=r"different array libraries \(x: numpy\.ndarray, "
                                          r"state0\[0\] \(h\): array_api_strict"):
        labrnn.rnn_forward(np.zeros((T, B, D)), p_np, (_strict(np.zeros((B, H))),))
    # the hint works: labrnn.move brings the parameters over
    h, _, _ = labrnn.rnn_forward(np.zeros((T, B, D)), labrnn.move(p_strict, like=np.zeros(1)))
    assert isinstance(h, np.ndarray)
