"""`python -m bot inbox list` and `inbox assign` as an operator runs them, on a copy of the training files."""

from __future__ import annotations

import json
import subprocess
import uuid

from bot.store.conversations import Conversation, Message
from bot.store.db import create_schema, session_scope
from bot.training.workspace import Workspace
from tests.support import run_bot
from tests.training.conftest import git


def bot(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bot("inbox", *args, BOT_TRAINING_ROOT=str(workspace.root))


def fallback_message(text: str, language: str) -> int:
    create_schema()
    conversation_id = uuid.uuid4().hex
    with session_scope() as session:
        session.add(Conversation(id=conversation_id, language=language, state="bot", last_seq=1))
        message = Message(
            conversation_id=conversation_id, seq=1, role="customer", text=text, language=language,
            intent="nlu_fallback", confidence=0.21,
        )  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def test_list_filters_and_assign_writes_one_line(shop: str, data_copy: Workspace) -> None:
    marker = uuid.uuid4().hex[:6]
    text = f"kan dere ringe meg på 912 34 567 om skoene {marker}"
    message_id = fallback_message(text, "nb")

    listed = bot(data_copy, "list", "--language", "nb", "--reason", "fallback", "--json")
    assert listed.returncode == 0, listed.stderr
    [group] = [g for g in json.loads(listed.stdout) if marker in g["text"]]
    assert group["id"] == message_id and group["reasons"] == ["fallback"]
    assert group["text"] == f"kan dere ringe meg på [phone] om skoene {marker}"
    english = bot(data_copy, "list", "--language", "en", "--json")
    assert marker not in english.stdout

    refused = bot(data_copy, "assign", str(message_id), "no_such_intent")
    assert refused.returncode == 1 and "Unknown intent" in refused.stdout
    assert git(data_copy.root, "status", "--porcelain") == ""

    assigned = bot(data_copy, "assign", str(message_id), "request_human", "--by", "tests")
    assert assigned.returncode == 0, assigned.stdout + assigned.stderr
    diff = git(data_copy.root, "diff", "--unified=0")
    changes = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changes == [f"+    - kan dere ringe meg på [phone] om skoene {marker}"]
    assert len(git(data_copy.root, "diff", "--name-only").split()) == 1
    # Decided: gone from the list.
    assert marker not in bot(data_copy, "list", "--json").stdout
