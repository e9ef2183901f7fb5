"""Gated recurrent unit, GRU (book chapter 7).

Book equations, for one example as column vectors (sigma: logistic sigmoid,
``*``: element-wise product)::

    r_t = sigma(W_xr x_t + W_hr h_{t-1} + b_r)                        reset gate    (gru-gates)
    z_t = sigma(W_xz x_t + W_hz h_{t-1} + b_z)                        update gate
    n_t = tanh(W_xn x_t + W_hn (r_t * h_{t-1}) + b_n)                 reset="before"  (gru-candidate)
    n_t = tanh(W_xn x_t + b_n + r_t * (W_hn h_{t-1} + b_hn))          reset="after"
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                             interpolation (gru-update)

**Two variants**, chosen by the named argument ``reset``:

* ``reset="before"``: the reset gate scales ``h_{t-1}`` *before* the recurrent
  matrix product, as in Cho et al. (2014, arXiv:1406.1078v3, eq. 8) and Keras
  ``GRU(reset_after=False)``. The product ``W_hn (r_t * h_{t-1})`` depends on
  ``r_t``, so it cannot be batched with the gates' ``W_hr h, W_hz h``.
* ``reset="after"``: the reset gate scales ``W_hn h_{t-1} + b_hn`` *after*
  the product (arXiv:1406.1078v1), the form of cuDNN, PyTorch ``nn.GRU`` and
  Keras ``GRU(reset_after=True)``. All three recurrent products become one
  ``h_{t-1} W_h^T`` (faster), and the candidate needs a SECOND bias ``b_hn``
  inside the reset: ``b_n`` and ``r_t * b_hn`` are no longer interchangeable.

**Update convention: z keeps the old state.** ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``:
with ``z_t = 1`` the unit copies ``h_{t-1}`` unchanged (and its gradient flows
back unchanged: ``dh_{t-1} = z_t * dh_t + ...``), with ``z_t = 0`` it takes the
candidate. This is PyTorch's and Keras' formula, and also Cho et al.'s own:
their eq. (7) reads ``h_j^<t> = z_j h_j^<t-1> + (1 - z_j) h~_j^<t>``. Other
texts (Chung et al. 2014, and many tutorials) write it the other way round,
``h_t = (1 - z_t) h_{t-1} + z_t n_t``, with ``z`` weighting the NEW state. The
two are the same model with ``z`` replaced by ``1 - z`` (negate ``W_xz, W_hz,
b_z``); we keep the PyTorch/Keras/Cho convention so that converted weights
mean the same thing without a sign flip.

**Fused weights, gate order r, z, n** (PyTorch's; Keras stores z, r, h and
:mod:`labrnn.convert` permutes)::

    W_x = [W_xr; W_xz; W_xn]   (3H, D)
    W_h = [W_hr; W_hz; W_hn]   (3H, H)
    b   = [b_r;  b_z;  b_n ]   (3H,)      every bias outside the reset
    b_hn                       (H,)       reset="after" only: the bias inside the reset

``b_r, b_z`` stand for the sums of PyTorch's/Keras' input and recurrent biases
(only their sum matters); ``b_n`` is PyTorch's ``b_in``, ``b_hn`` its ``b_hn``.

Backward (``dh`` is the total gradient reaching ``h_t``)::

    dn = dh * (1 - z),  da_z = dh * (h_{t-1} - n) * z(1-z),  da_n = dn * (1 - n^2)
    after:   da_r = da_n * (W_hn h_{t-1} + b_hn) * r(1-r),  dhn = da_n * r
             dh_{t-1} = dh * z + [da_r, da_z, dhn] W_h
    before:  drh = da_n W_hn,  da_r = drh * h_{t-1} * r(1-r)
             dh_{t-1} = dh * z + drh * r + [da_r, da_z] [W_hr; W_hz]

Shapes: time-major ``x: (T, B, D)``; the state is the tuple ``(h,)`` of ONE array
``h: (B, H)`` (a GRU has no cell state). All arrays share one namespace, device and
dtype. The variant is read from the parameters: with ``b_hn`` the GRU is the
``reset="after"`` one, without it the ``reset="before"`` one.

The cell is :data:`GRU` (registered as ``"gru"``, see :mod:`labrnn.cells`); the
functions below are its passes under the book's names.
"""

from __future__ import annotations

import numpy as np

from ..layers.activations import sigmoid
from ..backend import from_numpy, host_rng
from ..layers.init import glorot_uniform, orthogonal
from ..layers.affine import gate_views
from .base import Cell, check_one_array

__all__ = ["GRU", "GRUCell", "gru_step_forward", "gru_step_backward", "gru_forward",
           "gru_backward", "init_gru", "gru_gate_views", "gru_param_count", "gru_param_names",
           "check_reset", "check_gru_params", "GATES", "VARIANTS"]

GATES = ("r", "z", "n")
VARIANTS = {"before": "Cho et al. 2014; Keras reset_after=False",
            "after": "cuDNN, PyTorch nn.GRU, Keras reset_after=True"}


def check_reset(reset):
    """``reset`` must name a GRU variant: ``"before"`` or ``"after"``."""
    if not isinstance(reset, str) or reset not in VARIANTS:
        options = "; ".join(f"{k!r} ({v})" for k, v in VARIANTS.items())
        raise ValueError(f"unknown GRU variant reset={reset!r}; choose {options}")
    return reset


def gru_param_names(reset="after"):
    """The parameter names of a GRU variant: ``W_x, W_h, b`` (+ ``b_hn`` for ``"after"``)."""
    return ("W_x", "W_h", "b") + (("b_hn",) if check_reset(reset) == "after" else ())


class GRUCell(Cell):
    """The GRU, reset before or after the recurrent product; its state is ``(h,)``."""

    name = "gru"
    state_names = ("h",)
    gates = 3

    def bounded(self, v):
        """States stay finite: gates and candidates are squashed (a cell grows at most by 1 a step)."""
        return True

    def variant_of(self, params):
        return {"reset": "after" if isinstance(params, dict) and "b_hn" in params else "before"}

    def param_names(self, reset="after"):
        return gru_param_names(reset)

    def shapes(self, D, H, reset="after", **_):
        shapes = {"W_x": (3 * H, D), "W_h": (3 * H, H), "b": (3 * H,)}
        if check_reset(reset) == "after":
            shapes["b_hn"] = (H,)
        return shapes

    def init(self, D, H, seed=0, xp=None, device=None, dtype="float64", **kw):
        return init_gru(D, H, seed=seed, xp=xp, device=device, dtype=dtype, **kw)

    def step(self, xp, ax, state, params, v):
        """One GRU update from the input projection ``ax = x W_x^T + b`` (B, 3H)."""
        h_prev = state[0]
        H = h_prev.shape[-1]
        W_h = params["W_h"]
        ax_r, ax_z, ax_n = ax[..., :H], ax[..., H:2 * H], ax[..., 2 * H:]
        if v["reset"] == "after":
            ah = xp.matmul(h_prev, xp.matrix_transpose(W_h))           # all three, one GEMM
            r = sigmoid(ax_r + ah[..., :H], xp)                        # eq. gru-gates
            z = sigmoid(ax_z + ah[..., H:2 * H], xp)
            aux = ah[..., 2 * H:] + params["b_hn"]                     # W_hn h_{t-1} + b_hn
            n = xp.tanh(ax_n + r * aux)                                # eq. gru-candidate
        else:
            ah = xp.matmul(h_prev, xp.matrix_transpose(W_h[:2 * H, :]))  # r and z together
            r = sigmoid(ax_r + ah[..., :H], xp)
            z = sigmoid(ax_z + ah[..., H:], xp)
            aux = r * h_prev                                           # reset before the product
            n = xp.tanh(ax_n + xp.matmul(aux, xp.matrix_transpose(W_h[2 * H:, :])))
        h = (1.0 - z) * n + z * h_prev                                 # eq. gru-update
        return (h,), (r, z, n, aux)

    def step_back(self, xp, dstate, state_prev, cache_t, params, v):
        """``(dax, (dh_prev,), dah)``: the gradients of the input projection (B, 3H), of
        h_{t-1}, and of the recurrent pre-activations (``(B, 3H)`` after, ``(B, 2H)`` before)."""
        dh, h_prev = dstate[0], state_prev[0]
        r, z, n, aux = cache_t
        H = h_prev.shape[-1]
        W_h = params["W_h"]
        da_z = dh * (h_prev - n) * z * (1.0 - z)
        da_n = dh * (1.0 - z) * (1.0 - n * n)
        dh_prev = dh * z                                               # the copy path of z
        if v["reset"] == "after":
            da_r = da_n * aux * r * (1.0 - r)
            dah = xp.concat([da_r, da_z, da_n * r], axis=-1)
            dh_prev = dh_prev + xp.matmul(dah, W_h)
        else:
            drh = xp.matmul(da_n, W_h[2 * H:, :])                      # gradient of r * h_{t-1}
            da_r = drh * h_prev * r * (1.0 - r)
            dah = xp.concat([da_r, da_z], axis=-1)
            dh_prev = dh_prev + drh * r + xp.matmul(dah, W_h[:2 * H, :])
        return xp.concat([da_r, da_z, da_n], axis=-1), (dh_prev,), dah

    def grads(self, xp, dax, recs, s_prev, s_new, caches, params, v):
        H = s_prev[0].shape[-1]
        N = dax.shape[0]
        dah = xp.reshape(xp.stack(recs, axis=0), (N, recs[0].shape[-1]))
        T_ = xp.matrix_transpose
        if v["reset"] == "after":
            return {"W_h": xp.matmul(T_(dah), s_prev[0]), "b_hn": xp.sum(dah[:, 2 * H:], axis=0)}
        aux = xp.reshape(xp.stack([c[3] for c in caches], axis=0), (N, H))
        return {"W_h": xp.concat([xp.matmul(T_(dah), s_prev[0]),
                                  xp.matmul(T_(dax[:, 2 * H:]), aux)], axis=0)}


GRU = GRUCell()


def check_gru_params(params, reset=None):
    """Check GRU parameters (and an explicit ``reset=`` against their keys, which
    decide): ``(dtype, D, H, variant)``."""
    if reset is None:
        return GRU.check(params)
    check_reset(reset)
    has = isinstance(params, dict) and "b_hn" in params
    if reset == "before" and has:
        raise ValueError("params holds 'b_hn', the bias inside the reset of the reset='after' "
                         "variant, but reset='before' was requested; pass reset='after' "
                         "(or create the parameters with init_gru(..., reset='before'))")
    if reset == "after" and not has:
        raise KeyError("params has no 'b_hn': the reset='after' GRU needs the bias inside the "
                       "reset, shape (H,). Pass reset='before' for Cho et al.'s variant, or "
                       "create the parameters with init_gru(..., reset='after')")
    return GRU.check(params)


def gru_step_forward(x_t, h_prev, params, reset=None):
    """One GRU step, equations ``gru-gates``, ``gru-candidate``, ``gru-update``.

    Parameters
    ----------
    x_t : array (B, D)
    h_prev : array (B, H)
    params : dict ``W_x (3H, D)``, ``W_h (3H, H)``, ``b (3H,)`` in gate order r, z, n,
        plus ``b_hn (H,)`` for ``reset="after"``.
    reset : {"after", "before"}, optional
        Where the reset gate acts (see the module docstring); the parameters
        decide (``b_hn`` present: ``"after"``), this only checks them.

    Returns
    -------
    h_t : array (B, H)
    cache : used by :func:`gru_step_backward`
    """
    if reset is not None:
        check_gru_params(params, reset)
    check_one_array("a GRU", "h_prev", h_prev)
    (h,), cache = GRU.step_forward(x_t, (h_prev,), params, labels=("h_prev",))
    return h, cache


def gru_step_backward(dh_t, cache):
    """Backward of one GRU step: ``dh_t`` (B, H) -> ``(dx_t, dh_prev, grads)``."""
    dx, (dh,), grads = GRU.step_backward((dh_t,), cache, labels=("dh_t",))
    return dx, dh, grads


def gru_forward(x, params, state0=None, lengths=None, reset=None):
    """Run the GRU over a sequence (equations ``gru-gates`` to ``gru-update``, t = 1..T).

    The input projection ``x_t W_x^T + b`` of all steps and gates is one matrix
    product; the recurrent products loop over time (one per step for
    ``reset="after"``, two for ``"before"``).

    Returns ``h`` (T, B, H), every hidden state (``h[-1]`` is h_T), the final
    state ``(h_T,)`` and a cache for :func:`gru_backward`. ``state0`` is a tuple
    ``(h0,)``; ``lengths`` (B,) runs a padded batch (equation ``masked-state``).
    """
    if reset is not None:
        check_gru_params(params, reset)
    return GRU.forward(x, params, state0, lengths)


def gru_backward(dh, cache, dstate_T=None):
    """Backpropagation through time for :func:`gru_forward`.

    ``dh`` (T, B, H): gradient from the layer above for every h_t; ``dstate_T``
    ``(dh_T,)``, optional: extra gradient at the final state. Returns
    ``(dx (T, B, D), (dh0,), grads)`` with ``grads`` keyed like ``params``.
    """
    return GRU.backward(dh, cache, dstate_T)


# ---------------------------------------------------------------- parameters
def gru_gate_views(params):
    """The book's per-gate parameters as slices of the fused ones (views on NumPy).

    Returns ``W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xn, W_hn, b_n`` (shapes
    ``(H, D)``, ``(H, H)``, ``(H,)``) plus ``b_hn`` if present. Gate order r, z, n.
    """
    views = gate_views(params, GATES)
    if "b_hn" in params:
        views["b_hn"] = params["b_hn"]
    return views


def gru_param_count(D, H, reset="after"):
    """Number of GRU parameters: ``3 (H*D + H*H + H)``, plus ``H`` for ``b_hn`` with ``reset="after"``."""
    return 3 * (H * D + H * H + H) + (H if check_reset(reset) == "after" else 0)


def init_gru(D, H, seed=0, reset="after", W_h="orthogonal", xp=None, device=None,
             dtype="float64"):
    """Create GRU parameters ``W_x (3H, D), W_h (3H, H), b (3H,)`` [+ ``b_hn (H,)``].

    Per gate: ``W_x`` blocks Glorot-uniform, ``W_h`` blocks orthogonal (or
    ``"glorot"``), biases zero. Random numbers are drawn on the host from
    ``seed`` and moved to ``xp``/``device``, so every backend gets identical weights.
    """
    check_reset(reset)
    rng = host_rng(seed)
    inits = {"orthogonal": lambda: orthogonal((H, H), rng),
             "glorot": lambda: glorot_uniform((H, H), rng)}
    if W_h not in inits:
        raise ValueError(f"unknown W_h initialiser {W_h!r}; choose one of {sorted(inits)}")
    p = {"W_x": np.concatenate([glorot_uniform((H, D), rng) for _ in GATES], axis=0),
         "W_h": np.concatenate([inits[W_h]() for _ in GATES], axis=0),
         "b": np.zeros(3 * H)}
    if reset == "after":
        p["b_hn"] = np.zeros(H)
    return {k: from_numpy(v, xp=xp, device=device, dtype=dtype) for k, v in p.items()}
