"""The trainer's whole loop in the browser: a customer the bot misunderstood, the trainer teaches the message
an intent in the inbox, retrains, the candidate goes live in the running Rasa server, and the same message is
understood afterwards; then a rollback from the page brings the earlier model back.

The gateway's trainer pages work on a copy of the training files (BOT_TRAINING_ROOT), so data/nlu and
models/varde.tar.gz in the repository never change; the candidate reaches this run's Rasa through PUT /model,
and the run's original model is put back afterwards.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from bot.settings import PROJECT_ROOT
from bot.store.conversations import Message
from bot.store.db import session_scope
from bot.training.model_files import find_model_file
from bot.training.rasa_server import RasaServer
from tests.browser.conftest import running_gateway
from tests.gateway.desk_support import quiet_desk
from tests.support import RasaStack, free_port
from tests.training.conftest import copy_training_files

pytestmark = pytest.mark.browser

TRAINER_PORT = free_port()
# Slang the model in the repository gets wrong (faq_opening_hours 0.43; with the word and character
# counts alone, check_points); it asks when the customer's things arrive.
MISUNDERSTOOD = "når får jeg kloa i greiene"
MEANT = "order_status"
TURN_MS = 30_000
RETRAIN_MS = 400_000  # training (~40-60 s) and scoring candidate and live model (~25 s each), under load


@pytest.fixture(scope="module")
def trainer_gateway(rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    quiet_desk()  # the demo staff with their demo passwords, whatever tests before this one changed
    root = tmp_path_factory.mktemp("trainer-loop")
    copy_training_files(root)
    server = RasaServer(rasa_stack.rasa_url, rasa_stack.env["BOT_RASA_JWT_SECRET"])
    original = server.status()
    original_file = find_model_file(original.model_id, (PROJECT_ROOT / "models",))
    assert original_file is not None, "this run's Rasa serves a model that is not models/varde.tar.gz"
    settings = {"BOT_TRAINING_ROOT": str(root), "BOT_TRAINING_CACHE": str(PROJECT_ROOT / ".rasa" / "cache")}
    try:
        with running_gateway(rasa_stack, TRAINER_PORT, name="gateway-trainer", **settings) as url:
            yield url
    finally:
        if server.status().model_id != original.model_id:
            server.load_model(original_file)  # the other tests' model, whatever happened here


def repository_state() -> tuple[str, float]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "data/"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return status, (PROJECT_ROOT / "models" / "varde.tar.gz").stat().st_mtime


def last_understanding(text: str, after_id: int = 0) -> tuple[int, str | None]:
    """(id, intent) of the newest customer message with this text, once Rasa's answer has been recorded."""
    deadline = time.monotonic() + TURN_MS / 1000
    while True:
        with session_scope() as session:
            message = session.execute(
                select(Message)
                .where(Message.role == "customer", Message.text == text, Message.id > after_id)
                .order_by(Message.id.desc())
            ).scalar()
            if message is not None and message.intent is not None:
                return message.id, message.intent
        assert time.monotonic() < deadline, f"no understanding recorded for {text!r}"
        time.sleep(0.3)


def customer_says(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Skriv en melding")
    box.fill(text)
    box.press("Enter")
    bubble = page.locator("varde-chat .m.customer").filter(has_text=text).last
    expect(bubble.locator("small")).to_have_count(0, timeout=TURN_MS)  # echoed: stored by the gateway
    expect(page.locator("varde-chat .typing")).to_be_hidden(timeout=TURN_MS)  # answered


def test_misunderstood_taught_retrained_understood(
    browser: Browser, trainer_gateway: str, rasa_stack: RasaStack, artifacts: Path
) -> None:
    before = repository_state()
    server = RasaServer(rasa_stack.rasa_url, rasa_stack.env["BOT_RASA_JWT_SECRET"])
    original_model_id = server.status().model_id
    assert server.parse(MISUNDERSTOOD)["intent"]["name"] != MEANT, "pick a phrasing the live model gets wrong"

    customer_context, trainer_context = browser.new_context(), browser.new_context()
    try:
        customer, trainer = customer_context.new_page(), trainer_context.new_page()
        for page in (customer, trainer):
            page.set_default_timeout(15_000)

        # The customer: misunderstood, then thanks the bot and gives it a 1 with a comment.
        customer.goto(f"{trainer_gateway}/")
        customer.get_by_role("button", name="Chat med oss").click()
        customer_says(customer, MISUNDERSTOOD)
        first_id, intent = last_understanding(MISUNDERSTOOD)
        assert intent != MEANT
        customer_says(customer, "takk for hjelpen")
        rating = customer.get_by_role("radiogroup", name="Hvordan var hjelpen du fikk?")
        expect(rating).to_be_visible(timeout=TURN_MS)
        rating.get_by_role("radio", name="1 – svært dårlig").check()
        customer.get_by_label("Kommentar (valgfritt)").fill("skjønte ikke spørsmålet mitt")
        customer.get_by_role("button", name="Send vurdering").click()
        expect(customer.locator("varde-chat .m.system").filter(has_text="Takk for tilbakemeldingen!")).to_be_visible()
        expect(rating).to_have_count(0)
        customer.screenshot(path=str(artifacts / "trainer-loop-rated.png"))

        # The trainer: logs in, finds the message in the inbox, teaches it order_status.
        trainer.goto(f"{trainer_gateway}/console/login")
        trainer.get_by_label("Username").fill("trainer.tor")
        trainer.get_by_label("Password").fill("demo-trainer")
        trainer.get_by_role("button", name="Log in").click()
        expect(trainer).to_have_url(f"{trainer_gateway}/console/trainer")
        item = trainer.locator("li.inbox-item").filter(has_text=MISUNDERSTOOD).first
        expect(item).to_be_visible()
        expect(item).to_contain_text("rated 1-2")
        expect(item.get_by_role("radio")).to_have_count(4)  # the live model's top three, and "ignore"
        trainer.screenshot(path=str(artifacts / "trainer-inbox.png"), full_page=True)
        item.get_by_label("Another intent").select_option(MEANT)
        item.get_by_role("button", name="Save").click()
        expect(trainer.locator(".flash")).to_contain_text(f"as {MEANT}: {MISUNDERSTOOD}")
        expect(trainer.locator("li.inbox-item").filter(has_text=MISUNDERSTOOD)).to_have_count(0)

        # Retrain: progress live in the page, then the comparison, and the candidate goes live.
        trainer.get_by_role("link", name="Retrain and models").click()
        trainer.get_by_role("button", name="Retrain now").click()
        expect(trainer.locator("#progress")).to_be_visible()
        expect(trainer.locator("#progress-message")).to_contain_text("train", timeout=60_000)
        expect(trainer.locator("#result")).to_contain_text("is live", timeout=RETRAIN_MS)
        expect(trainer.locator("#result")).to_contain_text("Took")
        live_row = trainer.locator("tr.status-live")
        expect(live_row).to_contain_text("trainer.tor", timeout=15_000)
        expect(live_row).to_contain_text("fine-tuned from")  # the live model, not a training from scratch
        trainer.screenshot(path=str(artifacts / "trainer-models.png"), full_page=True)

        # The same message, asked again: understood now, by the model the running Rasa server loaded.
        customer.reload()
        customer_says(customer, MISUNDERSTOOD)
        assert last_understanding(MISUNDERSTOOD, after_id=first_id)[1] == MEANT
        assert server.parse(MISUNDERSTOOD)["intent"]["name"] == MEANT

        # Rollback from the page: the model that was live before is served again.
        trainer.reload()
        trainer.get_by_role("button", name="Roll back to").first.click()
        expect(trainer.locator(".flash")).to_contain_text("is live again", timeout=120_000)
        assert server.status().model_id == original_model_id
        assert server.parse(MISUNDERSTOOD)["intent"]["name"] != MEANT
    finally:
        customer_context.close()
        trainer_context.close()
    assert repository_state() == before, "the repository's data/nlu or models/varde.tar.gz changed"
