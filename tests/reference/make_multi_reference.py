"""Write PyTorch reference vectors for multi-layer and bidirectional modules (labrnn.convert).

Run where PyTorch is installed (CPU is enough)::

    python tests/reference/make_multi_reference.py    # rewrites tests/reference/multi/*.npz

Like ``make_reference.py``, but for ``nn.RNN`` (tanh, relu), ``nn.LSTM`` and
``nn.GRU`` built with more than one layer and/or ``bidirectional=True``, one
case per layout:

* ``L2``:        ``num_layers=2``, one direction, zero initial state;
* ``bi``:        ``num_layers=1``, ``bidirectional=True``, a random initial state ``h0``
                 (and ``c0``) per direction;
* ``L2_bi``:     ``num_layers=2``, ``bidirectional=True``, zero initial state;
* ``L2_bi_len``: as ``L2_bi`` on a padded batch of different lengths, run through
                 ``pack_padded_sequence`` (outputs padded with zeros again), so the
                 backward direction starts at each sequence's own end.

Every weight (both biases included) is drawn from a seeded NumPy generator,
as are the input and the upstream gradients; then::

    out, h_n (, c_n) = module(x (packed), h0 (, c0))
    L = sum(out * dy) + sum(h_n * dh_n) (+ sum(c_n * dc_n))
    L.backward()

Each ``.npz`` holds: ``x``, ``lengths`` (all ``T`` unless packed), ``h0``/``c0``
(``bi`` only), every weight under its state-dict name, ``dy``, ``dh_n``
(``dc_n``), the outputs ``out``, ``h_n`` (``c_n``) in PyTorch's layout
``(num_layers * num_directions, B, H)``, the gradients ``grad_x``, ``grad_h0``
(``grad_c0``) and ``grad_<weight name>``, and the strings ``cell``,
``nonlinearity``, ``layout``, ``torch_version``; plus the integers
``num_layers`` and ``bidirectional``. Time-major, float64.
``tests/test_reference_torch_multi.py`` reads them with NumPy only.
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent / "multi"
T, B, D, H = 6, 3, 4, 5
LENGTHS = [4, 6, 1]        # unsorted on purpose: enforce_sorted=False
CELLS = {  # name: (constructor, nonlinearity, number of gate blocks)
    "rnn_tanh": (torch.nn.RNN, "tanh", 1),
    "rnn_relu": (torch.nn.RNN, "relu", 1),
    "lstm": (torch.nn.LSTM, None, 4),
    "gru": (torch.nn.GRU, None, 3),
}
LAYOUTS = {  # name: (num_layers, bidirectional, random h0, packed lengths)
    "L2": (2, False, False, False),
    "bi": (1, True, True, False),
    "L2_bi": (2, True, False, False),
    "L2_bi_len": (2, True, False, True),
}


def make_case(name, layout, seed):
    ctor, nonlin, k = CELLS[name]
    L, bi, with_h0, packed = LAYOUTS[layout]
    dirs = 2 if bi else 1
    rng = np.random.default_rng(seed)
    kw = {"nonlinearity": nonlin} if nonlin else {}
    module = ctor(D, H, num_layers=L, bidirectional=bi, batch_first=False, **kw).double()
    weights = {key: 0.5 * rng.standard_normal(tuple(v.shape))
               for key, v in module.state_dict().items()}
    with torch.no_grad():
        for key, value in weights.items():
            getattr(module, key).copy_(torch.from_numpy(value))
    lstm = name == "lstm"
    lengths = np.array(LENGTHS if packed else [T] * B, dtype=np.int64)
    data = {"x": rng.standard_normal((T, B, D))}
    if with_h0:
        data["h0"] = 0.5 * rng.standard_normal((L * dirs, B, H))
        if lstm:
            data["c0"] = 0.5 * rng.standard_normal((L * dirs, B, H))
    upstream = {"dy": rng.standard_normal((T, B, dirs * H)),
                "dh_n": rng.standard_normal((L * dirs, B, H))}
    if lstm:
        upstream["dc_n"] = rng.standard_normal((L * dirs, B, H))

    t = {key: torch.tensor(value, requires_grad=True) for key, value in data.items()}
    inp = t["x"]
    if packed:
        inp = torch.nn.utils.rnn.pack_padded_sequence(inp, torch.from_numpy(lengths),
                                                      enforce_sorted=False)
    state = None
    if with_h0:
        state = (t["h0"], t["c0"]) if lstm else t["h0"]
    out, hc = module(inp, state)
    if packed:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    h_n, c_n = hc if lstm else (hc, None)
    loss = (out * torch.from_numpy(upstream["dy"])).sum() \
        + (h_n * torch.from_numpy(upstream["dh_n"])).sum()
    if lstm:
        loss = loss + (c_n * torch.from_numpy(upstream["dc_n"])).sum()
    loss.backward()

    record = {**data, **weights, **upstream, "lengths": lengths,
              "out": out.detach().numpy(), "h_n": h_n.detach().numpy(),
              "cell": np.array(name), "nonlinearity": np.array(nonlin or ""),
              "layout": np.array(layout), "num_layers": np.array(L),
              "bidirectional": np.array(int(bi)), "torch_version": np.array(torch.__version__)}
    if lstm:
        record["c_n"] = c_n.detach().numpy()
    for key in data:
        record[f"grad_{key}"] = t[key].grad.numpy()
    for key in weights:
        record[f"grad_{key}"] = getattr(module, key).grad.numpy()
    return record


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)        # the committed files were written single-threaded: another
    #                                 thread count changes some last bits (~1e-16), nothing more
    HERE.mkdir(exist_ok=True)
    written = []
    for n, name in enumerate(CELLS):
        for m, layout in enumerate(LAYOUTS):
            record = make_case(name, layout, seed=5000 + 100 * n + m)
            path = HERE / f"torch_{name}_{layout}.npz"
            np.savez_compressed(path, **record)
            written.append(path)
    for path in written:
        print(f"{path.name:32s} {path.stat().st_size:6d} bytes")


if __name__ == "__main__":
    main()
