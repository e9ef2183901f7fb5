"""Bad input gets a clear error at the public entry (issue 9), one class per category.

Every test asserts on the message: it must name the argument, what was received and what
was expected. The categories outside the cells and recurrent models: ``None`` for an
array, a wrong type, a wrong shape, a wrong dtype, non-finite values, bad sizes / seeds /
learning rates / probabilities, flags of the wrong type, optimiser state reused on new
shapes, dtype promotion, NaN in clipping, losses over zero positions, gradient-check NaN
rows, the attention vector ``v``'s shape, and gate views of the wrong cell.
"""

import numpy as np
import pytest

import labrnn
from labrnn import (Adam, RMSProp, SGD, ArgumentTypeError, DTypeError, NonFiniteError,
                    ShapeError)
from labrnn.backend import float_dtype, host_rng, namespace
from labrnn.training.batching import make_batches
from labrnn.training.gradcheck import GradcheckReport
from labrnn.layers.masking import check_mask
from labrnn.validate import (check_array, check_bool, check_choice, check_int, check_number,
                             check_positive, check_positive_int, check_probability, check_seed)

T, B, C = 3, 2, 4


def _logits(backend, shape=(T, B, C)):
    return backend.asarray(np.random.default_rng(0).normal(size=shape))


def _ids(backend, shape=(T, B), high=C):
    return backend.asarray(np.random.default_rng(1).integers(0, high, size=shape))


class TestNoneForAnArray:
    def test_namespace_names_the_none_argument(self):
        with pytest.raises(TypeError, match=r"^x is None; expected an array"):
            namespace(None, names=["x"])
        with pytest.raises(ValueError, match="expected at least one array"):   # also a ValueError
            namespace(None)

    def test_check_array(self):
        with pytest.raises(ArgumentTypeError, match=r"^keys is None; expected a \(T, B, Hk\) array"):
            check_array("keys", None, "a (T, B, Hk) array")

    def test_losses(self, backend):
        with pytest.raises(TypeError, match=r"logits is None; expected a float array \(\.\.\., C\)"):
            labrnn.softmax_cross_entropy(None, _ids(backend))
        with pytest.raises(TypeError, match="targets is None; expected an integer array"):
            labrnn.softmax_cross_entropy(_logits(backend), None)
        with pytest.raises(TypeError, match="target is None; expected a float array"):
            labrnn.mean_squared_error(_logits(backend), None)

    def test_attention_activations_layers_optimisers(self, backend):
        params = labrnn.init_attention("general", 3, 4, xp=backend.xp, device=backend.device)
        keys = backend.asarray(np.ones((T, B, 4)))
        with pytest.raises(TypeError, match=r"q is None; expected a \(B, Hq\) float array"):
            labrnn.attention_forward(None, keys, params, "general")
        with pytest.raises(TypeError, match=r"^a is None; expected an array"):
            labrnn.tanh(None)
        with pytest.raises(TypeError, match=r"W is None; expected a float matrix \(O, H\)"):
            labrnn.affine_forward(keys, None, backend.asarray(np.zeros(2)))
        p = {"w": backend.asarray(np.zeros(2))}
        with pytest.raises(TypeError, match=r"grads\['w'\] is None; expected an array"):
            SGD().step(p, {"w": None})
        with pytest.raises(TypeError, match=r"tgt is None; expected a \(T, B\) integer array"):
            labrnn.shift_right(None, 1)


class TestWrongType:
    @pytest.mark.parametrize("bad", [[1.0, 2.0], 3.0, "abc", {"a": 1}])
    def test_a_python_object_for_an_array(self, bad):
        with pytest.raises(DTypeError, match=rf"logits must be an array \(NumPy, CuPy, \.\.\.\), "
                                             rf"received {type(bad).__name__}"):
            labrnn.softmax_cross_entropy(bad, np.zeros((T, B), dtype=int))

    def test_dicts_and_callables(self, backend):
        with pytest.raises(TypeError, match="params must be a dict of named arrays, received list"):
            Adam().step([1.0], {})
        with pytest.raises(TypeError, match="grads must be a dict of named arrays, received tuple"):
            labrnn.clip_by_global_norm((1.0,), 1.0)
        with pytest.raises(TypeError, match="step_fn must be a callable .*received int"):
            labrnn.greedy_decode(3, None, 0, 1, 5)
        with pytest.raises(TypeError, match="f must be a callable f\\(inputs\\) -> scalar, received str"):
            labrnn.gradcheck("f", {}, {})

    def test_ids_and_tokens(self, backend):
        E = labrnn.init_embedding(5, 2, xp=backend.xp, device=backend.device)
        with pytest.raises(DTypeError, match=r"ids must hold integer token ids, received dtype \S*float64"):
            labrnn.embedding_forward(backend.asarray(np.zeros((2, 2))), E)
        with pytest.raises(ArgumentTypeError, match=r"bos must be an integer >= 0, received 1\.5 \(float\)"):
            labrnn.greedy_decode(lambda s, t: (np.log(np.full(3, 1 / 3)), s), None, 1.5, 0, 3)
        with pytest.raises(ArgumentTypeError, match=r"bos must be an integer >= 0, received 2\.7 \(float\)"):
            labrnn.shift_right(_ids(backend), 2.7)
        with pytest.raises(ArgumentTypeError, match=r"bos must be an integer >= 0, received True \(bool\)"):
            labrnn.shift_right(_ids(backend), True)
        with pytest.raises(ValueError, match=r"bos must be an integer >= 0, received -1"):
            labrnn.shift_right(_ids(backend), -1)
        with pytest.raises(DTypeError, match=r"tgt must hold integer token ids, received dtype \S*float64"):
            labrnn.shift_right(backend.asarray(np.zeros((T, B))), 1)

    def test_shift_right_still_shifts(self, backend):
        tgt = backend.asarray(np.array([[1, 2], [3, 4], [5, 6]]))
        np.testing.assert_array_equal(backend.to_numpy(labrnn.shift_right(tgt, 9)),
                                      [[9, 9], [1, 2], [3, 4]])


class TestWrongShape:
    def test_loss_targets_and_masks(self, backend):
        z = _logits(backend)
        with pytest.raises(ShapeError, match=r"targets must have shape \(3, 2\) .*received \(2, 3\)"):
            labrnn.softmax_cross_entropy(z, _ids(backend, (B, T)))
        with pytest.raises(ShapeError, match=r"mask must cover the leading axes of the entries "
                                             r"\(3, 2\).*received \(2, 3\)"):
            labrnn.softmax_cross_entropy(z, _ids(backend), backend.asarray(np.ones((B, T))))

    def test_attention_keys_query_and_mask(self, backend):
        params = labrnn.init_attention("additive", 3, 4, xp=backend.xp, device=backend.device)
        keys = backend.asarray(np.ones((T, B, 4)))
        with pytest.raises(ShapeError, match=r"q must have shape \(B=2, Hq\), received \(3, 3\)"):
            labrnn.attention_forward(backend.asarray(np.ones((3, 3))), keys, params)
        with pytest.raises(ShapeError, match=r"params\['W_q'\] must have shape \(A=4, Hq=5\), "
                                             r"received \(4, 3\)"):
            labrnn.attention_forward(backend.asarray(np.ones((B, 5))), keys, params)
        with pytest.raises(ShapeError, match=r"mask must have shape \(T=3, B=2\), received \(2, 3\)"):
            labrnn.attention_forward(backend.asarray(np.ones((B, 3))), keys, params,
                                     mask=backend.asarray(np.ones((B, T), dtype=bool)))

    def test_affine_and_init_shapes(self, backend):
        W = backend.asarray(np.ones((2, 3)))
        with pytest.raises(ShapeError, match=r"b must have shape \(O=2,\), received \(3,\)"):
            labrnn.affine_forward(backend.asarray(np.ones((4, 3))), W, backend.asarray(np.ones(3)))
        with pytest.raises(ValueError, match=r"shape must be a tuple of 2 sizes, e\.g\. \(fan_out, "
                                             r"fan_in\), received \(2, 3, 4\)"):
            labrnn.glorot_uniform((2, 3, 4), 0)
        with pytest.raises(ArgumentTypeError, match=r"shape\[1\] must be an integer >= 0, received 2\.5"):
            labrnn.orthogonal((2, 2.5), 0)


class TestWrongDtype:
    def test_float_dtype_refuses_integer_dtypes(self, backend):
        with pytest.raises(DTypeError, match="dtype must be float32 or float64, received int32"):
            float_dtype(backend.xp, np.int32)
        with pytest.raises(DTypeError, match="dtype must be float32 or float64, received int32"):
            labrnn.init_embedding(3, 2, dtype=np.int32)

    def test_masks_hold_booleans_or_0_1(self, backend):
        z, y = _logits(backend), _ids(backend)
        half = backend.asarray(np.full((T, B), 0.5))
        with pytest.raises(ValueError, match=r"mask must hold only 0 and 1 \(or False/True\): it "
                                             r"selects positions, it does not weight them; "
                                             r"received values in \[0\.5, 0\.5\]"):
            labrnn.softmax_cross_entropy(z, y, half)
        # booleans and 0/1 numbers are the same mask: one convention
        m = np.array([[1, 1], [1, 0], [0, 0]])
        a = labrnn.softmax_cross_entropy(z, y, backend.asarray(m.astype(bool)))[0]
        b = labrnn.softmax_cross_entropy(z, y, backend.asarray(m.astype(np.float64)))[0]
        assert float(a) == float(b)

    def test_gradcheck_inputs_need_float64(self, backend):
        x = backend.asarray(np.ones(2), dtype="float32")
        with pytest.raises(DTypeError, match=r"inputs\['x'\] has dtype \S*float32; gradient checks "
                                             r"need float64"):
            labrnn.gradcheck(lambda d: d["x"][0], {"x": x}, {"x": x})


class TestNonFinite:
    def test_bce_targets(self, backend):
        z = backend.asarray(np.zeros((T, B)))
        y = backend.asarray(np.array([[0.0, 1.0], [np.nan, 0.5], [0.0, 0.0]]))
        with pytest.raises(NonFiniteError, match=r"targets contains a non-finite value \(nan\) at "
                                                 r"index \(1, 0\)"):
            labrnn.binary_cross_entropy(z, y)

    def test_mse_targets(self, backend):
        pred = backend.asarray(np.zeros((T, B, 1)))
        target = backend.asarray(np.where(np.arange(T * B).reshape(T, B, 1) == 4, np.inf, 0.0))
        with pytest.raises(NonFiniteError, match=r"target contains a non-finite value \(inf\) at "
                                                 r"index \(2, 0, 0\); clean the data"):
            labrnn.mean_squared_error(pred, target)

    def test_numbers(self):
        with pytest.raises(ValueError, match=r"temperature must be a positive number \(finite\), "
                                             r"received inf"):
            labrnn.sample_decode(lambda s, t: (np.log(np.full(3, 1 / 3)), s), None, 0, 1, 3,
                                 seed=0, temperature=float("inf"))


class TestSizesSeedsRatesProbabilities:
    def test_sizes(self):
        with pytest.raises(ValueError, match=r"V must be an integer >= 1, received 0"):
            labrnn.init_embedding(0, 2)
        with pytest.raises(ArgumentTypeError, match=r"D must be an integer >= 1, received 2\.0 \(float\)"):
            labrnn.init_embedding(3, 2.0)
        with pytest.raises(ArgumentTypeError, match=r"A must be an integer >= 1, received '4' \(str\)"):
            labrnn.init_attention("additive", 3, 4, A="4")
        with pytest.raises(ValueError, match=r"B must be an integer >= 1, received 0"):
            make_batches([3, 2, 1], 0, seed=0)
        with pytest.raises(ValueError, match=r"max_len must be an integer >= 1, received 0"):
            labrnn.greedy_decode(lambda s, t: (np.zeros(1), s), None, 0, 0, 0)

    @pytest.mark.parametrize("seed, kind, received", [
        (1.5, ArgumentTypeError, r"1\.5 of type float"), (-1, ValueError, "-1"),
        (True, ArgumentTypeError, "True of type bool"), ("0", ArgumentTypeError, "'0' of type str"),
        ([1, -2], ValueError, r"\[1, -2\]")])
    def test_seeds(self, seed, kind, received):
        want = r"an int >= 0, a list of ints >= 0 or a numpy\.random\.Generator"
        with pytest.raises(kind, match=rf"seed must be {want}, received {received}"):
            labrnn.init_embedding(3, 2, seed=seed)
        with pytest.raises(kind, match=rf"seed must be {want}, received {received}"):
            check_seed("seed", seed)
        with pytest.raises(kind, match=rf"rng must be {want}"):
            labrnn.glorot_uniform((2, 2), seed)
        with pytest.raises(ValueError, match="seed is None; pass a seed"):
            host_rng(None)

    def test_learning_rates(self, backend):
        with pytest.raises(ArgumentTypeError, match=r"lr must be a positive number, received '0\.1' \(str\)"):
            SGD(lr="0.1")
        with pytest.raises(ValueError, match=r"lr must be a positive number \(finite\), received nan"):
            Adam(lr=float("nan"))
        opt = RMSProp()
        with pytest.raises(ValueError, match=r"lr must be a number >= 0, received -0\.5"):
            opt.lr = -0.5                      # a schedule's assignment is checked too
        opt.lr = 0.0                           # a schedule may end at 0
        assert opt.lr == 0.0

    def test_optimiser_hyperparameters_and_limits(self):
        with pytest.raises(ValueError, match=r"beta2 must be a number in \[0, 1\), received 1"):
            Adam(beta2=1)
        with pytest.raises(ValueError, match=r"limit must be a positive number, received -1"):
            labrnn.clip_by_value({"a": np.ones(1)}, -1)
        with pytest.raises(ArgumentTypeError, match=r"max_norm must be a positive number, received None"):
            labrnn.clip_by_global_norm({"a": np.ones(1)}, None)

    def test_probabilities_and_helpers(self):
        with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\), received 1"):
            check_probability("p", 1, allow_one=False)
        assert check_probability("p", 1) == 1.0
        with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\], received 1\.5"):
            check_probability("p", 1.5)
        with pytest.raises(ValueError, match=r"H must be an integer >= 1, received -3"):
            check_positive_int("H", -3)
        with pytest.raises(ValueError, match=r"k must be an integer in \[1, 5\], received 9"):
            check_int("k", 9, 1, 5)
        with pytest.raises(ValueError, match=r"eps must be a positive number, received 0"):
            check_positive("eps", 0)
        with pytest.raises(ValueError, match=r"x must be a number <= 2, received 3"):
            check_number("x", 3, high=2)
        with pytest.raises(ValueError, match=r"score must be one of \['a', 'b'\], received 'c'"):
            check_choice("score", "c", ("a", "b"))
        assert check_positive_int("H", np.int64(3)) == 3 and type(check_positive_int("H", 3)) is int


class TestFlags:
    def test_check_bool(self):
        with pytest.raises(ArgumentTypeError, match=r"bucket must be True or False, received 'yes' \(str\)"):
            check_bool("bucket", "yes")
        assert check_bool("bucket", np.bool_(True)) is True

    @pytest.mark.parametrize("bad", [1, "False", None])
    def test_make_batches_bucket(self, bad):
        with pytest.raises(ArgumentTypeError, match=rf"bucket must be True or False, received {bad!r}"):
            make_batches([3, 2, 1], 2, seed=0, bucket=bad)


class TestOptimiserStateReuse:
    @pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), RMSProp, Adam])
    def test_new_shape_raises_and_reset_recovers(self, backend, make):
        opt = make()
        small = {"W": backend.asarray(np.ones((2, 3)))}
        opt.step(small, {"W": backend.asarray(np.ones((2, 3)))})
        big = {"W": backend.asarray(np.ones((3, 3)))}
        g = {"W": backend.asarray(np.ones((3, 3)))}
        with pytest.raises(ShapeError, match=rf"{type(opt).__name__} holds state for params\['W'\] "
                                             r"of shape \(2, 3\) .*but params\['W'\] now has shape "
                                             r"\(3, 3\).*Call \.reset\(\)"):
            opt.step(big, g)
        np.testing.assert_array_equal(backend.to_numpy(big["W"]), np.ones((3, 3)))   # untouched
        opt.reset()
        opt.step(big, g)
        assert tuple(big["W"].shape) == (3, 3)

    def test_reset_restarts_adam_bias_correction(self):
        opt = Adam(lr=0.1)
        p = {"w": np.zeros(1)}
        opt.step(p, {"w": np.ones(1)})
        opt.reset()
        q = {"w": np.zeros(1)}
        opt.step(q, {"w": np.ones(1)})
        assert opt.t == 1 and p["w"][0] == q["w"][0]       # the first step again


class TestDtypePromotion:
    @pytest.mark.parametrize("make", [SGD, RMSProp, Adam])
    def test_float64_gradient_for_float32_parameters(self, backend, make):
        p = {"W": backend.asarray(np.ones(3), dtype="float32")}
        g = {"W": backend.asarray(np.ones(3), dtype="float64")}
        with pytest.raises(DTypeError, match=r"grads\['W'\] has dtype \S*float64, but the parameter "
                                             r"params\['W'\] has dtype \S*float32; the update would "
                                             r"silently change the parameter's dtype"):
            make().step(p, g)
        assert p["W"].dtype == backend.xp.float32

    def test_clipping_keeps_float32(self, backend):
        g = {"W": backend.asarray(np.full(3, 10.0), dtype="float32")}
        clipped, norm = labrnn.clip_by_global_norm(g, 1.0)
        assert clipped["W"].dtype == backend.xp.float32
        assert norm.dtype == backend.xp.float64 and abs(float(norm) - np.sqrt(300.0)) < 1e-4


class TestNaNInClipping:
    def test_clip_by_value_refuses_nan(self, backend):
        g = {"a": backend.asarray(np.ones(2)),
             "b": backend.asarray(np.array([[0.5, np.nan], [1.0, 2.0]]))}
        with pytest.raises(NonFiniteError, match=r"grads\['b'\] holds NaN \(first at index \(0, 1\)\): "
                                                 r"clipping cannot turn NaN into a gradient"):
            labrnn.clip_by_value(g, 1.0)

    def test_clip_by_value_clips_infinity(self, backend):
        # inf is clipped to the limit (that is what clipping by value is for); NaN has no side
        out = labrnn.clip_by_value({"a": backend.asarray(np.array([np.inf, -np.inf]))}, 2.0)
        np.testing.assert_array_equal(backend.to_numpy(out["a"]), [2.0, -2.0])


class TestZeroPositions:
    def test_mask_selects_nothing(self, backend):
        z, y = _logits(backend), _ids(backend)
        none = backend.asarray(np.zeros((T, B), dtype=bool))
        for loss, args in ((labrnn.softmax_cross_entropy, (z, y)),
                           (labrnn.binary_cross_entropy, (z, backend.asarray(np.zeros((T, B, C))))),
                           (labrnn.mean_squared_error, (z, z))):
            with pytest.raises(ValueError, match="mask selects no position: the mean loss over "
                                                 "zero positions is undefined"):
                loss(*args, mask=none)

    def test_empty_inputs(self, backend):
        z = backend.asarray(np.zeros((0, B, C)))
        with pytest.raises(ValueError, match=r"the logits hold no entry \(entries of shape \(0, 2\)\)"):
            labrnn.softmax_cross_entropy(z, backend.asarray(np.zeros((0, B), dtype=np.int64)))
        with pytest.raises(ValueError, match=r"pred hold no entry|pred holds no entry"):
            labrnn.mean_squared_error(z, z)


class TestGradcheckNaNRows:
    def test_a_nan_row_is_not_ok(self):
        report = GradcheckReport(rows=[("a", (2,), 1e-10, 0.0), ("b", (2,), float("nan"), 0.0)])
        assert not report.ok()
        assert np.isnan(report.max_error)
        with pytest.raises(AssertionError, match=r"gradient check failed"):
            report.assert_ok()
        assert "nan  FAIL" in report.table()
        assert GradcheckReport(rows=[("a", (2,), 1e-10, 0.0)]).ok()

    def test_nan_first_row_too(self):
        assert not GradcheckReport(rows=[("b", (2,), float("nan"), 0.0),
                                         ("a", (2,), 1e-10, 0.0)]).ok()

    def test_bad_tolerance(self):
        with pytest.raises(ValueError, match="tol must be a positive number, received 0"):
            GradcheckReport().ok(0)


class TestAttentionVShape:
    @pytest.mark.parametrize("bad_shape", [(4, 1), (1, 4), ()])
    def test_v_must_be_a_vector(self, backend, bad_shape):
        params = labrnn.init_attention("additive", 3, 4, A=4, xp=backend.xp, device=backend.device)
        params["v"] = backend.asarray(np.ones(bad_shape))
        q = backend.asarray(np.ones((4, 3)))            # B = A = 4: broadcasting would not catch it
        keys = backend.asarray(np.ones((T, 4, 4)))
        with pytest.raises(ShapeError, match=rf"params\['v'\] must have shape \(A,\), received "
                                             rf"{re_tuple(bad_shape)}"):
            labrnn.attention_forward(q, keys, params)

    def test_v_of_the_wrong_length(self, backend):
        params = labrnn.init_attention("additive", 3, 4, A=4, xp=backend.xp, device=backend.device)
        params["v"] = backend.asarray(np.ones(5))
        with pytest.raises(ShapeError, match=r"params\['W_q'\] must have shape \(A=5, Hq=3\), "
                                             r"received \(4, 3\)"):
            labrnn.attention_forward(backend.asarray(np.ones((B, 3))),
                                     backend.asarray(np.ones((T, B, 4))), params)


def re_tuple(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


class TestGateViewsOfTheWrongCell:
    def test_lstm_views_of_gru_parameters(self):
        with pytest.raises(ValueError, match=r"params hold 'b_hn', a parameter of the GRU, not of the "
                                             r"LSTM"):
            labrnn.lstm_gate_views(labrnn.init_gru(3, 4, seed=0))
        gru = labrnn.init_gru(3, 4, seed=0)
        del gru["b_hn"]                                  # no telling key left: the row count tells
        with pytest.raises(ShapeError, match=r"the LSTM has 4 gates .*needs W_x, W_h and b with 4H = "
                                             r"16 rows \(H=4\), received 12, 12 and 12 rows: these "
                                             r"look like the GRU's \(3 gates\) parameters"):
            labrnn.lstm_gate_views(gru)

    def test_gru_views_of_lstm_parameters(self):
        with pytest.raises(ShapeError, match=r"the GRU has 3 gates .*3H = 12 rows \(H=4\), received "
                                             r"16, 16 and 16 rows: these look like the LSTM's"):
            labrnn.gru_gate_views(labrnn.init_lstm(3, 4, seed=0))
        with pytest.raises(ValueError, match=r"params hold 'w_ci', a parameter of the LSTM, not of "
                                             r"the GRU"):
            labrnn.gru_gate_views(labrnn.init_lstm(3, 4, seed=0, peephole=True))

    def test_elman_parameters(self):
        with pytest.raises(KeyError, match=r"params is missing \['W_x', 'W_h', 'b'\]"):
            labrnn.gru_gate_views(labrnn.init_elman(3, 4, seed=0))

    def test_right_cell_still_works(self):
        views = labrnn.lstm_gate_views(labrnn.init_lstm(3, 4, seed=0))
        assert views["W_xo"].shape == (4, 3) and views["b_g"].shape == (4,)
        views = labrnn.gru_gate_views(labrnn.init_gru(3, 4, seed=0))
        assert views["W_hn"].shape == (4, 4) and "b_hn" in views


class TestScalarResults:
    """Losses, global_norm and clip_by_global_norm's norm: 0-d arrays of the input's namespace."""

    def test_zero_d_arrays(self, backend):
        z, y = _logits(backend), _ids(backend)
        loss = labrnn.softmax_cross_entropy(z, y)[0]
        norm = labrnn.global_norm({"z": z})
        _, clipped_norm = labrnn.clip_by_global_norm({"z": z}, 1.0)
        for v in (loss, norm, clipped_norm):
            assert namespace(v) is namespace(z) and tuple(v.shape) == ()
            assert backend.on_this_device(v)
        assert float(norm) == float(clipped_norm)
