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
    scaled = parser.add_argument_group(
        "the scaled stack (bot/scale/: HAProxy, N gateways, Rasa servers, action servers)"
    )
    scaled.add_argument(
        "--scale", action="store_true", help="answered msg/s with 1, 2 (and 4) Rasa servers side by side"
    )
    scaled.add_argument("--rasa-levels", default="1,2", help="--scale: Rasa servers per level (default 1,2; 1,2,4)")
    scaled.add_argument(
        "--own-core", action="store_true", help="one Rasa server with the cores shared and with a core of its own"
    )
    scaled.add_argument("--chaos", action="store_true", help="kill a Rasa, an action server, a gateway, restart Redis")
    scaled.add_argument("--length", action="store_true", help="latency vs conversation length, and with new sessions")
    scaled.add_argument("--short", action="store_true", help="--scale/--chaos: the short form (CI), a minute or two")
    scaled.add_argument("--seed", type=int, default=None, help="--chaos: the moments and parts killed")


def run_scaled(args: argparse.Namespace) -> int:
    from bench import scale_report
    from bench.run import Progress

    progress = Progress()
    if args.scale:
        from bench.scaled import throughput

        levels = tuple(int(level) for level in args.rasa_levels.split(","))
        results = throughput(args.short, levels, progress)
        out = scale_report.write(
            results, "scale-short" if args.short else "scale", scale_report.throughput_table(results)
        )
        print("\n" + scale_report.throughput_table(results) + f"\n\nfigures: {out}", flush=True)
    if args.length:
        from bench.scaled import conversation_length

        results = conversation_length(args.short, progress)
        out = scale_report.write(
            results, "length-short" if args.short else "length", scale_report.length_table(results)
        )
        print("\n" + scale_report.length_table(results) + f"\n\nfigures: {out}", flush=True)
    if args.own_core:
        from bench.own_core import measure

        results = measure(args.short, progress)
        out = scale_report.write(results, "own-core", scale_report.own_core_table(results))
        print("\n" + scale_report.own_core_table(results) + f"\n\nfigures: {out}", flush=True)
    if args.chaos:
        from bench.chaos import chaos, clean

        results = chaos(args.short, progress, args.seed)
        out = scale_report.write(results, "chaos-short" if args.short else "chaos", scale_report.chaos_table(results))
        print("\n" + scale_report.chaos_table(results) + f"\n\nfigures: {out}", flush=True)
        if not clean(results["chaos"]):
            print("MESSAGES WERE LOST, DUPLICATED, OUT OF ORDER, FOREIGN OR UNANSWERED (see above)", file=sys.stderr)
            return 1
    return 0


def run(args: argparse.Namespace) -> int:
    if args.insights:
        from bench.insights import run_insights, table
        from bench.run import Progress

        results = run_insights(args.conversations, args.regenerate, Progress())
        print("\n" + table(results), flush=True)
        return 0
    if args.scale or args.chaos or args.length or args.own_core:
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
        return run_scaled(args)
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
