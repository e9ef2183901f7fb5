"""The fast paths (labrnn.fast) equal the generic time loop: outputs, states and gradients.

Every kernel ("numpy", and "compiled" when numba is installed) of every cell variant
that has one is run against the generic loop (mode "off") on the same inputs, float64,
with an initial state, a final-state gradient and a padded batch; then float32; then
a float64 central-difference gradient check through each kernel. The selection rules
(which calls get a fast path) and the mode switch are tested too.
"""

import numpy as np
import pytest

import labrnn
from labrnn import fast
from labrnn.cells import get_cell
from labrnn.fast import fast_path_for, fast_paths, get_fast_paths, set_fast_paths

KERNELS = ["numpy", "compiled"]
FAST_VARIANTS = [("lstm", {}), ("gru", {}), ("elman", {"activation": "tanh"}),
                 ("elman", {"activation": "relu"}), ("elman", {"activation": "identity"})]
T, B, D, H = 9, 3, 4, 5
LENGTHS = np.array([9, 2, 6])


def _need(kernel):
    if kernel == "compiled" and not fast.HAVE_NUMBA:
        pytest.skip("numba is not installed (optional 'fast' extra): the compiled kernels "
                    "cannot run; the NumPy kernel is tested")


def _params(name, kw, dtype="float64", seed=1):
    init_kw = {k: v for k, v in kw.items() if k != "activation"}
    p = get_cell(name).init(D, H, seed=seed, **init_kw)
    rng = np.random.default_rng(seed + 100)
    return {k: (v + 0.3 * rng.normal(size=v.shape)).astype(dtype) for k, v in p.items()}


def _opts(kw):
    return {"activation": kw["activation"]} if "activation" in kw else {}


def _run(mode, name, kw, x, p, s0, lengths, dout, dT):
    c = get_cell(name)
    with fast_paths(mode):
        out, st, cache = c.forward(x, p, s0, lengths, **_opts(kw))
        dx, d0, grads = c.backward(dout, cache, dT)
    arrays = {"out": out, "dx": dx, **{f"state[{i}]": s for i, s in enumerate(st)},
              **{f"dstate0[{i}]": d for i, d in enumerate(d0)},
              **{f"grad {k}": g for k, g in grads.items()}}
    return arrays, cache.fast


def _inputs(name, kw, dtype, with_state=True, padded=False, seed=0):
    c = get_cell(name)
    rng = np.random.default_rng(seed)
    n = len(c.state_names)
    x = rng.normal(size=(T, B, D)).astype(dtype)
    s0 = tuple(rng.normal(size=(B, H)).astype(dtype) for _ in range(n)) if with_state else None
    dout = rng.normal(size=(T, B, H)).astype(dtype)
    dT = tuple(rng.normal(size=(B, H)).astype(dtype) for _ in range(n)) if with_state else None
    lengths = LENGTHS if padded else None
    if padded:
        dout = dout * np.asarray(labrnn.sequence_mask(LENGTHS, T))[..., None]
    return x, _params(name, kw, dtype), s0, lengths, dout, dT


def _assert_equal_to_rounding(fast_res, ref, rel):
    assert fast_res.keys() == ref.keys()
    for k in ref:
        scale = float(np.max(np.abs(ref[k]))) or 1.0
        err = float(np.max(np.abs(fast_res[k] - ref[k]))) / scale
        assert err < rel, f"{k}: fast path differs from the generic loop by {err:.2e} (relative)"


# a padded ReLU/identity Elman batch freezes its state: it runs the generic loop
# (test_selection_falls_back_to_the_generic_loop)
CASES64 = [(name, kw, st, pad) for name, kw in FAST_VARIANTS
           for st, pad in [(True, False), (False, False), (True, True)]
           if not pad or kw.get("activation", "tanh") == "tanh"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name,kw,with_state,padded", CASES64)
def test_fast_path_equals_generic_loop_float64(kernel, name, kw, with_state, padded):
    _need(kernel)
    args = _inputs(name, kw, "float64", with_state, padded)
    ref, none = _run("off", name, kw, *args)
    res, loop = _run(kernel, name, kw, *args)
    assert none is None and loop is not None and loop.compiled == (kernel == "compiled")
    _assert_equal_to_rounding(res, ref, 1e-13)
    if name == "elman" and kernel == "numpy" and kw["activation"] != "identity":
        for k in ref:       # the same operations in the same order: the same numbers
            np.testing.assert_array_equal(res[k], ref[k], err_msg=k)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name,kw", FAST_VARIANTS)
def test_fast_path_equals_generic_loop_float32(kernel, name, kw):
    _need(kernel)
    args = _inputs(name, kw, "float32")
    ref, _ = _run("off", name, kw, *args)
    res, loop = _run(kernel, name, kw, *args)
    assert loop is not None
    assert all(a.dtype == np.float32 for a in res.values())
    _assert_equal_to_rounding(res, ref, 2e-5)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name,kw", FAST_VARIANTS[:3])
def test_fast_path_gradcheck(kernel, name, kw):
    """Central differences through the fast kernel itself (float64)."""
    _need(kernel)
    c = get_cell(name)
    x, p, s0, _, R, RT = _inputs(name, kw, "float64", seed=4)
    n = len(c.state_names)

    def loss(inp):
        out, st, _ = c.forward(inp["x"], {k: inp[k] for k in p},
                               tuple(inp[f"s{i}"] for i in range(n)), LENGTHS, **_opts(kw))
        return np.sum(out * R) + sum(np.sum(s * r) for s, r in zip(st, RT))

    with fast_paths(kernel):
        out, st, cache = c.forward(x, p, s0, LENGTHS, **_opts(kw))
        assert cache.fast is not None
        dx, d0, grads = c.backward(R, cache, RT)
        inputs = {"x": x, **p, **{f"s{i}": s0[i] for i in range(n)}}
        analytic = {"x": dx, **grads, **{f"s{i}": d0[i] for i in range(n)}}
        labrnn.gradcheck(loss, inputs, analytic).assert_ok(1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
def test_fast_path_layers_and_step_functions(kernel):
    """Bidirectional and stacked layers (reversed, strided inputs) and T = 1 steps."""
    _need(kernel)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(T, B, D))
    p = labrnn.init_stacked("lstm", D, H, 2, bidirectional=True, seed=2)
    dy = rng.normal(size=(T, B, 2 * H))
    res = {}
    for mode in ("off", kernel):
        with fast_paths(mode):
            y, states, cache = labrnn.stacked_forward(x, p, None, LENGTHS, cell="lstm",
                                                      bidirectional=True)
            dx, _, grads = labrnn.stacked_backward(dy, cache)
            h1, c_step = labrnn.lstm_step_forward(x[0], (dy[0, :, :H], dy[1, :, H:]),
                                                  labrnn.init_lstm(D, H, seed=1))
            dstep = labrnn.lstm_step_backward((np.ones((B, H)), None), c_step)
        res[mode] = {"y": y, "dx": dx, **grads, "h1": h1[0], "c1": h1[1], "dstep": dstep[0]}
    _assert_equal_to_rounding(res[kernel], res["off"], 1e-13)


def test_final_state_is_not_a_view_of_the_cache():
    c = get_cell("lstm")
    x, p, s0, _, dout, dT = _inputs("lstm", {}, "float64")
    with fast_paths("numpy"):
        _, st, cache = c.forward(x, p, s0)
        before = c.backward(dout, cache, dT)[0].copy()
        st[0][...] = 1e3                                     # the caller scribbles on it
        after = c.backward(dout, cache, dT)[0]
    np.testing.assert_array_equal(before, after)


def test_selection_falls_back_to_the_generic_loop():
    x = np.zeros((T, B, D))
    choose = lambda name, **kw: fast_path_for(                   # noqa: E731
        get_cell(name), get_cell(name).variant(_params(name, kw), **_opts(kw)), x, B, H)
    with fast_paths("numpy"):
        assert choose("lstm") == "numpy" and choose("gru") == "numpy"
        assert choose("lstm", peephole=True) is None
        assert choose("gru", reset="before") is None
        assert choose("lnlstm") is None
        assert choose("elman", activation="sigmoid") is None
        assert fast_path_for(get_cell("lstm"), {"peephole": False}, x.astype(np.int64), B, H) \
            is None
    with fast_paths("off"):
        assert choose("lstm") is None
    c = get_cell("elman")
    p = _params("elman", {})
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(T, B, D))
    with fast_paths("numpy"):
        assert c.forward(xs, p)[2].fast is not None
        assert c.forward(xs, p, h_mask=np.ones((B, H)))[2].fast is None
        assert c.forward(xs, p, None, LENGTHS, activation="relu")[2].fast is None
        assert c.forward(xs, p, None, LENGTHS)[2].fast is not None


def test_selection_other_backends_run_the_generic_loop():
    strict = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    p = {k: strict.asarray(v) for k, v in _params("lstm", {}).items()}
    x = strict.asarray(np.zeros((T, B, D)))
    _, _, cache = get_cell("lstm").forward(x, p)
    assert cache.fast is None


def test_auto_mode_picks_by_size_and_numba(monkeypatch):
    lstm = get_cell("lstm")
    x = np.zeros((2, 1, 3), dtype=np.float32)
    v = {"peephole": False}
    assert get_fast_paths() == "auto"
    with fast_paths("auto"):
        big = fast_path_for(lstm, v, x, 64, 512)
        assert big == "numpy"
        small = fast_path_for(lstm, v, x, 1, 64)
        assert small == ("compiled" if fast.HAVE_NUMBA else "numpy")
        monkeypatch.setattr(fast, "HAVE_NUMBA", False)
        assert fast_path_for(lstm, v, x, 1, 64) == "numpy"


def test_mode_switch_errors_and_restores(monkeypatch):
    with pytest.raises(ValueError, match=r"mode must be one of \['auto', 'numpy', 'compiled', "
                                         r"'off'\] \(or True/False\), received 'fast'"):
        set_fast_paths("fast")
    assert get_fast_paths() == "auto"
    with fast_paths(False):
        assert get_fast_paths() == "off"
        with pytest.raises(RuntimeError):
            with fast_paths("numpy"):
                raise RuntimeError("boom")
        assert get_fast_paths() == "off"
    assert get_fast_paths() == "auto"
    monkeypatch.setattr(fast, "HAVE_NUMBA", False)
    with pytest.raises(ImportError, match="mode='compiled' needs numba"):
        set_fast_paths("compiled")
    assert get_fast_paths() == "auto"
