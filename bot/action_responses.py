"""Rasa's check of an action server's response (RemoteAction._validate_action_result), at less cost.

Rasa validates each response with `jsonschema.validate`, which checks the schema itself against the
meta-schema every time: here the validator is built, and the schema checked, once.

The schema says each event is `oneOf` 23 event schemas, each for one `event` name, so jsonschema tries
every event against all 23 (4 % of a profiled Rasa server's samples). An event named "slot" can only
match the one schema for "slot": so each event is first checked against the schema of its own name (and
the rest of the response against the schema without its events). Only a response that fails this goes
through the whole schema, which gives Rasa's own error for it. `_by_event_name` makes sure, from the
schema itself, that the shortcut gives the same answer: each oneOf branch fixes a different `event` name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def action_response_validator() -> Any:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, not per response
    return validator_class(schema)


@lru_cache(maxsize=1)
def _by_event_name() -> tuple[Any, dict[str, Any]] | None:
    """A validator for the response without its events, and one per event name; None when the schema is
    not of the shape that makes the shortcut exact."""
    import json

    validator = action_response_validator()
    schema = validator.schema
    events = schema.get("properties", {}).get("events", {})
    item = events.get("items", {})
    branches = item.get("oneOf")
    if "$ref" in json.dumps(schema) or events.get("type") != "array" or "event" not in item.get("required", []):
        return None
    by_name: dict[str, Any] = {}
    for branch in branches or []:
        name = branch.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_name:
            return None  # a branch that could match events of other names: no shortcut
        by_name[name] = branch
    if not by_name:
        return None
    outer = {key: value for key, value in item.items() if key != "oneOf"}
    without_events = {key: value for key, value in events.items() if key != "items"}
    rest = {**schema, "properties": {**schema["properties"], "events": without_events}}
    make = type(validator)
    return make(rest), {name: make({**outer, "allOf": [branch]}) for name, branch in by_name.items()}


def quickly_valid(result: Any) -> bool:
    """True only if the whole schema accepts `result`; False means: ask the whole schema."""
    shortcut = _by_event_name()
    if shortcut is None:
        return False
    rest, by_name = shortcut
    if not rest.is_valid(result):
        return False
    for event in result.get("events") or ():
        name = event.get("event") if isinstance(event, dict) else None
        validator = by_name.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with a validator built once; the same check, the same error."""
    import jsonschema
    from rasa.shared.constants import DOCS_BASE_URL

    if quickly_valid(result):
        return True
    error = jsonschema.exceptions.best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error
