"""What a trainer does with an inbox group: see the live model's guesses, then teach an intent or ignore it.

Shared by the trainer pages and `python -m bot inbox`. The example written is the masked text (no
personal data ever reaches data/nlu), through nlu_files.add_example: one line, one file. Every message
of the group is recorded as a source of the line (bot/training/unteaching.py), for erasure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings, get_settings
from bot.store.db import session_scope
from bot.training.inbox import IGNORE, InboxGroup, find_group, record_decision
from bot.training.nlu_files import AddedExample, ExampleRejected, add_example
from bot.training.rasa_server import RasaServer, RasaServerError
from bot.training.unteaching import record_sources
from bot.training.workspace import Workspace

log = logging.getLogger("bot.training")


def training_workspace(settings: Settings | None = None) -> Workspace:
    """The project (or BOT_TRAINING_ROOT, a copy of its training files) with this process's database and Rasa.

    The trainer pages and `python -m bot inbox` both use it; BOT_TRAINING_CACHE points Rasa's training
    cache elsewhere (tests share the project's cache while training in a copy)."""
    settings = settings or get_settings()
    root = settings.training_root
    cache = settings.training_cache
    return Workspace(
        root=root,
        models_dir=root / "models" / "candidates",
        database_url=settings.database_url,
        rasa_urls=(settings.rasa_url,),
        jwt_secret=settings.rasa_jwt_secret,
        cache_dir=Path(cache) if cache else None,
    )


@dataclass(frozen=True)
class Suggestion:
    intent: str
    confidence: float


def suggestions(text: str, workspace: Workspace, top: int = 3) -> list[Suggestion]:
    """The live model's top intents for the text (POST /model/parse); empty when Rasa can't be asked."""
    try:
        parsed = RasaServer(workspace.rasa_urls[0], workspace.jwt_secret).parse(text)
    except RasaServerError as error:
        log.warning("inbox: no suggestions, Rasa did not parse: %s", error)
        return []
    ranking = parsed.get("intent_ranking") or []
    found = [
        Suggestion(str(item["name"]), float(item.get("confidence") or 0.0))
        for item in ranking
        if isinstance(item, dict) and item.get("name") and item.get("name") != "nlu_fallback"
    ]
    return found[:top]


def assign(
    message_id: int, decision: str, trainer: str, workspace: Workspace
) -> tuple[InboxGroup, AddedExample | None]:
    """Teach the group of `message_id` an intent (one new example) or ignore it; raises ExampleRejected."""
    with session_scope(workspace.database_url) as session:
        group = find_group(session, message_id)
    if group is None:
        raise ExampleRejected("That message is not in the inbox (any more): someone may have decided it already.")
    added = None if decision == IGNORE else add_example(decision, group.language, group.text, workspace)
    with session_scope(workspace.database_url) as session:
        record_decision(session, group.message_ids, decision, trainer, added.text if added else None)
        if added:  # where the line came from, so that erasing a source's conversation removes it
            record_sources(session, added, workspace.root, group.message_ids, trainer)
    if added:
        log.info(
            "inbox: %s taught %s (%s) with %d message(s): %s line %d",
            trainer, decision, group.language, group.count, added.path.name, added.line_number,
        )  # fmt: skip
    else:
        log.info("inbox: %s ignored %d message(s) like message %d", trainer, group.count, message_id)
    return group, added
