"""The PyTorch side of the benchmark (optional: only where ``torch`` is installed).

Each case is built from the same host arrays as labrnn's
(:func:`labrnn.bench.cases.make_inputs`), the weights moved into PyTorch's
layout with :mod:`labrnn.convert`: ``nn.RNN`` (tanh), ``nn.LSTM``, ``nn.GRU``
(single, stacked with ``num_layers``, or ``bidirectional=True``); the attention
model is ``nn.LSTM`` plus the additive score written with tensor operations; the
language model is ``nn.Embedding``, ``nn.LSTM``, ``nn.Linear``,
``F.cross_entropy`` and ``torch.optim.Adam`` (PyTorch's two redundant LSTM biases
each take an Adam step, so their sum moves twice as far as labrnn's one bias: the
check compares ``bias_ih`` with labrnn's ``b``). Forward + backward also computes
``dx`` (``x.requires_grad_()``), as labrnn always does; forward-only runs under
``torch.no_grad()`` (PyTorch's inference path; labrnn has none). Gradients are
read back into labrnn's names: ``grad W_x = weight_ih.grad``, ``grad W_h =
weight_hh.grad``, ``grad b = bias_ih.grad`` (the two PyTorch biases enter the
same sum, so each has labrnn's bias gradient) and, for the GRU,
``grad b_hn = bias_hh.grad[2H:]``.
"""

from __future__ import annotations

import numpy as np

from .cases import TORCH_CELLS
from .workload import Workload

__all__ = ["NAME", "available", "supports", "build", "to_torch_state", "grads_from_torch"]

NAME = "torch"


def available():
    """True when ``import torch`` works."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def supports(case):
    """Every case with a PyTorch cell (not the layer-normalised LSTM), except the overhead case."""
    return case.kind != "overhead" and case.cell in TORCH_CELLS


def _module_class(cell):
    import torch.nn as nn
    return {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]


def to_torch_state(cell, params, suffix="_l0"):
    """labrnn parameters of one ``cell`` -> PyTorch state-dict entries ending in ``suffix``.

    ``suffix`` is ``"_l0"`` for a single layer, ``"_l1"`` for a second one,
    ``"_l0_reverse"`` for the backward direction.
    """
    from .. import convert
    fn = {"elman": convert.elman_to_torch, "lstm": convert.lstm_to_torch,
          "gru": convert.gru_to_torch}[cell]
    return {k.replace("_l0", suffix): v for k, v in fn(params).items()}


def grads_from_torch(cell, module, suffix="_l0"):
    """The gradients of one layer/direction of ``module`` in labrnn's names (NumPy)."""
    g = {k: getattr(module, k + suffix).grad.detach().numpy()
         for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    if cell == "elman":
        return {"W_xh": g["weight_ih"], "W_hh": g["weight_hh"], "b_h": g["bias_ih"]}
    out = {"W_x": g["weight_ih"], "W_h": g["weight_hh"], "b": g["bias_ih"]}
    if cell == "gru":
        H = g["weight_hh"].shape[1]
        out["b_hn"] = g["bias_hh"][2 * H:]
    return out


def _rnn(case, params, prefixes, dtype, **kw):
    """An ``nn.RNN``/``nn.LSTM``/``nn.GRU`` holding labrnn's ``params`` (prefix -> suffix map)."""
    import torch
    from ..paramtree import subparams
    mod = _module_class(case.cell)(case.D, case.H, dtype=dtype, **kw)   # dtype first: no rounding
    state = {}
    for prefix, suffix in prefixes.items():
        sub = subparams(params, prefix) if prefix else params
        state.update(to_torch_state(case.cell, sub, suffix))
    mod.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return mod


def build(case, inputs):
    """A :class:`~labrnn.bench.workload.Workload` for ``case``, in the inputs' dtype."""
    import torch
    from ..paramtree import with_prefix
    params = inputs["params"]
    dtype = {np.dtype("float32"): torch.float32,
             np.dtype("float64"): torch.float64}[next(iter(params.values())).dtype]
    if case.kind == "charlm":
        return _charlm(case, params, inputs["ids"], dtype)
    x = torch.from_numpy(inputs["x"]).requires_grad_(True)
    dout = torch.from_numpy(inputs["dout"])
    extra = {}
    if case.kind == "cell":
        mod = _rnn(case, params, {"": "_l0"}, dtype)
        layers = {"": (mod, "_l0")}
    elif case.kind == "stacked":
        prefixes = {f"l{l}.": f"_l{l}" for l in range(case.layers)}
        mod = _rnn(case, params, prefixes, dtype, num_layers=case.layers)
        layers = {p: (mod, s) for p, s in prefixes.items()}
    elif case.kind == "bidir":
        mod = _rnn(case, params, {"fw.": "_l0", "bw.": "_l0_reverse"},
                   dtype, bidirectional=True)
        layers = {"fw.": (mod, "_l0"), "bw.": (mod, "_l0_reverse")}
    else:  # attention
        from ..paramtree import subparams
        mod = _rnn(case, params, {"enc.": "_l0"}, dtype)
        layers = {"enc.": (mod, "_l0")}
        extra = {k: torch.from_numpy(np.array(v)).requires_grad_(True)
                 for k, v in subparams(params, "att.").items()}
    leaves = [x] + list(mod.parameters()) + list(extra.values())

    def forward_graph():
        out, _ = mod(x)
        if case.kind != "attention":
            return out
        q = out[-1]
        pre = torch.tanh(out @ extra["W_k"].T + (q @ extra["W_q"].T)[None])   # (T, B, A)
        alpha = torch.softmax(pre @ extra["v"], dim=0)                          # (T, B)
        return (alpha[..., None] * out).sum(dim=0)                              # (B, H)

    def forward():
        with torch.no_grad():
            return forward_graph()

    def forward_backward():
        for leaf in leaves:
            leaf.grad = None
        out = forward_graph()
        out.backward(dout)
        return out

    def outputs():
        out = forward_backward()
        res = {"out": out.detach().numpy(), "dx": x.grad.numpy()}
        for prefix, (m, suffix) in layers.items():
            res.update({f"grad.{k}": g for k, g in
                        with_prefix(prefix, grads_from_torch(case.cell, m, suffix)).items()})
        res.update({f"grad.att.{k}": t.grad.numpy() for k, t in extra.items()})
        return res

    return Workload(forward if case.mode == "fwd" else forward_backward, outputs)


def _charlm(case, params, ids, dtype):
    import torch
    import torch.nn.functional as F
    from ..paramtree import subparams
    V, E = params["E"].shape
    emb = torch.nn.Embedding(V, E, dtype=dtype)
    lstm = torch.nn.LSTM(E, case.H, num_layers=case.layers, dtype=dtype)
    out = torch.nn.Linear(case.H, V, dtype=dtype)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(params["E"]))
        state = {}
        for l in range(case.layers):
            state.update(to_torch_state("lstm", subparams(params, f"l{l}."), f"_l{l}"))
        lstm.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                              for k, v in state.items()})
        out.weight.copy_(torch.from_numpy(params["W_y"]))
        out.bias.copy_(torch.from_numpy(params["b_y"]))
    modules = torch.nn.ModuleList([emb, lstm, out])
    opt = torch.optim.Adam(modules.parameters(), lr=1e-3)
    inp = torch.from_numpy(np.asarray(ids[:-1], dtype=np.int64))
    tgt = torch.from_numpy(np.asarray(ids[1:], dtype=np.int64)).reshape(-1)

    def step():
        opt.zero_grad(set_to_none=True)
        h, _ = lstm(emb(inp))
        loss = F.cross_entropy(out(h).reshape(-1, V), tgt)
        loss.backward()
        opt.step()
        return loss.detach()

    def outputs():
        loss = float(step())
        res = {"loss": loss, "grad.E": emb.weight.grad.numpy().copy(),
               "grad.W_y": out.weight.grad.numpy().copy(),
               "grad.b_y": out.bias.grad.numpy().copy()}
        for l in range(case.layers):
            res.update({f"grad.l{l}.{k}": np.array(g) for k, g in
                        grads_from_torch("lstm", lstm, f"_l{l}").items()})
        res["param.E"] = emb.weight.detach().numpy()
        res["param.W_y"] = out.weight.detach().numpy()
        res["param.b_y"] = out.bias.detach().numpy()
        for l in range(case.layers):
            W_ih = getattr(lstm, f"weight_ih_l{l}").detach().numpy()
            W_hh = getattr(lstm, f"weight_hh_l{l}").detach().numpy()
            # labrnn's one bias b started as bias_ih (bias_hh = 0) and receives the same
            # gradient and so the same Adam step; PyTorch's sum bias_ih + bias_hh moves twice
            # as far (two redundant vectors, each stepped), a difference of the models.
            b = getattr(lstm, f"bias_ih_l{l}").detach().numpy()
            res.update({f"param.l{l}.W_x": W_ih, f"param.l{l}.W_h": W_hh, f"param.l{l}.b": b})
        return res

    return Workload(step, outputs)
