"""The results as tables (plain text for the terminal, Markdown for README) and as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
Table = tuple[str, list[str], list[list[str]]]  # title, header, rows


PATH_COLUMNS = ("stock", "rest", "channel", "gateway")
STACK_PATHS = PATH_COLUMNS[1:]  # the scaling sections measure the stack's own paths


def _ms(summary: dict[str, Any] | None) -> str:
    if not summary or not summary.get("n"):
        return "-"
    return f"{summary['p50_ms']:.0f} / {summary['p95_ms']:.0f} / {summary['p99_ms']:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def _p50(block: dict[str, Any], path: str) -> float | None:
    latency = (block.get(path) or {}).get("latency") or {}
    return latency.get("p50_ms") if latency.get("n") else None


def latency_table(results: dict[str, Any]) -> Table:
    rows = []
    sequential = results.get("sequential") or {}
    if sequential:
        rows.append(
            [
                "sequential, paths interleaved",
                *(_ms((sequential.get(p) or {}).get("latency")) for p in PATH_COLUMNS),
                _ratio(_p50(sequential, "gateway"), _p50(sequential, "stock")),
                _ratio(_p50(sequential, "gateway"), _p50(sequential, "rest")),
            ]
        )
    for customers, level in (results.get("concurrent") or {}).items():
        rows.append(
            [
                f"{customers} customer(s) at once",
                _ms((level.get("stock") or {}).get("latency")),
                _ms((level.get("rest") or {}).get("latency")),
                "",
                _ms((level.get("gateway") or {}).get("latency")),
                _ratio(_p50(level, "gateway"), _p50(level, "stock")),
                _ratio(_p50(level, "gateway"), _p50(level, "rest")),
            ]
        )
    header = [
        "latency per turn, ms p50 / p95 / p99", "Rasa as shipped, REST", "our Rasa, REST", "our channel",
        "gateway (widget)", "gw / shipped p50", "gw / our REST p50",
    ]  # fmt: skip
    return "Latency", header, rows


def throughput_table(results: dict[str, Any]) -> Table:
    rows = []
    for customers, level in (results.get("concurrent") or {}).items():
        stock = (level.get("stock") or {}).get("throughput_msg_s")
        rest = (level.get("rest") or {}).get("throughput_msg_s")
        gateway = (level.get("gateway") or {}).get("throughput_msg_s")
        errors = ((level.get("gateway") or {}).get("delivery") or {}).get("errors", 0)
        rows.append(
            [f"{customers} customer(s)", f"{stock or 0:.1f}", f"{rest or 0:.1f}", f"{gateway or 0:.1f}",
             _ratio(gateway, stock), _ratio(gateway, rest), str(errors)]
        )  # fmt: skip
    header = ["customers", "Rasa as shipped msg/s", "our Rasa REST msg/s", "gateway msg/s", "gw / shipped",
              "gw / our REST", "gateway: 'having trouble' answers"]  # fmt: skip
    return "Throughput (closed loop, no think time; answered turns only)", header, rows


def _growth(slope: float | None) -> str:
    return f"{slope:+.0f} ms" if slope is not None else "- (too few turns)"


def length_table(results: dict[str, Any]) -> Table:
    length = results.get("conversation_length") or {}
    paths = length.get("paths") or {}
    if not paths:
        return "Latency vs conversation length", ["-"], []
    windows = [w["turns"] for w in next(iter(paths.values()))["windows"]]
    shown = sorted({0, len(windows) // 4, len(windows) // 2, 3 * len(windows) // 4, len(windows) - 1})
    header = ["p50 ms of turns", *(windows[i] for i in shown), "growth per 100 turns"]
    rows = [
        [path, *(f"{data['windows'][i]['p50_ms']:.0f}" for i in shown), _growth(data["growth_ms_per_100_turns"])]
        for path, data in paths.items()
    ]
    return "Latency vs conversation length", header, rows


def stored_table(results: dict[str, Any]) -> Table:
    stored = results.get("stored_conversations") or {}
    rows = [
        [f"{point['stored']['tracker_store']:,}".replace(",", " "), *(_ms(point.get(p)) for p in STACK_PATHS)]
        for point in stored.get("points", [])
    ]
    return "Latency vs stored conversations", ["conversations stored", "our Rasa, REST", "our channel", "gateway"], rows


def quality_table(results: dict[str, Any]) -> Table:
    nlu = (results.get("nlu") or {}).get("languages") or {}
    rows = [[lang, str(s["examples"]), f"{s['accuracy']:.3f}", f"{s['macro_f1']:.3f}"] for lang, s in nlu.items()]
    return "NLU on the held-out set", ["language", "examples", "accuracy", "macro-F1"], rows


def training_table(results: dict[str, Any]) -> Table:
    training = results.get("training") or {}
    rows = []
    if (scratch := training.get("from_scratch")) and "seconds" in scratch:
        rows.append(["train from scratch (empty cache)", f"{scratch['seconds']:.0f} s", ""])
    if added := training.get("add_example_to_live"):
        how = f"fine-tuned model {added['finetuned_from']}" if added.get("finetuned_from") else "full training"
        runner = ", runner kept ready" if added.get("runner_kept_ready") else ""
        detail = (
            f"train {added['train_seconds']:.0f} s ({how}{runner}), PUT /model {added['load_seconds']:.0f} s, "
            f"answers {added['first_answer_seconds']:.1f} s later"
        )
        rows.append(["add one NLU example -> answers live", f"{added['total_seconds']:.0f} s", detail])
        if "cache_only_train_seconds" in added:
            cache_only = f"{added['cache_only_train_seconds']:.0f} s"
            rows.append(["one more example, train with Rasa's cache only (no fine-tuning)", cache_only, ""])
    lifecycle = training.get("lifecycle_to_live") or {}
    if "total_seconds" in lifecycle:
        state = "live" if lifecycle["deployed"] else lifecycle["verdict"]  # the verdict says "refused: why"
        runner = "runner kept ready" if lifecycle.get("runner_kept_ready") else "runner started cold"
        detail = f"train {lifecycle['train_seconds']:.0f} s ({runner}), then scored; {state}"
        rows.append(["the trainer's retrain button (lifecycle)", f"{lifecycle['total_seconds']:.0f} s", detail])
    return "Training", ["what", "time", "detail"], rows


def process_table(results: dict[str, Any]) -> Table:
    startup = results.get("startup") or {}
    ready = startup.get("seconds_to_ready") or {}
    memory = results.get("memory") or {}
    first = startup.get("first_turn_ms") or {}
    rows = []
    for part in ("actions", "rasa", "gateway"):
        after = (startup.get("memory_after_start") or {}).get(part, {})
        end = (memory.get("at_end") or memory.get("after_scaling") or {}).get(part, {})
        rows.append(
            [
                part,
                f"{ready.get(part, 0):.1f}",
                f"{after.get('rss_mib', 0):.0f}",
                f"{end.get('rss_mib', 0):.0f}",
                f"{end.get('peak_rss_mib', 0):.0f}",
            ]
        )
    if "all" in ready:
        rows.append(["all healthy (started together)", f"{ready['all']:.1f}", "", "", ""])
    if "stock_seconds_to_ready" in startup:
        end = (memory.get("at_end") or {}).get("stock", {})
        rows.append(["Rasa as shipped (started alone, after)", f"{startup['stock_seconds_to_ready']:.1f}", "",
                     f"{end.get('rss_mib', 0):.0f}", f"{end.get('peak_rss_mib', 0):.0f}"])  # fmt: skip
    if first:
        rows.append(["first turn after start, ms", ", ".join(f"{p} {v}" for p, v in first.items()), "", "", ""])
    header = ["process", "start-up s", "RSS after start MiB", "RSS at end MiB", "peak RSS MiB"]
    return "Start-up and memory", header, rows


def delivery_line(results: dict[str, Any]) -> str:
    d = results.get("delivery") or {}
    verdict = "OK" if d.get("clean") else "FAILED"
    return (
        f"Delivery: {d.get('sent', 0)} customer messages sent, {d.get('lost', 0)} lost, {d.get('duplicated', 0)} "
        f"duplicated, {d.get('out_of_order', 0)} out of order ({d.get('errors', 0)} answered with an error): {verdict}"
    )


def heading(results: dict[str, Any]) -> str:
    m = results.get("machine") or {}
    versions = m.get("versions") or {}
    mode = "quick" if (results.get("plan") or {}).get("quick") else "full"
    samples = [load for _, load in m.get("load_samples") or []]
    during = f" (1-minute load {min(samples):.1f}-{max(samples):.1f} during the run)" if samples else ""
    return (
        f"Varde benchmark ({mode}), {m.get('date')}: {m.get('cpu')}, {m.get('cores')} cores, "
        f"{m.get('memory_gib')} GiB; "
        f"Python {m.get('python')}, Rasa {versions.get('rasa')}, {results.get('database')}; load average "
        f"{m.get('load_average_at_start')} at start, {m.get('load_average_at_end')} at end{during}; "
        f"{results.get('seconds')} s"
    )


TABLES = (latency_table, throughput_table, length_table, stored_table, quality_table, training_table, process_table)


def _text_table(table: Table) -> str:
    title, header, rows = table
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def _markdown_table(table: Table) -> str:
    title, header, rows = table
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text(results: dict[str, Any]) -> str:
    parts = [heading(results), *(_text_table(t(results)) for t in TABLES), delivery_line(results)]
    if results.get("failed_sections"):
        parts.append(f"FAILED SECTIONS: {', '.join(results['failed_sections'])}")
    return "\n\n".join(parts)


def markdown(results: dict[str, Any]) -> str:
    parts = [heading(results), *(_markdown_table(t(results)) for t in TABLES), delivery_line(results)]
    return "\n\n".join(parts)


def write(results: dict[str, Any], out: Path | None = None) -> Path:
    out = out or RESULTS_DIR / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(results) + "\n", encoding="utf-8")
    return out
