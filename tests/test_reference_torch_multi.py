"""labrnn against PyTorch's numbers for multi-layer and bidirectional modules (no PyTorch needed).

``tests/reference/make_multi_reference.py`` stored, for ``nn.RNN`` (tanh, relu), ``nn.LSTM``
and ``nn.GRU`` with ``num_layers=2``, ``bidirectional=True`` and both, PyTorch's float64
outputs, final states and gradients (see that script). Here the state dict goes through
:func:`labrnn.convert.stacked_from_torch` (or ``bidirectional_from_torch`` for the one-layer
case with an initial state), labrnn's :func:`~labrnn.stacked_forward` /
:func:`~labrnn.bidirectional_forward` and their backward passes run, and every output,
final state and gradient must agree to a relative error below ``RTOL = 1e-10``, the bound
of ``test_reference_torch.py`` (its docstring explains the choice; the measured errors
here are of order 1e-16 to 1e-15).
"""

import pathlib

import numpy as np
import pytest

import labrnn
from labrnn import convert
from labrnn.models.bidirectional import bidirectional_backward, bidirectional_forward
from labrnn.training.gradcheck import relative_error
from labrnn.paramtree import with_prefix
from labrnn.models.stacked import stacked_backward, stacked_forward

RTOL = 1e-10
FILES = sorted((pathlib.Path(__file__).parent / "reference" / "multi").glob("torch_*.npz"))
BACKENDS = ["numpy", "strict-device1"]
CELL = {"rnn_tanh": "elman", "rnn_relu": "elman", "lstm": "lstm", "gru": "gru"}


def _backend(name):
    if name == "numpy":
        return lambda a: np.asarray(a)
    strict = pytest.importorskip("array_api_strict")
    return lambda a: labrnn.from_numpy(a, xp=strict, device=strict.Device("device1"))


def _tree(f, obj):
    """Apply ``f`` to every array of a nested tuple/list of arrays."""
    if isinstance(obj, (tuple, list)):
        return type(obj)(_tree(f, o) for o in obj)
    return f(obj)


def _torch_grads(g, cell, L, bi, H):
    """labrnn's gradients under PyTorch's names: a summed bias gets the gradient of each part."""
    out = {}
    for l in range(L):
        for prefix, suffix in convert.DIRECTIONS[:1 + bi]:
            p = f"l{l}." + (prefix if bi else "")
            s = f"_l{l}{suffix}"
            G = {k[len(p):]: labrnn.to_numpy(v) for k, v in g.items() if k.startswith(p)}
            if cell == "elman":
                W_ih, W_hh, b_ih = G["W_xh"], G["W_hh"], G["b_h"]
                b_hh = b_ih
            else:
                W_ih, W_hh, b_ih = G["W_x"], G["W_h"], G["b"]
                # GRU: b = [b_ir + b_hr, b_iz + b_hz, b_in], b_hn separate (labrnn.convert)
                b_hh = np.concatenate([b_ih[:2 * H], G["b_hn"]]) if cell == "gru" else b_ih
            out.update({f"grad_weight_ih{s}": W_ih, f"grad_weight_hh{s}": W_hh,
                        f"grad_bias_ih{s}": b_ih, f"grad_bias_hh{s}": b_hh})
    return out


def _run(ref, put):
    """labrnn's outputs, final states and gradients under the reference file's keys."""
    name = str(ref["cell"])
    cell, L, bi = CELL[name], int(ref["num_layers"]), bool(ref["bidirectional"])
    act = str(ref["nonlinearity"]) or None      # only nn.RNN has one (an LSTM takes no activation)
    sd = {k: ref[k] for k in convert.torch_keys(L, bi)}
    x, dy = put(ref["x"]), put(ref["dy"])
    T, B = ref["x"].shape[:2]
    lengths = None if np.all(ref["lengths"] == T) else put(ref["lengths"])
    dstates = _tree(put, convert.states_from_torch(ref["dh_n"], ref.get("dc_n"),
                                                   bidirectional=bi))
    out = {}
    if "h0" in ref:                 # one bidirectional layer with an initial state
        assert L == 1 and bi and lengths is None
        params = {k: put(v) for k, v in convert.bidirectional_from_torch(sd, cell).items()}
        h0 = _tree(put, convert.states_from_torch(ref["h0"], ref.get("c0"), bidirectional=True))
        y, st, cache = bidirectional_forward(x, params, h0[0], cell=cell, activation=act)
        dx, d0, g = bidirectional_backward(dy, cache, dstates[0])
        g = with_prefix("l0.", g)          # the layout of a one-layer stack
        states = [st]
        dh0 = convert.states_to_torch([d0], cell, bidirectional=True)
        if cell == "lstm":
            out["grad_h0"], out["grad_c0"] = dh0
        else:
            out["grad_h0"] = dh0
    else:
        params = {k: put(v) for k, v in convert.stacked_from_torch(sd, cell).items()}
        y, states, cache = stacked_forward(x, params, lengths=lengths, cell=cell,
                                           bidirectional=bi, merge="concat", activation=act)
        dx, dstate0, g = stacked_backward(dy, cache, dstates)
        assert len(dstate0) == L      # one initial-state gradient per layer
    fin = convert.states_to_torch(states, cell, bidirectional=bi)
    if cell == "lstm":
        out["h_n"], out["c_n"] = fin
    else:
        out["h_n"] = fin
    out.update({"out": y, "grad_x": dx})
    out.update(_torch_grads(g, cell, L, bi, ref["h_n"].shape[-1]))
    return out


def test_reference_files_are_present_and_small():
    names = {f.stem for f in FILES}
    assert names == {f"torch_{c}_{lay}" for c in CELL for lay in ("L2", "bi", "L2_bi", "L2_bi_len")}
    assert all(f.stat().st_size < 40_000 for f in FILES)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_matches_pytorch(path, backend):
    put = _backend(backend)
    with np.load(path) as f:
        ref = {k: f[k] for k in f.files}
    ours = _run(ref, put)
    expected = {k for k in ref if k in ("out", "h_n", "c_n") or k.startswith("grad_")}
    assert set(ours) == expected
    errors = {k: relative_error(labrnn.to_numpy(v), ref[k]) for k, v in ours.items()}
    bad = {k: e for k, e in errors.items() if not e < RTOL}
    assert not bad, f"{path.name}: relative errors above {RTOL:g}: {bad}"


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_round_trip_of_the_reference_state_dicts(path):
    """PyTorch -> labrnn -> PyTorch keeps every weight and every bias sum exactly
    (and the GRU's candidate biases apart); the reference biases are all nonzero,
    so the split b_ih / b_hh is the only thing that moves."""
    with np.load(path) as f:
        ref = {k: f[k] for k in f.files}
    cell, L, bi = CELL[str(ref["cell"])], int(ref["num_layers"]), bool(ref["bidirectional"])
    sd = {k: ref[k] for k in convert.torch_keys(L, bi)}
    back = convert.stacked_to_torch(convert.stacked_from_torch(sd, cell), cell)
    assert list(back) == list(sd)
    H = ref["h_n"].shape[-1]
    for key in sd:
        if key.startswith("weight"):
            assert np.array_equal(back[key], sd[key]), key
        elif key.startswith("bias_ih"):
            hh = key.replace("bias_ih", "bias_hh")
            assert np.array_equal(back[key] + back[hh], sd[key] + sd[hh]), key
            if cell == "gru":
                assert np.array_equal(back[key][2 * H:], sd[key][2 * H:]), key
                assert np.array_equal(back[hh][2 * H:], sd[hh][2 * H:]), key
