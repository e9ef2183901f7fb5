"""``python -m labrnn.bench``: the benchmark suite's command line (``--help`` lists the options)."""

from __future__ import annotations

import argparse
import json
import sys

from .cases import PRESETS
from .check import EquivalenceError
from .runner import BenchError, compare_table, run_suite, select_cases

__all__ = ["main", "parser"]


def parser():
    """The argument parser of ``python -m labrnn.bench``."""
    p = argparse.ArgumentParser(
        prog="python -m labrnn.bench",
        description="Time labrnn's cells and models forward and forward + backward, side by "
                    "side with PyTorch where it is installed, after checking that both compute "
                    "the same outputs and gradients. Writes JSON; --compare prints the ratios "
                    "against the issue's targets.")
    p.add_argument("--preset", default="targets", choices=sorted(PRESETS),
                   help="; ".join(f"{k}: {v[0]}" for k, v in PRESETS.items())
                   + " (default: targets)")
    p.add_argument("--threads", default="1",
                   help="thread counts, comma-separated; 'all' = every usable core (default: 1)")
    p.add_argument("--cells", default=None, help="only these cells, e.g. lstm,gru")
    p.add_argument("--kinds", default=None,
                   help="only these kinds: cell, stacked, bidir, attention, charlm, overhead")
    p.add_argument("--impls", default=None,
                   help="implementations (labrnn always runs): labrnn,torch,numpy (default: all "
                        "available)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="dtype of the timed runs (the equality check is always float64)")
    p.add_argument("--fast-paths", default="auto", choices=["auto", "numpy", "compiled", "off"],
                   help="labrnn's fast paths (labrnn.fast): 'off' times the generic array-API "
                        "loop (default: auto)")
    p.add_argument("--rounds", type=int, default=None, help="override the preset's rounds")
    p.add_argument("--min-round-s", type=float, default=None,
                   help="override the preset's minimum seconds per round")
    p.add_argument("--out", default=None,
                   help="JSON file to write (default: bench-<preset>.json)")
    p.add_argument("--compare", action="store_true",
                   help="print the table of labrnn/reference ratios against the targets")
    p.add_argument("--from", dest="from_json", default=None, metavar="FILE.json",
                   help="do not run: read FILE.json and print its --compare table")
    p.add_argument("--list", action="store_true", help="list the preset's cases and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv=None):
    """Run the command line; returns the exit status (1 when the equality check fails)."""
    args = parser().parse_args(argv)
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as f:
            print(compare_table(json.load(f)))
        return 0
    try:
        if args.list:
            for c in select_cases(args.preset, args.cells, args.kinds):
                print(c.id + ("" if c.target is None else f"   target <= {c.target} x {c.reference}"))
            return 0
        out = args.out or f"bench-{args.preset}.json"
        report = run_suite(args.preset, threads=args.threads, cells=args.cells, kinds=args.kinds,
                           dtype=args.dtype, impls=args.impls, rounds=args.rounds,
                           min_round_s=args.min_round_s, fast_paths=args.fast_paths,
                           progress=False if args.no_progress else None, out=out)
    except EquivalenceError as exc:
        print(f"EQUALITY CHECK FAILED, nothing was timed: {exc}", file=sys.stderr)
        return 1
    except (BenchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: {len(report['results'])} timings, {len(report['checks'])} equality "
          f"checks", file=sys.stderr)
    if args.compare:
        print(compare_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
