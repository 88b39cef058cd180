"""Tables of the scaled runs (bench.scaled, bench.chaos), for README's Scale section and bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write(results: dict[str, Any], name: str, table: str) -> Path:
    """bench/results/<name>.json and .md (the table)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    path.with_suffix(".md").write_text(table + "\n")
    return path


def _machine(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    load = results.get("load_average_at_end")
    return (
        f"{machine.get('cores', '?')} cores; load average at the start {machine.get('load_average_at_start')}, "
        f"at the end {load}; run took {results.get('seconds')} s"
    )


def throughput_table(results: dict[str, Any]) -> str:
    plan = results["plan"]
    lines = [
        f"Answered messages per second, {plan['customers']} closed-loop widget customers through HAProxy, "
        f"{plan['gateways']} gateways, {plan['action_servers']} action servers, {plan['seconds_per_level']:.0f} s "
        f"per level, {plan['rounds']} round(s) taking turns ({_machine(results)}).",
        "",
        "| Rasa servers | answered msg/s | per round | vs one | p50 ms (per round) | p95 ms (per round) |",
        "|---|---|---|---|---|---|",
    ]
    for level, row in results["throughput"].items():
        lines.append(
            f"| {level} | {row['throughput_msg_s']} | {row['rounds_msg_s']} | {row['vs_one']}x | "
            f"{row['p50_ms']} | {row['p95_ms']} |"
        )
    return "\n".join(lines + _cpu_lines(results))


def _cpu_lines(results: dict[str, Any]) -> list[str]:
    """CPU per answered message by part, and the bound it puts on throughput with this many cores."""
    rows = {level: row.get("cpu_ms_per_message") or {} for level, row in results["throughput"].items()}
    if not any(rows.values()):
        return []
    cores = results.get("machine", {}).get("cores") or 1
    parts = [part for part in ("rasa", "gateway", "actions", "postgresql", "haproxy", "redis", "rabbitmq", "customers")
             if any(part in row for row in rows.values())]  # fmt: skip
    lines = [
        "",
        f"CPU per answered message, ms, by part (/proc; mean of the rounds). Bounds on this machine ({cores} cores): "
        f"answered msg/s <= {cores} cores / all parts' CPU per message, and for one Rasa server <= 1 core / "
        "Rasa's CPU per message.",
        "",
        "| Rasa servers | " + " | ".join(parts) + " | all | cores busy | bound msg/s |",
        "|---|" + "---|" * (len(parts) + 3),
    ]
    for level, row in rows.items():
        if not row:
            continue
        bound = cores * 1000 / row["all"] if row.get("all") else 0.0
        if int(level) == 1 and row.get("rasa"):
            bound = min(bound, 1000 / row["rasa"])
        cells = " | ".join(f"{row.get(part, 0.0):.1f}" for part in parts)
        lines.append(f"| {level} | {cells} | {row['all']:.1f} | {100 * row['cores_busy_share']:.0f} % | {bound:.1f} |")
    return lines


def own_core_table(results: dict[str, Any]) -> str:
    """One Rasa server with the cores shared and with a core of its own (bench/own_core.py), round by round."""
    plan = results["plan"]
    lines = [
        f"One Rasa server, {plan['customers']} closed-loop widget customers through HAProxy, {plan['gateways']} "
        f"gateways, {plan['action_servers']} action servers, {plan['seconds_per_level']:.0f} s per measurement, "
        f"{plan['rounds']} round(s) taking turns ({_machine(results)}). Own core: the Rasa server's threads on "
        "core 0, every other process of the stack, PostgreSQL, RabbitMQ and the customers on the others.",
        "",
        "| cores | answered msg/s (per round) | p50 ms (per round) | Rasa CPU ms per message | all parts' CPU ms "
        "per message | Rasa's share of its core |",
        "|---|---|---|---|---|---|",
    ]
    for kind, label in (("shared", "shared"), ("own_core", "a core of its own")):
        runs = results[kind]
        rates = [float(run.get("throughput_msg_s") or 0) for run in runs]
        rasa = [run["cpu_ms_per_message"].get("rasa", 0.0) for run in runs]
        every = [run["cpu_ms_per_message"].get("all", 0.0) for run in runs]
        busy = [rate * ms / 1000 for rate, ms in zip(rates, rasa, strict=True)]
        lines.append(
            f"| {label} | {sum(rates) / len(rates):.1f} {rates} | {[run['latency'].get('p50_ms') for run in runs]} | "
            f"{sum(rasa) / len(rasa):.1f} | {sum(every) / len(every):.1f} | {100 * sum(busy) / len(busy):.0f} % |"
        )
    return "\n".join(lines)


def chaos_table(results: dict[str, Any]) -> str:
    chaos = results["chaos"]
    audit = chaos["transcripts"]
    lines = [
        f"{chaos['customers']} customers for {chaos['seconds']:.0f} s ({chaos['turns']} messages, "
        f"seed {chaos['seed']}; "
        f"{_machine(results)}). p95 before any kill: {chaos['p95_ms_before_any_kill']} ms.",
        "",
        "| killed | at s | back after s | messages sent in the next 30 s | of them 'having trouble' | p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for event in chaos["events"]:
        lines.append(
            f"| {event['part']} | {event['at_s']} | {event['back_after_s']} | {event['turns_next_30_s']} | "
            f"{event['trouble_next_30_s']} | {event['p95_ms_next_30_s']} |"
        )
    lines += [
        "",
        "| sent | answered | 'having trouble' | no answer | lost | duplicated | out of order | "
        "from another conversation |",
        "|---|---|---|---|---|---|---|---|",
        f"| {audit['sent']} | {audit['answered']} | {audit['trouble']} | {audit['unanswered']} | {audit['lost']} | "
        f"{audit['duplicated']} | {audit['out_of_order']} | {audit['foreign']} |",
        "",
        f"Reconnects {chaos['reconnects']}, messages sent again after a reconnect {chaos['resends']}.",
    ]
    if audit["problems"]:
        lines += ["", "Problems:", *(f"- {problem}" for problem in audit["problems"])]
    return "\n".join(lines)


def length_table(results: dict[str, Any]) -> str:
    length = results["length"]
    rows = {
        "one_session": "one session per conversation (`BOT_SESSION_MAX_TURNS=0`)",
        "new_session_at_rest": f"a new session at rest after {length['max_turns']} messages",
    }
    lines = [
        f"Latency vs conversation length, {length['turns']} turns straight to Rasa's REST channel, one stack after "
        f"the other ({_machine(results)}). p50 ms per 20 turns.",
        "",
        "| Rasa | growth ms per 100 turns | sessions | p50 ms per 20 turns |",
        "|---|---|---|---|",
    ]
    for name, label in rows.items():
        row = length[name]
        lines.append(f"| {label} | {row['growth_ms_per_100_turns']} | {row['sessions']} | {row['p50_ms_per_window']} |")
    return "\n".join(lines)
