"""The labrnn side of the benchmark: each case as a workload of labrnn's public functions.

The cells run through :mod:`labrnn.bench.adapter`; the models through
:func:`labrnn.stacked_forward`, :func:`labrnn.bidirectional_forward`,
:func:`labrnn.attention_forward` and :mod:`labrnn.apps.charlm` with
:class:`labrnn.Adam`. NumPy arrays (the suite times labrnn on the CPU), in the fast-path mode the worker was
started with (:func:`labrnn.fast.set_fast_paths`), except the ``overhead`` cases, which
time the generic array-API loop against the same loop written for NumPy.
"""

from __future__ import annotations

from ..fast import fast_paths, get_fast_paths
from . import adapter
from .workload import Workload

__all__ = ["NAME", "supports", "build"]

NAME = "labrnn"


def supports(case):
    """labrnn runs every case."""
    return True


def _named(out, dx, grads):
    res = {"out": out}
    if dx is not None:
        res["dx"] = dx
    res.update({f"grad.{k}": g for k, g in grads.items()})
    return res


def build(case, inputs):
    """A :class:`~labrnn.bench.workload.Workload` for ``case`` from :func:`~labrnn.bench.cases.make_inputs`."""
    params = dict(inputs["params"])
    if case.kind == "charlm":
        return _charlm(case, params, inputs["ids"])
    x, dout = inputs["x"], inputs["dout"]
    fwd, bwd = _model(case, params)
    # The overhead case measures the array-API layer: the generic loop, never a fast path.
    mode = "off" if case.kind == "overhead" else get_fast_paths()

    def forward():
        with fast_paths(mode):
            return fwd(x)

    def forward_backward():
        with fast_paths(mode):
            out, cache = fwd(x)
            dx, grads = bwd(dout, cache)
        return _named(out, dx, grads)

    return Workload(forward if case.mode == "fwd" else forward_backward, forward_backward)


def _model(case, params):
    """``(fwd(x) -> (out, cache), bwd(dout, cache) -> (dx, grads))`` of a non-charlm case."""
    from .. import (attention_backward, attention_forward, bidirectional_backward,
                    bidirectional_forward, stacked_backward, stacked_forward)
    from ..paramtree import subparams, with_prefix
    cell = case.cell
    if case.kind in ("cell", "overhead"):
        return (lambda x: adapter.forward(cell, x, params)), adapter.backward
    if case.kind == "stacked":
        def fwd(x):
            y, _, cache = stacked_forward(x, params, cell=cell)
            return y, cache

        def bwd(dout, cache):
            dx, _, grads = stacked_backward(dout, cache)
            return dx, grads
        return fwd, bwd
    if case.kind == "bidir":
        def fwd(x):
            y, _, cache = bidirectional_forward(x, params, cell=cell)
            return y, cache

        def bwd(dout, cache):
            dx, _, grads = bidirectional_backward(dout, cache)
            return dx, grads
        return fwd, bwd
    enc, att = subparams(params, "enc."), subparams(params, "att.")

    def fwd(x):
        h, c_enc = adapter.forward(cell, x, enc)
        context, _, c_att = attention_forward(h[-1, ...], h, att, score="additive")
        return context, (c_enc, c_att)

    def bwd(dout, cache):
        c_enc, c_att = cache
        dq, dh, g_att = attention_backward(dout, c_att)
        dh[-1, ...] += dq                      # the query is the encoder's last state
        dx, g_enc = adapter.backward(dh, c_enc)
        return dx, {**with_prefix("enc.", g_enc), **with_prefix("att.", g_att)}

    return fwd, bwd


def _charlm(case, params, ids):
    from ..apps.charlm import loss_and_grads
    from ..training.optim import Adam
    opt = Adam()

    def step():
        loss, grads, _ = loss_and_grads(params, ids)
        opt.step(params, grads)
        return loss, grads

    def outputs():
        loss, grads = step()
        res = {"loss": loss}
        res.update({f"grad.{k}": g for k, g in grads.items()})
        res.update({f"param.{k}": v for k, v in params.items()})
        return res

    return Workload(step, outputs)
