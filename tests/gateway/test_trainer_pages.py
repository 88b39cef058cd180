"""The trainer inbox against the real gateway and Rasa: a message rated 1 shows masked, and teaching it an
intent in the page adds exactly that example to exactly one YAML file (in a copy of the training files)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.console.trainer_views import TRAINER_KEY
from bot.console.training_job import Trainer
from bot.gateway.app import init_app
from bot.settings import PROJECT_ROOT
from bot.store.conversations import Conversation, Message
from bot.store.db import create_schema, session_scope
from bot.store.feedback import claim_rating_prompt, record_rating
from bot.training.workspace import Workspace
from tests.gateway.conftest import gateway_settings
from tests.gateway.console_client import ConsoleClient
from tests.support import RasaStack
from tests.training.conftest import copy_training_files, git

pytestmark = pytest.mark.server

RAW = "Hei, Kari her. Ring meg på +47 912 34 567 eller kari.nordmann@example.no, sporing 70712345678901234 kom aldri"
MASKED = "Hei, [name] her. Ring meg på [phone] eller [e-mail], sporing [tracking] kom aldri"
_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    copy_training_files(tmp_path)
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "--message", "copy")
    return tmp_path


@pytest_asyncio.fixture(loop_scope="function")
async def gateway_url(warm_stack: RasaStack, data_root: Path) -> AsyncIterator[str]:
    settings = gateway_settings(warm_stack)
    app = init_app(settings)
    # The trainer pages write to the copy; the Rasa server is this run's.
    app[TRAINER_KEY] = Trainer(
        Workspace(
            root=data_root,
            models_dir=data_root / "models" / "candidates",
            database_url=settings.database_url,
            rasa_urls=(warm_stack.rasa_url,),
            jwt_secret=warm_stack.env["BOT_RASA_JWT_SECRET"],
        )
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def rated_conversation(text: str, rating: int) -> int:
    """A signed-in customer's conversation (Kari, C-1001) with one message, rated as given; the message id."""
    create_schema()
    conversation_id = uuid.uuid4().hex
    with session_scope() as session:
        session.add(Conversation(id=conversation_id, customer_id="C-1001", language="nb", state="bot", last_seq=1))
        message = Message(
            conversation_id=conversation_id, seq=1, role="customer", text=text, language="nb",
            intent="order_status", confidence=0.9,
        )  # fmt: skip
        session.add(message)
        session.flush()
        message_id = message.id
    with session_scope() as session:
        assert claim_rating_prompt(session, conversation_id)
        assert record_rating(session, conversation_id, rating, "not helpful")
    return message_id


async def trainer_client(base: str) -> tuple[ConsoleClient, str]:
    client = ConsoleClient.anonymous(base)
    response = await client.log_in("trainer.tor", "demo-trainer")
    assert response.status == 303 and response.headers["Location"] == "/console/trainer"
    status, page = await client.page("/console/trainer")
    assert status == 200
    client.csrf = _CSRF_META.search(page).group(1)  # type: ignore[union-attr]
    return client, page


async def test_a_message_rated_1_shows_masked_and_teaching_it_adds_one_line(gateway_url: str, data_root: Path) -> None:
    message_id = rated_conversation(f"{RAW} {uuid.uuid4().hex[:6]}", 1)
    tor, _ = await trainer_client(gateway_url)
    try:
        status, page = await tor.page("/console/trainer?reason=rated_low&language=nb")
        assert status == 200
        assert f'data-message-id="{message_id}"' in page
        assert "[name]" in page and "[phone]" in page and "[e-mail]" in page and "[tracking]" in page
        assert (
            "912 34 567" not in page
            and "kari.nordmann@example.no" not in page
            and "Kari" not in page.split("<main>")[1]
        )
        assert "70712345678901234" not in page
        # The live model's suggestions: three radio buttons with confidences.
        item = page.split(f'data-message-id="{message_id}"')[1].split("</li>")[0]
        assert len(re.findall(r'type="radio" name="intent" value="(?!ignore)', item)) == 3

        # No CSRF token: refused, nothing written.
        async with tor.http.post(
            tor.url(f"/console/trainer/inbox/{message_id}/assign"), data={"intent": "complaint"}
        ) as r:
            assert r.status == 403
        assert git(data_root, "status", "--porcelain") == ""

        status, body = await tor.post(f"/console/trainer/inbox/{message_id}/assign", intent="complaint")
        assert status == 200 and body["added"] is True
        changed = git(data_root, "diff", "--name-only").split()
        assert len(changed) == 1 and changed[0].startswith("data/nlu/nb/")
        diff = git(data_root, "diff", "--unified=0")
        added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
        assert removed == [] and len(added) == 1 and added[0].strip().startswith(f"+    - {MASKED}")

        # Decided: it left the inbox.
        _, page = await tor.page("/console/trainer?reason=rated_low")
        assert f'data-message-id="{message_id}"' not in page
    finally:
        await tor.close()
    assert (PROJECT_ROOT / "data" / "nlu").exists()


async def test_only_trainers_reach_the_trainer_pages(gateway_url: str) -> None:
    anne = await ConsoleClient.logged_in(gateway_url, "agent.anne")
    try:
        for path in ("/console/trainer", "/console/trainer/models"):
            status, _ = await anne.page(path)
            assert status == 403
        status, _ = await anne.post("/console/trainer/retrain")
        assert status == 403
    finally:
        await anne.close()
    async with aiohttp.ClientSession() as stranger:
        async with stranger.get(gateway_url + "/console/trainer", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/console/login"
        async with stranger.post(gateway_url + "/console/trainer/retrain", allow_redirects=False) as response:
            assert response.status == 401
    tor, _ = await trainer_client(gateway_url)
    try:
        status, _ = await tor.page("/console")
        assert status == 403  # the agents' console is not a trainer's
    finally:
        await tor.close()
