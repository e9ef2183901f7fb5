"""What a padded batch costs: the masked forward + backward of every cell against the unmasked one.

Run it (one thread, float32, the defaults of issue 9's target, T = 200)::

    OPENBLAS_NUM_THREADS=1 python -m labrnn.bench.masking --out bench-masking.json

For every registered cell it times, in alternating rounds, the forward and backward
pass (:meth:`labrnn.cells.Cell.forward` / :meth:`~labrnn.cells.Cell.backward`) of

* ``full``: no ``lengths`` (every sequence has all ``T`` steps);
* ``padded``: ``lengths`` spread evenly over ``[T/2, T]`` (a bucketed batch);
* ``worst``: ``lengths`` spread evenly over ``[1, T]``, so that the mask is applied at
  every step (the time loop masks only the steps ``t >= min(lengths)``),

and reports the median seconds per call and the ratio ``masked / full``. The
masked passes do exactly the same arithmetic as the full one plus one
``where`` per state array per masked step, so the ratio measures the cost of the
mask itself. The JSON holds the machine, the library versions and every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from ..cells import CELLS, get_cell
from .machine import library_versions, machine_info
from .timing import calibrate, time_calls

__all__ = ["LAYOUTS", "lengths_for", "measure", "main"]

LAYOUTS = ("full", "padded", "worst")


def lengths_for(layout, T, B):
    """The ``lengths`` of a layout (``None`` for ``"full"``), spread evenly, host int64."""
    if layout == "full":
        return None
    low = max(1, T // 2) if layout == "padded" else 1
    return np.linspace(low, T, B).round().astype(np.int64)


def measure(cell, T=200, B=32, D=64, H=128, rounds=5, min_round_s=0.2, dtype="float32",
            seed=0):
    """Median seconds per forward + backward call of ``cell`` for each layout, and the ratios."""
    c = get_cell(cell)
    rng = np.random.default_rng(seed)
    params = {k: v.astype(dtype) for k, v in c.init(D, H, seed=seed).items()}
    x = rng.normal(size=(T, B, D)).astype(dtype)
    dout = rng.normal(size=(T, B, H)).astype(dtype)
    calls = {}
    for layout in LAYOUTS:
        lengths = lengths_for(layout, T, B)

        def run(lengths=lengths):
            out, _, cache = c.forward(x, params, None, lengths)
            c.backward(dout, cache)

        calls[layout] = run
    n = calibrate(calls["full"], min_round_s)
    times = {layout: [] for layout in LAYOUTS}
    for r in range(rounds):                       # alternate the layouts, reversing each round
        order = LAYOUTS if r % 2 == 0 else LAYOUTS[::-1]
        for layout in order:
            times[layout].extend(time_calls(calls[layout], n))
    med = {layout: statistics.median(t) for layout, t in times.items()}
    return {"cell": cell, "T": T, "B": B, "D": D, "H": H, "dtype": dtype,
            "calls_per_round": n, "rounds": rounds,
            "median_s": med, "min_s": {k: min(t) for k, t in times.items()},
            "ratio_padded": med["padded"] / med["full"],
            "ratio_worst": med["worst"] / med["full"]}


def main(argv=None):
    """Command line: time every cell, write the JSON (``--out``) and print the ratios."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.bench.masking", description=__doc__.split(
        "\n")[0])
    ap.add_argument("--cells", nargs="*", default=list(CELLS))
    ap.add_argument("--T", type=int, default=200)
    ap.add_argument("--B", type=int, default=32)
    ap.add_argument("--D", type=int, default=64)
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-round-s", type=float, default=0.2)
    ap.add_argument("--out", default="bench-masking.json")
    a = ap.parse_args(argv)
    start = time.time()
    results = [measure(cell, a.T, a.B, a.D, a.H, a.rounds, a.min_round_s) for cell in a.cells]
    record = {"benchmark": "masking", "machine": machine_info(), "versions": library_versions(),
              "wall_s": round(time.time() - start, 1), "results": results}
    with open(a.out, "w") as f:
        json.dump(record, f, indent=1)
    print(f"{'cell':8s} {'full ms':>9s} {'padded':>8s} {'worst':>8s}   (masked / full, target <= 1.10)")
    for r in results:
        print(f"{r['cell']:8s} {1e3 * r['median_s']['full']:9.2f} {r['ratio_padded']:8.3f} "
              f"{r['ratio_worst']:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
