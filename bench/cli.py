"""`python -m bot bench [--quick]` (also `python -m bench`): run the benchmark, print the table, write the JSON."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small counts (1-2 minutes): shows that it works")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite",
        help="a temporary SQLite file (as shipped), or a temporary database on the local PostgreSQL",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default bench/results/latest.json)")
    parser.add_argument("--insights", action="store_true", help="the insights dashboard on a big PostgreSQL history")
    parser.add_argument("--conversations", type=int, default=200_000, help="--insights: conversations over 90 days")
    parser.add_argument("--regenerate", action="store_true", help="--insights: generate the history again")


def run(args: argparse.Namespace) -> int:
    if args.insights:
        from bench.insights import run_insights, table
        from bench.run import Progress

        results = run_insights(args.conversations, args.regenerate, Progress())
        print("\n" + table(results), flush=True)
        return 0
    from bench import report
    from bench.run import Bench, Plan

    # A stop (SIGTERM) unwinds like Ctrl-C, so the services and the temporary database go too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    bench = Bench(Plan.for_mode(args.quick), args.database)
    results = bench.run()
    out = report.write(results, args.out)
    print("\n" + report.text(results) + "\n", flush=True)
    print(f"figures: {out} (and {out.with_suffix('.md').name})", flush=True)
    if not bench.delivery.clean:
        print("\n" + "!" * 78, file=sys.stderr)
        print("MESSAGES WERE LOST, DUPLICATED OR OUT OF ORDER:", file=sys.stderr)
        for problem in bench.delivery.problems:
            print(f"  {problem}", file=sys.stderr)
        print("!" * 78, file=sys.stderr)
    if bench.failed_sections:
        print(f"sections that failed: {', '.join(bench.failed_sections)} (see the JSON)", file=sys.stderr)
    return 0 if bench.ok else 1


def main(argv: Sequence[str] | None = None, prog: str = "python -m bench") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
