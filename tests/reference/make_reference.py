"""Write PyTorch reference vectors for labrnn's Elman, LSTM and GRU cells.

Run where PyTorch is installed (CPU is enough)::

    python tests/reference/make_reference.py          # rewrites tests/reference/torch_*.npz

For every cell (``nn.RNN`` with tanh and with relu, ``nn.LSTM``, ``nn.GRU``)
and every size it builds a float64 module, sets its weights and draws the
input, initial state and upstream gradients from a seeded NumPy generator (so
the numbers do not depend on torch's random stream), then runs::

    out, h_T (, c_T) = module(x, h0 (, c0))
    L = sum(out * dy) + sum(h_T * dh_T) (+ sum(c_T * dc_T))
    L.backward()

and saves, in one small compressed ``.npz`` per case: the inputs (``x``,
``h0``, ``c0``), the weights under PyTorch's state-dict names, the upstream
gradients (``dy``, ``dh_T``, ``dc_T``), the outputs (``out``, ``h_T``, ``c_T``)
and every gradient (``grad_x``, ``grad_h0``, ``grad_c0``, ``grad_<weight
name>``), plus ``cell``, ``nonlinearity`` and ``torch_version`` as strings.
Both PyTorch biases are drawn nonzero, so the tests also exercise the bias
summing of :mod:`labrnn.convert`. Arrays are time-major ``(T, B, .)``, which is
PyTorch's default (``batch_first=False``) and labrnn's convention.

``tests/test_reference_torch.py`` reads these files with NumPy only: the
committed ``.npz`` files let the tests run without PyTorch.
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
SIZES = [  # (T, B, D, H)
    (5, 3, 4, 6),
    (1, 1, 2, 3),
    (12, 2, 3, 4),
]
CELLS = {  # name: (constructor, nonlinearity, number of gate blocks)
    "rnn_tanh": (torch.nn.RNN, "tanh", 1),
    "rnn_relu": (torch.nn.RNN, "relu", 1),
    "lstm": (torch.nn.LSTM, None, 4),
    "gru": (torch.nn.GRU, None, 3),
}
WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def make_case(name, T, B, D, H, seed):
    ctor, nonlin, k = CELLS[name]
    rng = np.random.default_rng(seed)
    kw = {"nonlinearity": nonlin} if nonlin else {}
    module = ctor(D, H, num_layers=1, batch_first=False, **kw).double()
    shapes = {"weight_ih_l0": (k * H, D), "weight_hh_l0": (k * H, H),
              "bias_ih_l0": (k * H,), "bias_hh_l0": (k * H,)}
    weights = {key: 0.5 * rng.standard_normal(shapes[key]) for key in WEIGHTS}
    with torch.no_grad():
        for key, value in weights.items():
            getattr(module, key).copy_(torch.from_numpy(value))
    lstm = name == "lstm"
    data = {"x": rng.standard_normal((T, B, D)), "h0": 0.5 * rng.standard_normal((B, H))}
    if lstm:
        data["c0"] = 0.5 * rng.standard_normal((B, H))
    upstream = {"dy": rng.standard_normal((T, B, H)), "dh_T": rng.standard_normal((B, H))}
    if lstm:
        upstream["dc_T"] = rng.standard_normal((B, H))

    t = {key: torch.tensor(value, requires_grad=True) for key, value in data.items()}
    # PyTorch wants states as (num_layers, B, H).
    if lstm:
        out, (h_n, c_n) = module(t["x"], (t["h0"][None], t["c0"][None]))
    else:
        out, h_n = module(t["x"], t["h0"][None])
    loss = (out * torch.from_numpy(upstream["dy"])).sum() \
        + (h_n[0] * torch.from_numpy(upstream["dh_T"])).sum()
    if lstm:
        loss = loss + (c_n[0] * torch.from_numpy(upstream["dc_T"])).sum()
    loss.backward()

    record = {**data, **weights, **upstream,
              "out": out.detach().numpy(), "h_T": h_n[0].detach().numpy(),
              "cell": np.array(name), "nonlinearity": np.array(nonlin or ""),
              "torch_version": np.array(torch.__version__)}
    if lstm:
        record["c_T"] = c_n[0].detach().numpy()
    for key in data:
        record[f"grad_{key}"] = t[key].grad.numpy()
    for key in WEIGHTS:
        record[f"grad_{key}"] = getattr(module, key).grad.numpy()
    return record


def main():
    written = []
    for n, name in enumerate(CELLS):
        for m, (T, B, D, H) in enumerate(SIZES):
            record = make_case(name, T, B, D, H, seed=1000 * n + m)
            path = HERE / f"torch_{name}_T{T}_B{B}_D{D}_H{H}.npz"
            np.savez_compressed(path, **record)
            written.append(path)
    for path in written:
        print(f"{path.name:38s} {path.stat().st_size:6d} bytes")


if __name__ == "__main__":
    main()
