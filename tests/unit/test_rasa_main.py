"""Our Rasa launcher validates action server responses exactly as Rasa does, only without re-checking the
schema each time (what that saves is in README, Benchmarks); and Rasa's method is still the one it replaces."""

from __future__ import annotations

import copy
import hashlib
import inspect

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.action_responses import action_response_validator, quickly_valid, validate_action_result

# sha256 of RemoteAction._validate_action_result in Rasa 3.6.21, the method bot/rasa_main.py replaces.
RASA_METHOD_SHA256 = "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42"
# sha256 of SQLTrackerStore._event_query in Rasa 3.6.21, replaced by bot/tracker_query.py.
RASA_EVENT_QUERY_SHA256 = "cd44f7901b860bfd598a813bde17d0d5b0d7bab129feaf76bb2dca87d628625b"
RASA_MINIMAL_SCHEMA_SHA256 = "ec19ee7b976094316f21228f86e0a7a6a121e568dd41c8fc7a48a023cb3915ce"
# SQLTrackerStore.save, _additional_events and stream_events, replaced by bot/tracker_query.py's save.
RASA_SAVE_SHA256 = "42a63735d6e081a50b9e55e6c3a2117c726bee295e715b74a621e2f69463549d"
# SQLTrackerStore._retrieve, replaced by bot/tracker_query.py's retrieve_latest_session.
RASA_RETRIEVE_SHA256 = "c8adbf6f4b61ddd1124690944ebdf2ebc82d0723bd07c6704caab0b80120a0ef"
# ActionExtractSlots._run_custom_action: action_session_context runs in the Rasa server (bot/session_context.py).
# Event.resolve_by_type, remembered per type name by bot/rasa_main.py.
RASA_RESOLVE_BY_TYPE_SHA256 = "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968"
RASA_RUN_CUSTOM_ACTION_SHA256 = "a20d71ee74b1cd5c0eb2c8853b3433085b144828fcc0c92c850dded44f1cd1e4"

VALID = {
    "events": [{"event": "slot", "name": "order_id", "value": "10234", "timestamp": None}],
    "responses": [{"text": "Ordre 10234 er på vei.", "buttons": [{"title": "Ja", "payload": "/affirm"}]}],
}
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": 42}], "responses": []},
    {"events": [], "responses": "nope"},
    {"events": [{"event": "slot", "name": 5}], "responses": []},
]


def rasas_own(result: dict) -> bool:
    action = RemoteAction.__new__(RemoteAction)
    return RemoteAction._validate_action_result(action, result)


def test_rasas_method_is_the_one_the_launcher_replaces() -> None:
    source = inspect.getsource(RemoteAction._validate_action_result)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == RASA_METHOD_SHA256, "Rasa's RemoteAction._validate_action_result changed: check bot/rasa_main.py"


def test_rasas_event_query_is_the_one_bot_tracker_query_replaces() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    digest = hashlib.sha256(inspect.getsource(SQLTrackerStore._event_query).encode()).hexdigest()
    assert digest == RASA_EVENT_QUERY_SHA256, "Rasa's SQLTrackerStore._event_query changed: check bot/tracker_query.py"


def test_a_valid_response_passes_both() -> None:
    assert rasas_own(VALID) is True
    assert validate_action_result(None, VALID) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_response_fails_both_with_the_same_error(response: dict) -> None:
    with pytest.raises(jsonschema.ValidationError) as theirs:
        rasas_own(response)
    with pytest.raises(jsonschema.ValidationError) as ours:
        validate_action_result(None, response)
    assert ours.value.message == theirs.value.message
    assert list(ours.value.absolute_path) == list(theirs.value.absolute_path)
    assert "Failed to validate Action server response from API" in ours.value.message


def test_the_remembered_minimal_schema_is_rasas_for_every_target_of_our_graph() -> None:
    from rasa.engine.graph import GraphSchema
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.utils.io import read_config_file

    from bot.rasa_main import remembered_minimal_schema
    from bot.settings import PROJECT_ROOT

    config = read_config_file(PROJECT_ROOT / "config.yml")
    schema = Recipe.recipe_for_name(config.get("recipe")).graph_config_for_recipe(config, {}).predict_schema
    remembered = remembered_minimal_schema()
    targets_tried = [*[[name] for name in schema.nodes], ["run_RegexMessageHandler", "select_prediction"]]
    for targets in targets_tried:
        assert remembered(schema, targets) == GraphSchema.minimal_graph_schema(schema, targets), targets
        assert remembered(schema, targets) is remembered(schema, targets)  # worked out once
    # Another graph (a new model) gets its own answer, not the first graph's.
    other = GraphSchema({name: node for name, node in schema.nodes.items() if name != "run_TEDPolicy2"})
    assert remembered(other, ["select_prediction"]) == GraphSchema.minimal_graph_schema(other, ["select_prediction"])
    assert "run_TEDPolicy2" in remembered(schema, ["select_prediction"]).nodes
    assert "run_TEDPolicy2" not in remembered(other, ["select_prediction"]).nodes


def test_rasas_minimal_graph_schema_is_the_one_the_launcher_remembers() -> None:
    from rasa.engine.graph import GraphSchema

    methods = (GraphSchema.minimal_graph_schema, GraphSchema._all_dependencies_schema)
    digest = hashlib.sha256("".join(inspect.getsource(method) for method in methods).encode()).hexdigest()
    assert digest == RASA_MINIMAL_SCHEMA_SHA256, "Rasa's minimal_graph_schema changed: check bot/rasa_main.py"


def test_rasas_save_is_the_one_bot_tracker_query_replaces() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    methods = (SQLTrackerStore.save, SQLTrackerStore._additional_events, SQLTrackerStore.stream_events)
    digest = hashlib.sha256("".join(inspect.getsource(method) for method in methods).encode()).hexdigest()
    assert digest == RASA_SAVE_SHA256, "Rasa's SQLTrackerStore.save changed: check bot/tracker_query.py"


def test_rasas_retrieve_is_the_one_bot_tracker_query_replaces() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    digest = hashlib.sha256(inspect.getsource(SQLTrackerStore._retrieve).encode()).hexdigest()
    assert digest == RASA_RETRIEVE_SHA256, "Rasa's SQLTrackerStore._retrieve changed: check bot/tracker_query.py"


def test_rasas_run_custom_action_is_the_one_the_launcher_wraps() -> None:
    from rasa.core.actions.action import ActionExtractSlots

    digest = hashlib.sha256(inspect.getsource(ActionExtractSlots._run_custom_action).encode()).hexdigest()
    assert digest == RASA_RUN_CUSTOM_ACTION_SHA256, "Rasa's _run_custom_action changed: check bot/rasa_main.py"


async def test_the_session_context_runs_in_rasa_and_other_custom_mappings_go_to_the_action_server() -> None:
    """Rasa's own method, for any other action, calls the action server; ours answers the session context."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_main import session_context_in_process

    tracker = DialogueStateTracker.from_events("conv-1", [UserUttered("Where is my order, please?")])
    calls: list[str] = []

    async def rasas(self: object, custom_action: str, *args: object) -> list[object]:
        calls.append(custom_action)
        return []

    original = ActionExtractSlots._run_custom_action
    ActionExtractSlots._run_custom_action = rasas  # type: ignore[method-assign]
    try:
        run = session_context_in_process()
    finally:
        ActionExtractSlots._run_custom_action = original  # type: ignore[method-assign]
    action = ActionExtractSlots(None)
    events = await run(action, "action_session_context", None, None, tracker, Domain.empty())
    assert events == [SlotSet("language", "en")] and calls == []
    assert await run(action, "action_other_mapping", None, None, tracker, Domain.empty()) == []
    assert calls == ["action_other_mapping"]


def test_rasas_resolve_by_type_is_the_one_the_launcher_remembers() -> None:
    from rasa.shared.core.events import Event

    digest = hashlib.sha256(inspect.getsource(Event.resolve_by_type).encode()).hexdigest()
    assert digest == RASA_RESOLVE_BY_TYPE_SHA256, "Rasa's Event.resolve_by_type changed: check bot/rasa_main.py"


def test_remembered_event_types_give_rasas_class_for_every_name() -> None:
    from rasa.shared.core.events import Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    from bot.rasa_main import remembered_event_types

    resolve = remembered_event_types()
    for _ in range(2):  # found, then remembered
        for cls in all_subclasses(Event):
            assert resolve(cls.type_name) is Event.resolve_by_type(cls.type_name), cls.type_name
    assert resolve("topic") is None
    assert resolve("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        resolve("no-such-event")


def test_rasas_deepcopies_in_those_modules_only_feed_debug_lines() -> None:
    """Every copy.deepcopy (and every use of `copy`) in LOG_ONLY_DEEPCOPIES is an argument of a
    structlogger.debug call, so passing the value itself changes nothing but what a debug line shows."""
    import ast
    import importlib

    from bot.rasa_main import LOG_ONLY_DEEPCOPIES

    for name in LOG_ONLY_DEEPCOPIES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        inside_debug: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "structlogger.debug":
                inside_debug |= {id(child) for child in ast.walk(node)}
        uses = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and ast.unparse(n.value) == "copy"]
        assert uses, name
        for use in uses:
            assert use.attr == "deepcopy" and id(use) in inside_debug, f"{name}:{use.lineno} copies for more than a log"


def test_the_copy_is_made_only_when_debug_lines_are_written() -> None:
    import logging

    import structlog

    from bot.rasa_main import CopyForDebugLogs

    states = [{"user": {"intent": "greet"}}]
    before = structlog.get_config()["wrapper_class"]
    try:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
        assert CopyForDebugLogs().deepcopy(states) is states
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
        copied = CopyForDebugLogs().deepcopy(states)
        assert copied == states and copied is not states and copied[0] is not states[0]
    finally:
        structlog.configure(wrapper_class=before)
    assert CopyForDebugLogs().copy is copy.copy  # the rest of the module is the module's


def rasas_events() -> list[dict]:
    """One event of each kind an action server may send back, as Rasa writes them."""
    from rasa.shared.core import events as e

    order = {"entity": "order_id", "value": "10234", "start": 0, "end": 5}
    made = [
        e.UserUttered("hvor er pakken", {"name": "order_status", "confidence": 0.9}, [order]),
        e.BotUttered("Den er på vei", {"buttons": [{"title": "Ja", "payload": "/affirm"}]}),
        e.SlotSet("order_id", "10234"),
        e.SlotSet("points", 1250),
        e.SlotSet("nothing", None),
        e.ActionExecuted("action_order_status"),
        e.ActiveLoop("return_form"),
        e.ActiveLoop(None),
        e.FollowupAction("action_listen"),
        e.AllSlotsReset(),
        e.Restarted(),
        e.SessionStarted(),
        e.UserUtteranceReverted(),
        e.ActionReverted(),
        e.ConversationPaused(),
        e.ConversationResumed(),
        e.ActionExecutionRejected("action_x"),
        e.LoopInterrupted(True),
        e.EntitiesAdded([{"entity": "e", "value": 1}]),
        e.ReminderCancelled("r"),
        e.AgentUttered("hei"),
        e.StoryExported("s.md"),
    ]
    return [event.as_dict() for event in made]


def test_each_kind_of_event_takes_the_shortcut_and_the_whole_schema_agrees() -> None:
    whole = action_response_validator()
    for event in rasas_events():
        response = {"events": [event], "responses": [{"text": "ok"}]}
        assert whole.is_valid(response), event
        assert quickly_valid(response), event  # checked against its own event schema only
        assert validate_action_result(None, response) is True
    assert quickly_valid({"events": rasas_events(), "responses": []})
    assert quickly_valid({}) and whole.is_valid({})


@pytest.mark.parametrize(
    "response",
    [
        *INVALID,
        {"events": [{"event": "nope"}]},
        {"events": [{"event": "user", "text": 5}]},
        {"events": [{"event": "action", "name": 5}]},
        {"events": [{"event": "slot", "name": "a", "value": 1}, {"event": "action", "name": 5}]},  # the second
        {"events": [{"name": "a"}]},
        {"events": ["slot"]},
        {"events": [{"event": "slot", "name": "a", "timestamp": "now"}]},
    ],
)
def test_a_response_the_shortcut_refuses_gets_rasas_verdict(response: dict) -> None:
    assert not quickly_valid(response)
    assert action_response_validator().is_valid(response) is False
    with pytest.raises(jsonschema.ValidationError) as theirs:
        rasas_own(response)
    with pytest.raises(jsonschema.ValidationError) as ours:
        validate_action_result(None, response)
    assert ours.value.message == theirs.value.message
