"""labrnn against PyTorch's own numbers (no PyTorch needed to run this file).

``tests/reference/make_reference.py`` stored, for ``nn.RNN`` (tanh, relu), ``nn.LSTM`` and
``nn.GRU`` at three small sizes, PyTorch's float64 outputs and gradients of
``L = sum(out * dy) + sum(h_T * dh_T) (+ sum(c_T * dc_T))``. Here the weights go through
:mod:`labrnn.convert`, labrnn runs forward and BPTT, and every output and gradient must
agree with PyTorch's to a relative error ``||a - r|| / (||a|| + ||r||)`` below ``RTOL``.

Why 1e-10: both sides compute the same float64 formulas in a different order
(PyTorch adds ``b_ih + b_hh`` inside each step where labrnn adds their sum, BLAS kernels
split dot products differently, the sigmoid is evaluated by different code). Each
operation rounds with relative error about 1.1e-16; a value passes through O(10)
operations per step and the state's error is carried through up to T = 12 steps with
gains of order 1 (weights N(0, 0.25)), so the expected disagreement is 1e-16 to 1e-14
(measured with NumPy/OpenBLAS: at most 4.4e-16 on these files). 1e-10 sits four orders
of magnitude above that worst case (six above the measurement), room for other BLAS
builds and CPUs, and still far below real mistakes: swapping the f and g gate blocks gives 0.9, dropping
``bias_hh_l0`` gives 0.5.
"""

import pathlib

import numpy as np
import pytest

import labrnn
from labrnn import convert
from labrnn.cells.elman import rnn_backward, rnn_forward
from labrnn.training.gradcheck import relative_error
from labrnn.cells.gru import gru_backward, gru_forward
from labrnn.cells.lstm import lstm_backward, lstm_forward

RTOL = 1e-10
FILES = sorted((pathlib.Path(__file__).parent / "reference").glob("torch_*.npz"))
BACKENDS = ["numpy", "strict-device1"]
WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def _backend(name):
    if name == "numpy":
        return lambda a: np.asarray(a)
    strict = pytest.importorskip("array_api_strict")
    return lambda a: labrnn.from_numpy(a, xp=strict, device=strict.Device("device1"))


def _run(ref, put):
    """labrnn's outputs and gradients, renamed to the keys of the reference file."""
    cell = str(ref["cell"])
    sd = {k: ref[k] for k in WEIGHTS}
    x, h0, dy, dh_T = (put(ref[k]) for k in ("x", "h0", "dy", "dh_T"))
    if cell.startswith("rnn"):
        p = {k: put(v) for k, v in convert.elman_from_torch(sd).items()}
        h, (h_T,), cache = rnn_forward(x, p, (h0,), activation=str(ref["nonlinearity"]))
        dx, (dh0,), g = rnn_backward(dy, cache, (dh_T,))
        out = {"out": h, "h_T": h_T, "grad_x": dx, "grad_h0": dh0,
               "grad_weight_ih_l0": g["W_xh"], "grad_weight_hh_l0": g["W_hh"],
               "grad_bias_ih_l0": g["b_h"], "grad_bias_hh_l0": g["b_h"]}
    elif cell == "lstm":
        p = {k: put(v) for k, v in convert.lstm_from_torch(sd).items()}
        h, (h_T, c_T), cache = lstm_forward(x, p, (h0, put(ref["c0"])))
        dx, (dh0, dc0), g = lstm_backward(dy, cache, (dh_T, put(ref["dc_T"])))
        out = {"out": h, "h_T": h_T, "c_T": c_T, "grad_x": dx, "grad_h0": dh0, "grad_c0": dc0,
               "grad_weight_ih_l0": g["W_x"], "grad_weight_hh_l0": g["W_h"],
               "grad_bias_ih_l0": g["b"], "grad_bias_hh_l0": g["b"]}
    else:
        p = {k: put(v) for k, v in convert.gru_from_torch(sd).items()}
        h, (h_T,), cache = gru_forward(x, p, (h0,), reset="after")
        dx, (dh0,), g = gru_backward(dy, cache, (dh_T,))
        H = h0.shape[-1]
        b = labrnn.to_numpy(g["b"])
        out = {"out": h, "h_T": h_T, "grad_x": dx, "grad_h0": dh0,
               "grad_weight_ih_l0": g["W_x"], "grad_weight_hh_l0": g["W_h"],
               # b = [b_ir + b_hr, b_iz + b_hz, b_in] and b_hn = b_hn (see labrnn.convert)
               "grad_bias_ih_l0": b,
               "grad_bias_hh_l0": np.concatenate([b[:2 * H], labrnn.to_numpy(g["b_hn"])])}
    return out


def test_reference_files_are_present_and_small():
    cells = {f.name.split("_T")[0] for f in FILES}
    assert cells == {"torch_rnn_tanh", "torch_rnn_relu", "torch_lstm", "torch_gru"}
    assert len(FILES) == 12
    assert all(f.stat().st_size < 20_000 for f in FILES)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_matches_pytorch(path, backend):
    put = _backend(backend)
    with np.load(path) as f:
        ref = {k: f[k] for k in f.files}
    ours = _run(ref, put)
    expected = {k for k in ref if k in ("out", "h_T", "c_T") or k.startswith("grad_")}
    assert set(ours) == expected
    errors = {k: relative_error(labrnn.to_numpy(v), ref[k]) for k, v in ours.items()}
    bad = {k: e for k, e in errors.items() if not e < RTOL}
    assert not bad, f"{path.name}: relative errors above {RTOL:g}: {bad}"
