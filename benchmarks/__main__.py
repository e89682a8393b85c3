"""`make bench`: run every benchmarks/bench_*.py and print each figure beside its baseline and target.

`BENCH_QUICK=1` (or `--quick`) runs smaller workloads.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("only", nargs="*", help="module names, e.g. bench_surveys")
    parser.add_argument("--quick", action="store_true", help="smaller workloads (also BENCH_QUICK=1)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n in args.only]
    missed: list[str] = []
    print(f"{'benchmark':<58} {'seconds':>9} {'baseline':>9} {'ratio':>8}  target")
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        for m in module.run(quick=quick):
            print(f"{m.name:<58} {m.seconds:>9.4g} {m.baseline_seconds:>9.4g} {m.ratio:>8.1f}  {m.target}")
            print(f"{'  baseline: ' + m.baseline_name:<58}")
            if m.passed is False:
                missed.append(m.name)
        sys.stdout.flush()
    if missed:
        print(f"\n{len(missed)} target(s) MISSED:")
        for name in missed:
            print(f"  - {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
