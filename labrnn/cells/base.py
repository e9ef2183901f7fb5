"""The cell protocol and the one time loop every cell runs in (book chapters 4, 6, 7 and 10).

A recurrent *cell* is described once, by a :class:`Cell`: its parameter names and
shapes, its initialisation, the structure of its state, and four small unchecked
kernels that take the array namespace ``xp`` and check nothing:

``project(xp, x, params, v) -> (ax, pcache)``
    the input projection of every time step at once, one matrix product
    (``x_t W_x^T + b`` for all ``t``: ``(T, B, G)``, ``G`` the width of the gates);
``step(xp, ax_t, state, params, v) -> (new_state, cache_t)``
    one step of the recurrence from ``ax_t`` and the previous state;
``step_back(xp, dstate, state_prev, cache_t, params, v) -> (dax_t, dstate_prev, rec_t)``
    its backward: the gradient of ``ax_t``, of the previous state, and what the
    recurrent weights' gradient needs (``rec_t``);
``grads(xp, dax, recs, s_prev, s_new, caches, params, v) -> grads``
    the other parameters' gradients after the time loop (the recurrent weights':
    one matrix product per matrix); those of the input projection come from
    :meth:`Cell.project_back`.

``v`` is the cell's *variant* (a dict such as ``{"peephole": True}``), read from the
parameters' keys (:meth:`Cell.variant`) so that it cannot disagree with them, plus
the options that parameters do not store (the Elman cell's ``activation``).

**The state is always a tuple** of ``(B, H)`` arrays whose first entry is the hidden
state ``h`` (what the layer outputs): ``(h,)`` for the Elman cell and the GRU,
``(h, c)`` for the LSTMs.

:meth:`Cell.forward` and :meth:`Cell.backward` are the one signature of every
sequence pass in the package::

    out, final_state, cache = cell.forward(x, params, state0=None, lengths=None)
    dx, dstate0, grads      = cell.backward(dout, cache, dstate_T=None)

They validate everything once, at the entry (shapes, dtypes, namespace and device,
finiteness of the inputs, the initial state and the parameters), call
:func:`labrnn.namespace` a constant number of times, and run the time loop of
:func:`run_forward` / :func:`run_backward` (equations ``bptt-da``/``bptt-dh`` for the
Elman cell, the same loop for every cell). With ``lengths`` (B,) a padded batch runs
with the mask of equation ``masked-state``::

    m_t = [t < length_b]
    s_t = m_t * cell(x_t, s_{t-1}) + (1 - m_t) * s_{t-1}      the state freezes after the end
    out_t = m_t * h_t                                         padded outputs are zero

The mask is applied only at the steps where some sequence has ended
(``t >= min(lengths)``), so a padded batch costs little more than a full one.
"""

from __future__ import annotations

import numpy as np

from .. import fast
from ..backend import from_numpy, device_of, namespace, to_numpy
from ..errors import ShapeError
from ..layers.masking import check_lengths, sequence_mask
from ..validate import check_finite, check_float, check_nonempty, check_params, check_shape

__all__ = ["Cell", "SequenceCache", "run_forward", "run_backward", "as_state",
           "check_one_array"]


class SequenceCache:
    """What :meth:`Cell.forward` keeps for :meth:`Cell.backward` (opaque to callers).

    It holds a *copy* of the parameter dict (the same arrays), so rebinding
    ``params[k]`` after the forward pass (as the optimisers do) does not change
    the gradients the backward pass computes.
    """

    __slots__ = ("cell", "variant", "x", "params", "state0", "states", "caches", "pcache",
                 "mask", "tmin", "h_mask", "xp", "lengths", "fast")

    def __init__(self, **kw):
        for k, val in kw.items():
            setattr(self, k, val)

    @property
    def H(self):
        """The number of units (the width of the states)."""
        return self.states[0].shape[-1]

    def __repr__(self):
        T, B, _ = self.x.shape
        return f"<SequenceCache of a {self.cell.name} cell, T={T}, B={B}>"


def _a(word):
    """``"a lstm"`` -> ``"an lstm"``: the article of a cell's name."""
    w = word.lower()
    # a vowel, or an initialism read letter by letter from "el", "en", ... ("an lstm")
    an = w[:1] in "aeiou" or (w[:1] in "fhlmnrsx" and not any(ch in "aeiou" for ch in w))
    return ("an " if an else "a ") + word


def _describe(obj):
    if hasattr(obj, "shape"):
        return f"a single array of shape {tuple(obj.shape)}"
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of length {len(obj)}"
    return f"a {type(obj).__name__}"


def check_one_array(what, name, a):
    """A step function's ``h_prev`` must be ONE array (the step wraps it in ``(h,)`` itself)."""
    if not hasattr(a, "shape"):
        hint = ""
        if isinstance(a, (tuple, list)):
            hint = (f"; the step takes the array itself: pass {name}=state[0]" if len(a) == 1
                    else " - is that an LSTM state (h, c)?")
        raise TypeError(f"{name} of {what} must be ONE array h of shape (B, H), received "
                        f"{_describe(a)}{hint}")
    return a


def as_state(cell, name, state, B, H, dtype, xp_of=None, labels=None, x_name="x"):
    """Check a state (or a state gradient) of ``cell``: a tuple of ``(B, H)`` arrays.

    ``None`` entries are allowed (they stand for zeros) and kept. Returns a tuple.
    ``labels`` (one per entry) name the entries in messages (default ``name[k] (h)``),
    ``x_name`` the array ``xp_of`` whose namespace and device they must share.
    """
    parts = cell.state_names
    want = "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")
    if not isinstance(state, (tuple, list)) or len(state) != len(parts):
        hint = ""
        if hasattr(state, "shape") and len(parts) == 1:
            hint = f"; wrap the array: {name}=(h,)"
        elif hasattr(state, "shape"):
            hint = (f"; {_a(cell.name)} cell carries a hidden state h AND a cell state c: "
                    f"pass {name}=(h, c) (c zeros to start from h alone)")
        raise TypeError(f"{name} of {_a(cell.name)} cell must be the tuple {want} of (B, H) "
                        f"arrays, received {_describe(state)}{hint}")
    out = []
    for k, (sym, a) in enumerate(zip(parts, state)):
        label = f"{name}[{k}] ({sym})" if labels is None else labels[k]
        if a is None:
            out.append(None)
            continue
        if xp_of is not None:
            namespace(xp_of, a, names=[x_name, label])
        check_float(label, a, dtype)
        check_shape(label, a, (("B", B), ("H", H)))
        check_finite(label, a)
        out.append(a)
    return tuple(out)


class Cell:
    """A recurrent cell: described once, run by the one time loop of this module.

    Subclasses set ``name``, ``state_names`` (``("h",)`` or ``("h", "c")``),
    ``gates`` (the number of ``H``-wide blocks of the input projection) and
    ``input_weights`` (the names of ``W_x`` and ``b`` of the default
    :meth:`project`), and implement :meth:`param_names`, :meth:`shapes`,
    :meth:`init`, :meth:`step`, :meth:`step_back` and :meth:`grads`.
    """

    name = "cell"
    state_names = ("h",)
    gates = 1
    input_weights = ("W_x", "b")
    recurrent_weight = "W_h"        # the (G*H, H) matrix whose second axis gives H
    options = {}                    # options not stored in the parameters, with defaults

    # ------------------------------------------------------------ description
    def variant(self, params, **options):
        """The variant the parameters' keys imply, plus the options (e.g. ``activation``).

        An option given as ``None`` takes the cell's default; an option the cell does
        not have is an error (it would otherwise be silently ignored).
        """
        unknown = sorted(k for k, val in options.items()
                         if k not in self.options and val is not None)
        if unknown:
            raise TypeError(f"the {self.name} cell takes no option {unknown[0]!r}; "
                            f"its options are {sorted(self.options) or 'none'}")
        v = {k: d if options.get(k) is None else options[k] for k, d in self.options.items()}
        v.update(self.variant_of(params))
        return v

    def variant_of(self, params):
        """The variant read from the keys of ``params`` (``{}`` for a cell without variants)."""
        return {}

    def param_names(self, **variant):
        raise NotImplementedError

    def bounded(self, v):
        """True when the states stay finite whatever the inputs (tanh/sigmoid-bounded).

        A padded batch of a bounded cell runs on through the padded steps and reads each
        sequence's final state at its own last step (no mask inside the loop); other cells
        (a ReLU Elman cell, whose states could overflow in a long padding) freeze the state.
        """
        return False

    def shapes(self, D, H, **variant):
        """``{name: shape}`` of every parameter for ``D`` inputs and ``H`` units."""
        raise NotImplementedError

    def param_count(self, D, H, **variant):
        """Number of parameters; like every count here it does not depend on ``T``."""
        return int(sum(int(np.prod(s)) for s in self.shapes(D, H, **variant).values()))

    def init(self, D, H, seed=0, xp=None, device=None, dtype="float64", **kw):
        raise NotImplementedError

    # ------------------------------------------------------------ validation
    def check(self, params, D=None, **options):
        """Check ``params`` once: ``(dtype, D, H, variant)``.

        Every parameter must be present, float, of one dtype, namespace and device,
        of the shape :meth:`shapes` gives, and finite. ``H`` is read from the
        recurrent weight, ``D`` from ``x`` when given (so a transposed input matrix
        is blamed, not the recurrent one).
        """
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of named arrays, received "
                            f"{type(params).__name__}")
        v = self.variant(params, **options)
        names = self.param_names(**{k: v[k] for k in v if k not in self.options})
        dtype = check_params(params, names)
        Wh = params[self.recurrent_weight]
        G = self.gates
        if Wh.ndim != 2 or Wh.shape[0] != G * Wh.shape[1]:
            want = "(H, H)" if G == 1 else f"({G}H, H)"
            raise ShapeError(f"params[{self.recurrent_weight!r}] of {_a(self.name)} cell must have "
                             f"shape {want}, received {tuple(Wh.shape)}")
        H = Wh.shape[1]
        W_in = params[self.input_weights[0]]
        D_known = D is not None             # from x; otherwise read off the input weight itself
        if D is None:
            D = W_in.shape[-1] if W_in.ndim == 2 else None
        for k, shape in self.shapes(D, H, **v).items():
            got = tuple(params[k].shape)
            if got != tuple(shape):
                hint, want, sizes = "", str(tuple(shape)), f"D={D} inputs and H={H} units"
                if len(got) == 2 and got[::-1] == tuple(shape):
                    hint = " (it looks transposed: the book stores W as (out, in))"
                elif k == self.input_weights[0] and not D_known:
                    want, sizes = f"({shape[0]}, D)", f"H={H} units"
                elif k == self.input_weights[0] and len(got) == 2 and got[0] == shape[0]:
                    hint = (f" (x has D={D} features per step, these parameters were made "
                            f"for D={got[1]})")
                raise ShapeError(f"params[{k!r}] of {_a(self.name)} cell with {sizes} must have "
                                 f"shape {want}, received {got}{hint}")
        for k in names:
            check_finite(f"params[{k!r}]", params[k])
        return dtype, D, H, v

    # ------------------------------------------------------------ kernels
    def project(self, xp, x, params, v):
        """The input projection of all steps, ``x W_x^T + b`` (one GEMM), and its cache."""
        W, b = (params[k] for k in self.input_weights)
        T, B, D = x.shape
        ax = xp.matmul(xp.reshape(x, (T * B, D)), xp.matrix_transpose(W))      # one GEMM
        ax += b
        return xp.reshape(ax, (T, B, ax.shape[-1])), None

    def project_back(self, xp, dax, x, params, pcache):
        """Backward of :meth:`project` from ``dax`` (T, B, G): ``(dx (T, B, D), grads)``."""
        W, b = self.input_weights
        T, B, D = x.shape
        dax2 = xp.reshape(dax, (T * B, dax.shape[-1]))
        return (xp.reshape(xp.matmul(dax2, params[W]), (T, B, D)),
                {W: xp.matmul(xp.matrix_transpose(dax2), xp.reshape(x, (T * B, D))),
                 b: xp.sum(dax2, axis=0)})

    def step(self, xp, ax_t, state, params, v):
        raise NotImplementedError

    def step_back(self, xp, dstate, state_prev, cache_t, params, v):
        raise NotImplementedError

    def grads(self, xp, dax, recs, s_prev, s_new, caches, params, v):
        """The recurrent parameters' gradients after the loop (``dax``, ``recs``: (T*B, .))."""
        raise NotImplementedError

    # ------------------------------------------------------------ the public passes
    def forward(self, x, params, state0=None, lengths=None, *, h_mask=None, checkpoint_every=None,
                **options):
        """Run the cell over ``x`` (T, B, D): ``(out, final_state, cache)``.

        ``out`` (T, B, H) holds the hidden states ``h_1..h_T`` (zero at padded
        steps with ``lengths``); ``final_state`` is the tuple of the state at each
        sequence's last real step; ``state0`` a tuple like it (``None``: zeros;
        ``None`` entries are zeros too). ``lengths`` (B,) integers in ``[1, T]``
        runs a padded batch (equation ``masked-state``). ``h_mask`` (B, H),
        keyword-only: variational dropout of the recurrent input, already scaled
        (the cell reads ``h_{t-1} * h_mask``; the carried state is not dropped).
        ``checkpoint_every`` (int k >= 1), keyword-only: gradient checkpointing
        (:mod:`labrnn.cells.recompute`): keep the state every k steps, recompute the rest
        in the backward pass (same results, memory ~ T/k + k steps instead of T).
        ``options``: the cell's options (the Elman cell's ``activation``).
        """
        xp = namespace(x, names=["x"])
        if not hasattr(x, "shape") or x.ndim != 3:
            raise ShapeError(f"x must be a time-major sequence of shape (T, B, D), received "
                             f"{_describe(x)}; for one sequence use x[:, None, :]")
        dtype, D, H, v = self.check(params, D=x.shape[-1], **options)
        namespace(x, params[self.input_weights[0]], names=["x", f"params[{self.input_weights[0]!r}]"])
        check_float("x", x, dtype)
        T, B, _ = x.shape
        check_nonempty("x", x)
        check_finite("x", x, "clean the data (NaN or inf in the inputs would spread to every "
                             "state; pad with zeros)")
        zeros = None
        s0 = (None,) * len(self.state_names) if state0 is None else \
            as_state(self, "state0", state0, B, H, dtype, x)
        if any(s is None for s in s0):
            zeros = xp.zeros((B, H), dtype=dtype, device=device_of(x))
            s0 = tuple(zeros if s is None else s for s in s0)
        mask, tmin, host = None, T, None
        if lengths is not None:
            lengths = check_lengths(lengths, T, B, x)
            host = np.asarray(to_numpy(lengths)).astype(np.int64)
            tmin = int(host.min())
            if tmin < T:
                mask = sequence_mask(lengths, T)[..., None]           # (T, B, 1) bool
        if h_mask is not None:
            namespace(h_mask, x, names=["h_mask", "x"])
            check_float("h_mask", h_mask, dtype)
            check_shape("h_mask", h_mask, (("B", B), ("H", H)))
            check_finite("h_mask", h_mask)
        if checkpoint_every is not None:            # gradient checkpointing (recompute.py)
            return checkpointed_forward(self, xp, x, params, v, s0, mask, tmin, h_mask,
                                        checkpoint_every)
        return run_forward(self, xp, x, params, v, s0, mask, tmin, h_mask, host)

    def backward(self, dout, cache, dstate_T=None):
        """Backpropagation through time for :meth:`forward`: ``(dx, dstate0, grads)``.

        ``dout`` (T, B, H): the gradient of the loss with respect to ``out`` (``None``:
        the loss did not use it); ``dstate_T``: a tuple like the final state
        (``None`` entries for zero), the gradient arriving at the final state.
        ``dx`` is (T, B, D) (zero at padded steps), ``dstate0`` a tuple like the
        state, ``grads`` keyed like the parameters.
        """
        if not isinstance(cache, (SequenceCache, CheckpointCache)):
            raise TypeError(f"cache must be the third value returned by {self.name} forward, "
                            f"received {_describe(cache)}")
        if cache.cell.name != self.name:
            raise TypeError(f"cache comes from {_a(cache.cell.name)} cell, but this is the "
                            f"backward pass of {_a(self.name)} cell")
        dT = self.check_backward(dout, dstate_T, cache.x, cache.H)
        if isinstance(cache, CheckpointCache):      # from forward(..., checkpoint_every=k)
            return checkpointed_backward(self, dout, cache, dT)
        return run_backward(self, cache.xp, dout, cache, dT)

    def check_backward(self, dout, dstate_T, x, H):
        """Check a backward pass's ``dout`` (T, B, H) or ``None`` and ``dstate_T`` against the
        forward pass's ``x`` (T, B, D) and ``H``; returns ``dstate_T`` as a tuple (``None``
        entries kept)."""
        T, B, _ = x.shape
        if dout is not None:
            namespace(dout, x, names=["dout", "the forward pass's x"])
            check_float("dout", dout, x.dtype)
            check_shape("dout", dout, (("T", T), ("B", B), ("H", H)))
            check_finite("dout", dout)
        return (None,) * len(self.state_names) if dstate_T is None else \
            as_state(self, "dstate_T", dstate_T, B, H, x.dtype, x)

    def step_forward(self, x_t, state, params, *, labels=None, **options):
        """One checked step: ``x_t`` (B, D) and a state tuple -> ``(new_state, cache)``.

        The same computation as :meth:`forward` over a sequence of one step.
        ``labels``: how messages name the state's entries (default ``state[k] (h)``;
        ``("h_prev",)`` for a step function that takes the array itself).
        """
        if not hasattr(x_t, "shape") or x_t.ndim != 2:
            raise ShapeError(f"x_t must be the inputs of one time step, shape (B, D), "
                             f"received {_describe(x_t)}")
        xp = namespace(x_t, names=["x_t"])
        if not isinstance(state, (tuple, list)):
            as_state(self, "state", state, x_t.shape[0], None, x_t.dtype)
        Wh = params.get(self.recurrent_weight) if isinstance(params, dict) else None
        if hasattr(Wh, "shape") and Wh.ndim == 2:     # blame `state`, not forward's `state0`
            check_float("x_t", x_t, Wh.dtype)
            as_state(self, "state", state, x_t.shape[0], Wh.shape[-1], Wh.dtype, x_t, labels,
                     x_name="x_t")
        _, final, cache = self.forward(xp.expand_dims(x_t, axis=0), params, tuple(state),
                                       **options)
        return final, cache

    def step_backward(self, dstate, cache, *, labels=None):
        """Backward of :meth:`step_forward`: ``dstate`` (a tuple like the state, ``None``
        entries for zero) -> ``(dx_t, dstate_prev, grads)``. ``labels`` as in
        :meth:`step_forward` (default ``dstate[k] (h)``)."""
        if isinstance(cache, SequenceCache) and cache.cell.name == self.name:
            B, H = cache.states[0].shape[1:]
            as_state(self, "dstate", dstate, B, H, cache.x.dtype, cache.x, labels,
                     x_name="the forward step's x_t")
        dx, dprev, grads = self.backward(None, cache, dstate)
        return dx[0, ...], dprev, grads

    def __repr__(self):
        return f"<{self.name} cell, state {self.state_names}>"


# ---------------------------------------------------------------- the one time loop
def run_forward(cell, xp, x, params, v, s0, mask=None, tmin=None, h_mask=None, lengths=None,
                runon=True):
    """The time loop of every cell, unchecked: ``(out, final_state, cache)``.

    ``s0`` a tuple of (B, H) arrays; ``mask`` (T, B, 1) bool or ``None`` with ``lengths``
    the host integer lengths (B,). Equation ``masked-state`` freezes the state after each
    sequence's end; two exact ways to compute it:

    * a :meth:`Cell.bounded` cell runs on through the padded steps (their states are never
      read) and takes each sequence's final state at its own last step, ``s_{L_b}``, so the
      loop has no mask at all;
    * any other cell freezes the state with the mask at the steps ``t >= tmin = min(lengths)``.

    ``runon=False`` freezes the state for every cell (the checkpointed pass of
    :mod:`labrnn.cells.recompute` carries the frozen state from segment to segment).
    """
    T, B = x.shape[0], x.shape[1]
    tmin = T if tmin is None else tmin
    runon = runon and mask is not None and cell.bounded(v)
    loop = None
    if h_mask is None and (mask is None or runon):
        loop = fast.loop_for(cell, v, x, B, s0[0].shape[-1])     # chapter 21: NumPy kernels
    if loop is not None:
        pcache = None
        stacked, caches = loop.forward(loop.project(x, params), s0, params)
        state = tuple(S[-1, ...].copy() for S in stacked)     # not views of the cache
    else:
        ax, pcache = cell.project(xp, x, params, v)
        state = s0
        states, caches = [], []
        for t in range(T):
            s_in = state if h_mask is None else (state[0] * h_mask,) + state[1:]
            new, cache_t = cell.step(xp, ax[t, ...], s_in, params, v)
            if mask is not None and t >= tmin and not runon:     # eq. masked-state
                m = mask[t, ...]
                new = tuple(xp.where(m, n, p) for n, p in zip(new, state))
            state = new
            states.append(new)
            caches.append(cache_t)
        stacked = tuple(xp.stack([s[k] for s in states], axis=0) for k in range(len(s0)))
        # A step cache that IS the new hidden state (the Elman cell's h_t) is kept once, as a
        # view of the stacked states, not as a second copy of every h_t (chapter 4's memory).
        caches = [stacked[0][t, ...] if c is states[t][0] else c for t, c in enumerate(caches)]
    out = stacked[0]
    if mask is not None:
        out = xp.where(mask, out, xp.zeros_like(out[:1, ...]))  # padded outputs are zero
    if runon:                                                   # s_{L_b} of every sequence b
        last = from_numpy((lengths - 1) * B + np.arange(B), like=x)
        state = tuple(xp.take(xp.reshape(S, (T * B, S.shape[-1])), last, axis=0)
                      for S in stacked)
    cache = SequenceCache(cell=cell, variant=v, x=x, params=dict(params), state0=s0,
                          states=stacked, caches=caches, pcache=pcache, mask=mask, tmin=tmin,
                          h_mask=h_mask, xp=xp, lengths=lengths if runon else None, fast=loop)
    return out, state, cache


def run_backward(cell, xp, dout, cache, dstate_T):
    """BPTT through :func:`run_forward`, unchecked: ``(dx, dstate0, grads)``."""
    x, params, v = cache.x, cache.params, cache.variant
    T, B, D = x.shape
    s0, S = cache.state0, cache.states
    mask, tmin, h_mask = cache.mask, cache.tmin, cache.h_mask
    zero = None
    carry = []
    for d in dstate_T:
        if d is None:
            zero = xp.zeros_like(s0[0]) if zero is None else zero
            d = zero
        carry.append(d)
    carry = tuple(carry)
    daxs, recs = [None] * T, [None] * T
    mf = None if mask is None else xp.astype(mask, x.dtype)
    ends = {}
    if cache.lengths is not None:
        # Run-on padding: nothing after a sequence's end reached the loss, so its gradients
        # there are exactly zero; dstate_T joins each sequence at its own last step.
        if dout is not None:
            dout = dout * mf
        last = cache.lengths - 1
        ends = {int(t): from_numpy((last == t)[:, None].astype(np.float64), like=x)
                for t in np.unique(last)}
        gT = carry
        carry = tuple(xp.zeros_like(c) for c in carry)
        mask = None                                   # no freezing inside the loop
    if getattr(cache, "fast", None) is not None:        # chapter 21: the same BPTT, fused
        E = None
        if ends:
            E = np.zeros((T, B, 1), dtype=x.dtype)
            E[cache.lengths - 1, np.arange(B), 0] = 1.0
            carry = gT
        dax, carry, rec = cache.fast.backward(dout, carry, E, cache.caches, params)
        dx, grads = cell.project_back(xp, dax, x, params, cache.pcache)
        grads.update(rec)
        return dx, carry, {k: grads[k] for k in params if k in grads}
    for t in range(T - 1, -1, -1):
        if t in ends:
            carry = tuple(c + g * ends[t] for c, g in zip(carry, gT))
        prev = tuple(s0[k] if t == 0 else S[k][t - 1, ...] for k in range(len(s0)))
        if h_mask is not None:
            prev = (prev[0] * h_mask,) + prev[1:]
        d_h = carry[0] if dout is None else carry[0] + dout[t, ...]
        if mask is not None and t >= tmin:                        # eq. masked-state, backward
            m, nm = mf[t, ...], 1.0 - mf[t, ...]                  # (B, 1): 1 where real
            keep = tuple(c * nm for c in carry)                   # a frozen state passes back
            dnew = (d_h * m,) + tuple(c * m for c in carry[1:])
        else:
            keep, dnew = None, (d_h,) + carry[1:]
        daxs[t], dprev, recs[t] = cell.step_back(xp, dnew, prev, cache.caches[t], params, v)
        if h_mask is not None:
            dprev = (dprev[0] * h_mask,) + tuple(dprev[1:])
        carry = tuple(dprev) if keep is None else tuple(a + b for a, b in zip(dprev, keep))
    flat = lambda a: xp.reshape(a, (T * B, a.shape[-1]))         # noqa: E731
    dax = xp.stack(daxs, axis=0)
    s_prev = tuple(xp.concat([s0[k][None, ...], S[k][:-1, ...]], axis=0)
                   for k in range(len(s0)))
    if h_mask is not None:
        s_prev = (s_prev[0] * h_mask,) + s_prev[1:]
    dx, grads = cell.project_back(xp, dax, x, params, cache.pcache)
    grads.update(cell.grads(xp, flat(dax), recs, tuple(flat(s) for s in s_prev),
                            tuple(flat(s) for s in S), cache.caches, params, v))
    if cache.mask is not None and cache.lengths is None:   # (run-on: already exactly zero)
        dx = xp.where(cache.mask, dx, xp.zeros_like(dx[:1, ...]))
    return dx, carry, {k: grads[k] for k in params if k in grads}


from .recompute import (CheckpointCache, checkpointed_backward,  # noqa: E402 (it uses
                        checkpointed_forward)                     # this module's loop)
