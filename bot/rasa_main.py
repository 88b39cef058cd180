"""`python -m bot.rasa_main run ...`: Rasa's own command line, without costs we measured.

- Rasa checks every action server response with `jsonschema.validate`, which first checks the schema
  itself against the JSON Schema meta-schema, on every custom action call: more than half of the Rasa
  server's CPU in a benchmark turn (README, Benchmarks). Here the validator is built, and the schema
  checked, once; each response is validated against the same schema, with the same error and message
  (bot/action_responses.py).
- A long conversation's session is started again at rest (bot/session_rollover.py): Rasa rebuilds the
  whole session's tracker on every turn, so without it a turn's time grows with the conversation.
- Rasa's SQL tracker store reads a conversation's latest session with the session start looked up once
  (bot/tracker_query.py): its one query made PostgreSQL scan the conversation once per event. A turn's
  read is one statement outside a transaction (it was BEGIN, two SELECTs and ROLLBACK, each waited for on
  the server's event loop, as Rasa's stores are synchronous). Its save
  counts the stored events once, not by reading the whole session back for the event broker and counting
  again to store, and stores the new ones in one transaction and one INSERT; it takes that count from
  the read that began the turn (the same module).
- Rasa works out which graph nodes a run needs on every run (each message's parse and each prediction),
  walking the graph's dependencies again for every path to a node: 6.6 % of the Rasa server's CPU in a
  profiled turn (bench/profile.py). The answer depends only on the loaded model's graph and the targets,
  so it is kept per graph (`remembered_minimal_schema`).
- Rasa ran its model graph through dask's scheduler for every parse and prediction, building, ordering
  and queueing a task graph each time: the nodes are called in an order worked out once
  (bot/graph_runner.py).
- Rasa opened a new connection to the action server for every custom action call: now each endpoint
  keeps its connections open between calls (bot/rasa_endpoints.py).
- The event broker deep-copied every event it published, only to log it without its parse data at debug
  level: 4 % of a Rasa server's CPU on the scaled stack (py-spy). A shallow copy logs the same
  (`event_without_parse_data`).
- The session context (who the customer is, which language to answer in) is a custom slot mapping that
  Rasa ran on the action server after every message, serialising the session's tracker for it: now it
  runs here, in the Rasa server (bot/session_context.py).
- Rasa finds an event's class by walking every subclass of Event (inspect.isabstract on each) for every
  event it reads from the tracker store or an action server: 28 of the 29 us each event takes to read.
  The class of each type name is remembered (`remembered_event_types`).
- Rasa's dialogue modules deep-copy what they pass to debug log lines (the states every policy reads, every
  action's events) before the logger decides to drop it: 4 % of a profiled Rasa server's samples. Those
  modules get a `copy` whose deepcopy passes the value itself unless debug lines are written
  (`CopyForDebugLogs`).
- Rasa's Redis lock store took seven blocking commands per message, and two servers could be handed the
  same ticket: issuing and cleaning up are one atomic script each (bot/lock_store.py).
- skops.io is imported before Rasa: on import it looks up each of its trusted type names in every
  loaded module, which takes seconds once TensorFlow is loaded (bot/training/rasa_runner.py does the
  same for training).

Rasa 3.6.21 is the last open-source Rasa, so the methods replaced here can't change under us; a test
(tests/unit/test_rasa_main.py) still compares Rasa's methods with the ones they were written against.
"""

from __future__ import annotations

import copy
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import skops.io  # noqa: F401  (before Rasa and TensorFlow, see above)

log = logging.getLogger("bot.session_rollover")  # by name: run as `python -m`, __name__ is "__main__"


def session_expiry_with_rollover(max_turns: int) -> Callable[[Any, Any], bool]:
    """MessageProcessor._has_session_expired that also ends a session of `max_turns` messages at rest."""
    from rasa.core.processor import MessageProcessor

    from bot.session_rollover import should_start_new_session

    current = MessageProcessor._has_session_expired
    expired_by_time = getattr(current, "__wrapped__", current)  # Rasa's own, if installed twice

    def has_session_expired(self: Any, tracker: Any) -> bool:
        if expired_by_time(self, tracker):
            return True
        if not self.domain.session_config.are_sessions_enabled():
            return False
        if should_start_new_session(tracker, max_turns):
            log.info("conversation %s: a new session after %d messages", tracker.sender_id, max_turns)
            return True
        return False

    has_session_expired.__wrapped__ = expired_by_time  # type: ignore[attr-defined]
    return has_session_expired


def session_start_keeping_the_form() -> Callable[..., Any]:
    """ActionSessionStart.run that carries each slot's value once, and a form in progress into a session
    started for its length."""
    from rasa.core.actions.action import ActionSessionStart

    from bot.session_rollover import keep_the_form, last_value_per_slot

    current = ActionSessionStart.run
    rasas_run = getattr(current, "__wrapped__", current)

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        events = last_value_per_slot(await rasas_run(self, output_channel, nlg, tracker, domain))
        return keep_the_form(events, tracker, domain.session_config.session_expiration_time)

    run.__wrapped__ = rasas_run  # type: ignore[attr-defined]
    return run


def remembered_minimal_schema() -> Callable[..., Any]:
    """GraphSchema.minimal_graph_schema, remembered per schema and targets.

    A served model's graph does not change after loading; a new model comes with new schema objects.
    """
    from rasa.engine.graph import GraphSchema

    current = GraphSchema.minimal_graph_schema
    rasas = getattr(current, "__wrapped__", current)

    def minimal_graph_schema(self: Any, targets: list[str] | None = None) -> Any:
        remembered: dict[tuple[str, ...] | None, Any] = self.__dict__.setdefault("_bot_minimal_schemas", {})
        key = tuple(targets) if targets else None
        if key not in remembered:
            remembered[key] = rasas(self, targets)
        return remembered[key]

    minimal_graph_schema.__wrapped__ = rasas  # type: ignore[attr-defined]
    return minimal_graph_schema


def event_without_parse_data(event: dict[str, Any]) -> dict[str, Any]:
    """rasa.shared.core.events.remove_parse_data without the deep copy. Its callers, the event brokers,
    only log the result, so a shallow copy without "parse_data" says the same and changes nothing shared."""
    return {key: value for key, value in event.items() if key != "parse_data"}


def session_context_in_process() -> Callable[..., Any]:
    """ActionExtractSlots._run_custom_action that runs action_session_context here (bot/session_context.py);
    every other custom mapping's action still goes to the action server."""
    from rasa.core.actions.action import ActionExtractSlots

    from bot.session_context import SESSION_CONTEXT_ACTION, session_context_events

    current = ActionExtractSlots._run_custom_action
    rasas = getattr(current, "__wrapped__", current)

    async def run_custom_action(
        self: Any, custom_action: str, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        if custom_action == SESSION_CONTEXT_ACTION:
            return await session_context_events(tracker)
        return await rasas(self, custom_action, output_channel, nlg, tracker, domain)

    run_custom_action.__wrapped__ = rasas  # type: ignore[attr-defined]
    return run_custom_action


def remembered_event_types() -> Callable[..., Any]:
    """Event.resolve_by_type that remembers the class found for each type name. Event classes don't change
    once imported; a name Rasa does not find (an unknown one, old "topic") is never remembered."""
    from rasa.shared.core.events import Event

    current = Event.resolve_by_type
    rasas = getattr(current, "__wrapped__", current)
    known: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = known.get(type_name)
        if found is None:
            found = rasas(type_name, default)
            if found is None or getattr(found, "type_name", None) != type_name:
                return found  # None, or the caller's default: asked of Rasa again next time
            known[type_name] = found
        return found

    resolve_by_type.__wrapped__ = rasas  # type: ignore[attr-defined]
    return resolve_by_type


# Rasa's modules whose every copy.deepcopy is an argument of a debug log line (a test reads their source).
LOG_ONLY_DEEPCOPIES = (
    "rasa.core.processor",
    "rasa.core.policies.rule_policy",
    "rasa.core.policies.memoization",
    "rasa.core.actions.forms",
)


def debug_lines_written() -> bool:
    """Whether Rasa's structlog loggers write debug lines (rasa.utils.log_utils.configure_structlog)."""
    import structlog

    return getattr(structlog.get_config()["wrapper_class"].debug, "__name__", "") != "_nop"


class CopyForDebugLogs:
    """The `copy` module for LOG_ONLY_DEEPCOPIES: a debug line's copy is made only if the line is written."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return copy.deepcopy(value, memo) if debug_lines_written() else value


def closing_kept_sessions() -> Callable[[Any, Any], Any]:
    """rasa.core.run.close_resources (the server's after_server_stop listener) that also closes the action
    endpoint's kept sessions (bot/rasa_endpoints.py), so none is left open when the process ends."""
    import rasa.core.run

    from bot.rasa_endpoints import close_sessions

    current = rasa.core.run.close_resources
    rasas = getattr(current, "__wrapped__", current)

    async def close_resources(app: Any, loop: Any) -> None:
        try:
            await rasas(app, loop)
        finally:
            await close_sessions()

    close_resources.__wrapped__ = rasas  # type: ignore[attr-defined]
    return close_resources


def engine_kwargs_hiding_values() -> Callable[[Any], dict[str, Any]]:
    """rasa.core.tracker_store.create_engine_kwargs, and errors of the tracker store's statements that never
    carry their values (customers' words: bot/store/db.py)."""
    import rasa.core.tracker_store

    from bot.store.db import NO_VALUES_IN_ERRORS

    current = rasa.core.tracker_store.create_engine_kwargs
    rasas = getattr(current, "__wrapped__", current)

    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        return {**rasas(url), **NO_VALUES_IN_ERRORS}

    create_engine_kwargs.__wrapped__ = rasas  # type: ignore[attr-defined]
    return create_engine_kwargs


def install() -> None:
    import rasa.core.run
    import rasa.core.tracker_store
    from rasa.core.actions.action import ActionExtractSlots, ActionSessionStart, RemoteAction
    from rasa.core.lock_store import RedisLockStore
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphSchema
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core import events
    from rasa.utils.endpoints import EndpointConfig

    from bot import lock_store
    from bot.action_responses import validate_action_result
    from bot.graph_runner import run_in_order
    from bot.rasa_endpoints import kept_session
    from bot.settings import get_settings
    from bot.tracker_query import latest_session_events, retrieve_latest_session, save_new_events

    RemoteAction._validate_action_result = validate_action_result
    MessageProcessor._has_session_expired = session_expiry_with_rollover(get_settings().session_max_turns)
    ActionSessionStart.run = session_start_keeping_the_form()
    ActionExtractSlots._run_custom_action = session_context_in_process()
    SQLTrackerStore._event_query = latest_session_events
    SQLTrackerStore.save = save_new_events
    SQLTrackerStore._retrieve = retrieve_latest_session
    RedisLockStore.issue_ticket = lock_store.issue_ticket
    RedisLockStore.cleanup = lock_store.cleanup
    GraphSchema.minimal_graph_schema = remembered_minimal_schema()
    DaskGraphRunner.run = run_in_order
    EndpointConfig.session = kept_session
    events.remove_parse_data = event_without_parse_data
    events.Event.resolve_by_type = staticmethod(remembered_event_types())
    rasa.core.run.close_resources = closing_kept_sessions()
    rasa.core.tracker_store.create_engine_kwargs = engine_kwargs_hiding_values()
    for name in LOG_ONLY_DEEPCOPIES:
        importlib.import_module(name).copy = CopyForDebugLogs()  # type: ignore[attr-defined]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
