"""Prometheus metrics of this gateway process, served at GET /metrics by bot/gateway/metrics_view.py.

What an operations team scrapes: turns answered (a counter: turns per second is its rate), how long a
turn took split into Rasa's time and the gateway's own, open sockets, the queue for a person, agents
available, and handoffs, fallbacks and errors by kind. Labels are low-cardinality only: a handoff
reason, an error kind, an outcome; never a customer, conversation or agent.

The counters are this process's: with several gateway processes, Prometheus scrapes each one.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.services.handoff import REASONS

FALLBACK_INTENT = "nlu_fallback"
# Seconds: a turn is promised within 10 s (docs/gateway-protocol.md); Rasa usually answers in 50-300 ms.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ERROR_KINDS = ("timeout", "http", "disconnected", "no_reply", "unexpected_answer", "other")

REGISTRY = CollectorRegistry(auto_describe=True)
TURNS = Counter("varde_turns", "Customer turns the gateway relayed to Rasa, by outcome", ["outcome"], registry=REGISTRY)
RASA_SECONDS = Histogram(
    "varde_turn_rasa_seconds", "Time Rasa took over an answered turn", buckets=LATENCY_BUCKETS, registry=REGISTRY
)
GATEWAY_SECONDS = Histogram(
    "varde_turn_gateway_seconds",
    "The gateway's own time over an answered turn: from the customer's frame to the replies sent, less Rasa's",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
HANDOFFS = Counter("varde_handoffs", "Handoffs to a person, by reason and whether one could join", ["reason", "queued"],
                   registry=REGISTRY)  # fmt: skip
FALLBACKS = Counter("varde_fallbacks", "Customer turns NLU could not place (nlu_fallback)", registry=REGISTRY)
ERRORS = Counter("varde_errors", "Turns the customer was told failed, by kind", ["kind"], registry=REGISTRY)
OPEN_SOCKETS = Gauge("varde_open_sockets", "Widget and console sockets open in this process", registry=REGISTRY)
QUEUE_LENGTH = Gauge("varde_queue_length", "Conversations waiting in the queue for a person", registry=REGISTRY)
AGENTS_AVAILABLE = Gauge("varde_agents_available", "Agents marked available with their console open", registry=REGISTRY)
for _outcome in ("answered", "failed"):  # every series exists from the start, at 0
    TURNS.labels(_outcome)
for _kind in ERROR_KINDS:
    ERRORS.labels(_kind)


# --- called where turns are relayed (bot/web/relay.py) ----------------------------------------
def turn_answered(rasa_seconds: float, gateway_seconds: float, intent: str | None) -> None:
    TURNS.labels("answered").inc()
    RASA_SECONDS.observe(max(0.0, rasa_seconds))
    GATEWAY_SECONDS.observe(max(0.0, gateway_seconds))
    if intent == FALLBACK_INTENT:
        FALLBACKS.inc()


def turn_failed(reason: str) -> None:
    TURNS.labels("failed").inc()
    ERRORS.labels(error_kind(reason)).inc()


def handed_over(reason: object, queued: bool) -> None:
    HANDOFFS.labels(reason if reason in REASONS else "other", "yes" if queued else "no").inc()


def error_kind(reason: str) -> str:
    """RasaUnavailable's reason ("timeout", "http 502", "no reply", "ClientOSError", ...) as one of ERROR_KINDS."""
    if reason.startswith("http "):
        return "http"
    word = reason.strip().lower().replace(" ", "_")
    return word if word in ERROR_KINDS else "other"
