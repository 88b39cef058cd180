"""Issue 16, attack test: an NLU line a trainer taught from a customer's message records where it came from,
and erasing that customer (`python -m bot privacy erase`) takes the line out of data/nlu and tells the
operator which models still know it. On a private copy of the training files (BOT_TRAINING_ROOT), never
the repository's data/nlu.

Before: teaching recorded only the inbox decision, which erasure deleted with the messages, and the line
stayed in data/nlu and in every model trained after it.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.settings import PROJECT_ROOT
from bot.store.conversations import Conversation, Message
from bot.store.db import create_schema, session_scope
from bot.store.model_records import LIVE, ModelRecord
from bot.store.models import utcnow
from bot.store.taught import TaughtExample
from bot.training.nlu_files import load_examples
from bot.training.teaching import assign
from bot.training.workspace import TRAINING_FILES, Workspace
from tests.support import run_bot

KARI, OLA = "C-1001", "C-1002"
# Words no data/nlu file has: each test's own, so a rerun in the same database finds nothing of the last one.
SAID = "kor e den dingsedulten eg bestilte {n}"


@pytest.fixture
def workspace(shop: str, tmp_path: Path) -> Workspace:
    """The training files copied to tmp_path, with this run's database."""
    for name in TRAINING_FILES:
        source, target = PROJECT_ROOT / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    create_schema(shop)
    return Workspace(
        root=tmp_path, models_dir=tmp_path / "models", database_url=shop, rasa_urls=("http://127.0.0.1:9",)
    )


def misunderstood(conversation_id: str, customer_id: str | None, text: str) -> int:
    """A conversation whose one customer message NLU did not understand; the message's id."""
    with session_scope() as session:
        session.add(Conversation(id=conversation_id, customer_id=customer_id, language="nb", state="bot", last_seq=1))
        message = Message(
            conversation_id=conversation_id, seq=1, role="customer", text=text, language="nb",
            intent="nlu_fallback", confidence=0.2, created_at=utcnow() - timedelta(minutes=5),
        )  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def lines_of(workspace: Workspace, intent: str) -> list[str]:
    path = workspace.nlu_dir / "nb" / "orders.yml"
    return [text for found, text in load_examples(path) if found == intent]


def privacy(workspace: Workspace, *args: str):  # type: ignore[no-untyped-def]
    return run_bot("privacy", *args, BOT_TRAINING_ROOT=str(workspace.root))


def test_a_taught_line_records_every_message_behind_it(workspace: Workspace, tmp_path: Path) -> None:
    said = SAID.format(n=tmp_path.name[-6:])
    kari = misunderstood(f"kari-{tmp_path.name}", KARI, said)
    guest = misunderstood(f"guest-{tmp_path.name}", None, said.capitalize() + "!")  # the same, grouped with it
    group, added = assign(guest, "order_status", "trainer.tor", workspace)
    assert added is not None and group.count == 2
    with session_scope() as session:
        rows = session.scalars(select(TaughtExample).where(TaughtExample.example == added.text)).all()
        sources = {(row.message_id, row.conversation_id, row.customer_id) for row in rows}
        assert {row.example_file for row in rows} == {"data/nlu/nb/orders.yml"}
        assert {row.taught_by for row in rows} == {"trainer.tor"}
    assert sources == {(kari, f"kari-{tmp_path.name}", KARI), (guest, f"guest-{tmp_path.name}", None)}


def test_erasing_a_customer_removes_the_line_taught_from_her_message(workspace: Workspace, tmp_path: Path) -> None:
    said = SAID.format(n=tmp_path.name[-6:])
    conversation_id = f"kari-{tmp_path.name}"
    message_id = misunderstood(conversation_id, KARI, said)
    _, added = assign(message_id, "order_status", "trainer.tor", workspace)
    assert added is not None and added.text in lines_of(workspace, "order_status")
    untouched = (workspace.nlu_dir / "nb" / "orders.yml").read_text(encoding="utf-8")
    with session_scope() as session:  # a live model trained after the line was taught
        session.execute(ModelRecord.__table__.update().where(ModelRecord.status == LIVE).values(status="retired"))
        live = ModelRecord(name="m.tar.gz", path="/nowhere/m.tar.gz", trained_by="trainer.tor", status=LIVE)
        session.add(live)
        session.flush()
        live_id = live.id

    erased = privacy(workspace, "erase", "--conversation", conversation_id)
    assert erased.returncode == 0, erased.stderr
    assert added.text not in lines_of(workspace, "order_status")
    # Only that one line went: every other byte of the file is as it was.
    assert untouched.replace(f"    - {added.text}\n", "") == (workspace.nlu_dir / "nb" / "orders.yml").read_text(
        encoding="utf-8"
    )
    assert "removed 1 line(s) from data/nlu/nb/orders.yml" in erased.stdout
    assert f"the live model ({live_id})" in erased.stdout and "python -m bot train" in erased.stdout
    with session_scope() as session:
        assert "since erased at a customer's request" in session.get(ModelRecord, live_id).notes
        left = session.scalar(select(func.count()).where(TaughtExample.conversation_id == conversation_id))
        assert left == 0
        session.get(ModelRecord, live_id).status = "retired"


def test_erasing_one_source_removes_a_line_shared_with_another_conversation(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The line is the erased customer's words too, even when another customer said the same."""
    said = SAID.format(n=tmp_path.name[-6:])
    misunderstood(f"ola-{tmp_path.name}", OLA, said)
    newest = misunderstood(f"kari-{tmp_path.name}", KARI, said)
    _, added = assign(newest, "order_status", "trainer.tor", workspace)
    assert added is not None
    erased = privacy(workspace, "erase", "--customer", OLA)
    assert erased.returncode == 0, erased.stderr
    assert added.text not in lines_of(workspace, "order_status")
    with session_scope() as session:  # the line is gone, so is every record of it
        assert session.scalar(select(func.count()).where(TaughtExample.example == added.text)) == 0


def test_the_time_limit_keeps_the_masked_line_and_forgets_its_source(workspace: Workspace, tmp_path: Path) -> None:
    said = SAID.format(n=tmp_path.name[-6:])
    conversation_id = f"old-{tmp_path.name}"
    _, added = assign(misunderstood(conversation_id, None, said), "order_status", "trainer.tor", workspace)
    assert added is not None
    with session_scope() as session:
        session.get(Conversation, conversation_id).updated_at = utcnow() - timedelta(days=400)
    purged = privacy(workspace, "purge", "--days", "365")
    assert purged.returncode == 0, purged.stderr
    assert added.text in lines_of(workspace, "order_status")
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(TaughtExample.conversation_id == conversation_id)) == 0


def test_an_erasure_with_nothing_taught_says_so(workspace: Workspace, tmp_path: Path) -> None:
    conversation_id = f"plain-{tmp_path.name}"
    misunderstood(conversation_id, None, "hei")
    erased = privacy(workspace, "erase", "--conversation", conversation_id)
    assert erased.returncode == 0, erased.stderr
    assert "taught NLU examples: none came from these conversations" in erased.stdout
