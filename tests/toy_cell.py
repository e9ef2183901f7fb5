"""A toy cell, added the way the API appendix ("Adding a cell") describes.

The *leaky* cell keeps a fraction ``1 - alpha`` of its old state and mixes in a
fraction ``alpha`` of an Elman candidate::

    n_t = tanh(x_t W_x^T + b + h_{t-1} W_h^T)
    h_t = (1 - alpha) h_{t-1} + alpha n_t

Its backward, from ``dh_t`` (everything that reaches ``h_t``)::

    da_t     = dh_t * alpha * (1 - n_t^2)            gradient of the pre-activation
    dh_{t-1} = dh_t * (1 - alpha) + da_t W_h          the leak and the recurrence
    dW_h     = sum_t da_t^T h_{t-1}                   (dW_x, db: the default projection's)
"""

import numpy as np

from labrnn.backend import from_numpy, host_rng
from labrnn.cells import Cell
from labrnn.layers.init import glorot_uniform, orthogonal


class LeakyCell(Cell):
    name = "leaky"
    state_names = ("h",)                  # the state tuple: one array (B, H)
    gates = 1                             # the input projection is (B, H) wide
    input_weights = ("W_x", "b")          # projected for all steps at once by Cell.project
    recurrent_weight = "W_h"              # (gates * H, H): H is read from it
    options = {"alpha": 0.5}              # an option the parameters do not store

    def param_names(self, **variant):
        return ("W_x", "W_h", "b")

    def shapes(self, D, H, **variant):
        return {"W_x": (H, D), "W_h": (H, H), "b": (H,)}

    def init(self, D, H, seed=0, xp=None, device=None, dtype="float64"):
        rng = host_rng(seed)
        p = {"W_x": glorot_uniform((H, D), rng), "W_h": orthogonal((H, H), rng), "b": np.zeros(H)}
        return {k: from_numpy(v, xp=xp, device=device, dtype=dtype) for k, v in p.items()}

    def step(self, xp, ax_t, state, params, v):
        h = state[0]
        n = xp.tanh(ax_t + xp.matmul(h, xp.matrix_transpose(params["W_h"])))
        return ((1.0 - v["alpha"]) * h + v["alpha"] * n,), n      # (new state, step cache)

    def step_back(self, xp, dstate, state_prev, n, params, v):
        dh = dstate[0]
        da = dh * v["alpha"] * (1.0 - n * n)
        dh_prev = dh * (1.0 - v["alpha"]) + xp.matmul(da, params["W_h"])
        return da, (dh_prev,), None                                 # (d ax_t, d state, rec)

    def grads(self, xp, da, recs, s_prev, s_new, caches, params, v):
        return {"W_h": xp.matmul(xp.matrix_transpose(da), s_prev[0])}


LEAKY = LeakyCell()
