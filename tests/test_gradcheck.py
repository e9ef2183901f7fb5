"""labrnn.gradcheck: the numerical machinery itself must catch wrong gradients."""

import numpy as np
import pytest

import labrnn
from labrnn import DTypeError, ShapeError
from labrnn.training.gradcheck import relative_error


def test_numerical_gradient_of_a_known_function(backend):
    """f(x) = sum(x^3) has gradient 3 x^2; central differences are exact up to eps^2 x."""
    host = np.array([[0.5, -1.0], [2.0, 0.1]])
    x = backend.asarray(host)
    xp = labrnn.namespace(x)
    g = labrnn.numerical_gradient(lambda v: xp.sum(v ** 3), x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == (2, 2)
    np.testing.assert_allclose(g, 3 * host ** 2, rtol=1e-8)
    np.testing.assert_array_equal(backend.to_numpy(x), host)      # x is never modified


def _rnn_case(backend):
    rng = np.random.default_rng(0)
    p = {k: backend.asarray(v) for k, v in labrnn.init_elman(2, 3, seed=0).items()}
    x = backend.asarray(rng.standard_normal((3, 2, 2)))
    G = backend.asarray(rng.standard_normal((3, 2, 3)))
    xp = labrnn.namespace(G)
    inputs = {**p, "x": x}

    def f(d):
        return xp.sum(labrnn.rnn_forward(d["x"], {k: d[k] for k in p})[0] * G)

    _, _, cache = labrnn.rnn_forward(x, p)
    dx, _, grads = labrnn.rnn_backward(G, cache)
    return f, inputs, {**grads, "x": dx}


def test_gradcheck_passes_the_right_gradients(backend):
    f, inputs, analytic = _rnn_case(backend)
    report = labrnn.gradcheck(f, inputs, analytic)
    assert report.ok(1e-6) and report.max_error < 1e-6
    report.assert_ok(1e-6)


@pytest.mark.parametrize("corrupt", ["transposed W_hh", "halved W_xh", "negated x", "zero b_h"])
def test_gradcheck_detects_a_wrong_gradient(backend, corrupt):
    f, inputs, analytic = _rnn_case(backend)
    xp = labrnn.namespace(inputs["x"])
    key = corrupt.split()[1]
    g = analytic[key]
    analytic[key] = {"transposed": lambda: xp.matrix_transpose(g), "halved": lambda: g / 2,
                     "negated": lambda: -g, "zero": lambda: g * 0}[corrupt.split()[0]]()
    report = labrnn.gradcheck(f, inputs, analytic, names=[key, "W_hh" if key != "W_hh" else "x"])
    bad = dict((r[0], r[2]) for r in report.rows)
    expected = {"halved W_xh": 1 / 3, "negated x": 1.0, "zero b_h": 1.0}.get(corrupt)
    if expected is not None:
        assert bad[key] == pytest.approx(expected, rel=1e-6)
    else:
        assert bad[key] > 0.1
    assert not report.ok(1e-6)
    with pytest.raises(AssertionError, match=rf"gradient check failed \(tolerance 1e-06\):\n"
                                             rf"argument\s+shape\s+relative error\n{key}"):
        report.assert_ok(1e-6)


def test_float32_is_refused(backend):
    x = backend.asarray(np.ones(3), dtype="float32")
    xp = labrnn.namespace(x)
    with pytest.raises(DTypeError, match=r"gradient checks need float64, received \S*float32"):
        labrnn.numerical_gradient(lambda v: xp.sum(v), x)
    with pytest.raises(DTypeError, match="need float64"):
        labrnn.gradcheck(lambda d: xp.sum(d["x"]), {"x": x}, {"x": x})


def test_gradcheck_argument_errors(backend):
    x = backend.asarray(np.ones(3))
    xp = labrnn.namespace(x)
    with pytest.raises(ShapeError, match=r"must return a scalar, it returned shape \(3,\)"):
        labrnn.numerical_gradient(lambda v: v * 2, x)
    with pytest.raises(ShapeError, match=r"analytic gradient for 'x' has shape \(2,\), the input has \(3,\)"):
        labrnn.gradcheck(lambda d: xp.sum(d["x"]), {"x": x}, {"x": backend.asarray(np.ones(2))})
    with pytest.raises(KeyError, match=r"analytic gradient 'y' has no matching input; inputs are \['x'\]"):
        labrnn.gradcheck(lambda d: xp.sum(d["x"]), {"x": x}, {"y": x})


def test_relative_error_and_report_text():
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert relative_error(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)
    report = labrnn.GradcheckReport(rows=[("W_xh", (3, 2), 3e-9, 1e-10), ("b", (3,), 0.0, 0.0)])
    assert str(report) == ("argument  shape          relative error\n"
                           "W_xh      (3, 2)         < 1e-07\n"
                           "b         (3,)           < 1e-07")
    assert report.table(1e-9).splitlines()[1].endswith("3e-09  FAIL")
    assert report.max_error == 3e-9 and report.ok(1e-8) and not report.ok(1e-9)
    with pytest.raises(AssertionError):
        labrnn.GradcheckReport(rows=[("a", (1,), float("nan"), 0.0)]).assert_ok(1.0)
