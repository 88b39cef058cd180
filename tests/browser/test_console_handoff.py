"""Handoff to a person in two real browsers: a customer on the shop's page, an agent in the console.

Everything is real: Debian's Chromium, the gateway as its own process, Rasa, the action server and
the database. Customer-service hours are judged by the gateway's BOT_CLOCK: a Tuesday at 11 (open)
or a Sunday (closed). Nothing in the pages is reloaded unless a step says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from bot.i18n import format_date
from tests.browser.conftest import running_gateway
from tests.browser.test_widget import TURN_MS, chat_log, open_chat, say, sign_in
from tests.gateway.desk_support import CLOSED, OPEN, quiet_desk
from tests.support import RasaStack, free_port

pytestmark = pytest.mark.browser

DESK_PORT = free_port()
CLOSED_DESK_PORT = free_port()
LIVE_MS = 10_000  # a push over the socket: no reload, no polling


@pytest.fixture(scope="module")
def desk_gateway(rasa_stack: RasaStack) -> Iterator[str]:
    with running_gateway(rasa_stack, DESK_PORT, name="gateway-open", BOT_CLOCK=OPEN) as url:
        yield url


@pytest.fixture(scope="module")
def closed_gateway(rasa_stack: RasaStack) -> Iterator[str]:
    with running_gateway(rasa_stack, CLOSED_DESK_PORT, name="gateway-closed", BOT_CLOCK=CLOSED) as url:
        yield url


@pytest.fixture
def two_people(browser: Browser) -> Iterator[tuple[Page, Page]]:
    """(customer, agent): two browser contexts, so two separate sets of cookies and storage."""
    quiet_desk()
    contexts: list[BrowserContext] = [browser.new_context(), browser.new_context()]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.set_default_timeout(10_000)
    try:
        yield pages[0], pages[1]
    finally:
        for context in contexts:
            context.close()


def log_in(agent: Page, gateway: str, username: str = "agent.anne", available: bool = True) -> None:
    agent.goto(f"{gateway}/console")
    expect(agent).to_have_url(f"{gateway}/console/login")
    agent.get_by_label("Username").fill(username)
    agent.get_by_label("Password").fill("demo-agent")
    agent.get_by_role("button", name="Log in").click()
    expect(agent).to_have_url(f"{gateway}/console")
    # The URL changes before console.js (deferred) has run; a choice made before it listens posts nothing.
    agent.wait_for_load_state("load")
    if available:
        with agent.expect_response(f"{gateway}/console/availability"):
            agent.get_by_label("Anne is").select_option("available")
    # Marks this page: if it were reloaded, the mark would be gone.
    agent.evaluate("window.stillTheSamePage = true")


def not_reloaded(agent: Page) -> bool:
    return agent.evaluate("window.stillTheSamePage === true")


def queue_entry(agent: Page, text: str):  # type: ignore[no-untyped-def]
    return agent.locator("#queue li").filter(has_text=text)


def widget_typing(shop: Page):  # type: ignore[no-untyped-def]
    return shop.locator("varde-chat .typing")


def test_a_customer_asks_for_a_person_an_agent_takes_over_and_hands_back(
    two_people: tuple[Page, Page], desk_gateway: str
) -> None:
    shop, agent = two_people
    log_in(agent, desk_gateway)

    shop.goto(f"{desk_gateway}/")
    sign_in(shop, "Kari", "Kari Nordmann")
    open_chat(shop)
    say(shop, "Kan jeg få snakke med et menneske?")
    expect(chat_log(shop)).to_contain_text("Du er nummer 1 i køen", timeout=TURN_MS)

    # The agent's queue shows the conversation without a reload, with why it was handed over.
    entry = queue_entry(agent, "Kari Nordmann")
    expect(entry).to_be_visible(timeout=LIVE_MS)
    expect(entry).to_contain_text("Asked for a person")
    expect(entry).to_contain_text("Gold")
    expect(entry).to_contain_text("Kan jeg få snakke med et menneske?")
    assert not_reloaded(agent)

    entry.get_by_role("button", name="Claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/[0-9a-f]{32}$"))
    expect(agent.locator("#transcript")).to_contain_text("Kan jeg få snakke med et menneske?")  # the whole chat
    expect(agent.get_by_role("heading", name="Customer")).to_be_visible()
    expect(agent.locator(".card")).to_contain_text("Kari Nordmann")
    expect(agent.locator(".card")).to_contain_text("Fjellsko Tinde GTX × 1")  # her recent orders
    expect(agent.locator("body[data-watching]")).to_have_count(1)
    expect(chat_log(shop)).to_contain_text("Anne fra kundeservice har kommet inn i chatten.", timeout=LIVE_MS)

    # The customer types: the agent sees it; then the message arrives.
    shop_box = shop.get_by_role("textbox", name="Skriv en melding")
    shop_box.press_sequentially("Hei Anne")
    expect(agent.locator("#customer-typing")).to_be_visible(timeout=LIVE_MS)
    shop_box.press_sequentially(", skoene mine er for små. Kan jeg bytte dem?")
    shop_box.press("Enter")
    expect(agent.locator("#transcript")).to_contain_text("skoene mine er for små", timeout=LIVE_MS)
    expect(agent.locator("#customer-typing")).to_be_hidden()

    # The agent types: the customer sees "customer service is typing"; then the answer, with her name.
    reply_box = agent.get_by_label("Reply to the customer")
    reply_box.press_sequentially("Ja, det ordner jeg")
    expect(widget_typing(shop)).to_be_visible(timeout=LIVE_MS)
    expect(widget_typing(shop)).to_contain_text("Kundeservice skriver")
    reply_box.press_sequentially(". Hvilken størrelse trenger du?")
    reply_box.press("Enter")
    answer = shop.locator("varde-chat .m.agent").filter(has_text="Hvilken størrelse trenger du?")
    expect(answer).to_be_visible(timeout=LIVE_MS)
    expect(answer).to_contain_text("Anne:")
    expect(widget_typing(shop)).to_be_hidden()
    expect(agent.locator("#transcript .msg.agent")).to_contain_text("Hvilken størrelse trenger du?")

    # Canned replies are there in both languages; an internal note stays with the agents.
    agent.get_by_text("Canned replies").click()
    agent.get_by_role("button", name="Noe mer?").click()
    expect(reply_box).to_have_value("Er det noe mer jeg kan hjelpe deg med?")
    reply_box.fill("")
    agent.get_by_label("Add a note").fill("Bytter til str. 42")
    agent.get_by_role("button", name="Save note").click()
    expect(agent.locator("#notes")).to_contain_text("Bytter til str. 42")

    # Hand back: the bot carries on, and answers the next question.
    agent.get_by_role("button", name="Hand back to the bot").click()
    expect(agent).to_have_url(f"{desk_gateway}/console")
    expect(chat_log(shop)).to_contain_text("Anne har gitt chatten tilbake til assistenten", timeout=LIVE_MS)
    say(shop, "Hvor er bestilling 10234?")
    expect(chat_log(shop)).to_contain_text("Sporingsnummer", timeout=TURN_MS)
    assert "Bytter til str. 42" not in chat_log(shop).inner_text()


def test_emma_is_answered_in_swedish_and_an_agent_replies_in_swedish(
    two_people: tuple[Page, Page], desk_gateway: str
) -> None:
    shop, agent = two_people
    log_in(agent, desk_gateway)

    shop.goto(f"{desk_gateway}/")
    sign_in(shop, "Emma", "Emma Lindqvist")  # shop.yml: language sv
    shop.get_by_role("button", name="Chatta med oss").click()
    say(shop, "Hej! Var är min beställning 10251?", box="Skriv ett meddelande")
    # Her order was delivered five days ago: the date in Swedish form ("fredag 27 november", no period).
    delivered = format_date(date.today() - timedelta(days=5), "sv")
    delivered_answer = f"Beställning 10251 (Løpejakke Vind) levererades {delivered}"
    expect(chat_log(shop)).to_contain_text(delivered_answer, timeout=TURN_MS)

    say(shop, "Jag skulle vilja prata med en människa", box="Skriv ett meddelande")
    expect(chat_log(shop)).to_contain_text("Du är nummer 1 i kön", timeout=TURN_MS)

    # The agent sees her language in the queue and in the conversation, and Swedish canned replies first.
    entry = queue_entry(agent, "Emma Lindqvist")
    expect(entry).to_be_visible(timeout=LIVE_MS)
    expect(entry).to_contain_text("Swedish")
    entry.get_by_role("button", name="Claim").click()
    expect(agent).to_have_url(re.compile(r"/console/conversations/[0-9a-f]{32}$"))
    expect(agent.get_by_text("Writes in Swedish.")).to_be_visible()
    expect(chat_log(shop)).to_contain_text("Anne från kundtjänst är nu med i chatten", timeout=LIVE_MS)
    agent.get_by_text("Canned replies").click()
    expect(agent.locator(".canned-group").first).to_have_attribute("lang", "sv")
    agent.get_by_role("button", name="Något mer?").click()
    reply_box = agent.get_by_label("Reply to the customer")
    expect(reply_box).to_have_value("Är det något mer jag kan hjälpa dig med?")
    reply_box.press("Enter")
    answer = shop.locator("varde-chat .m.agent").filter(has_text="Är det något mer jag kan hjälpa dig med?")
    expect(answer).to_be_visible(timeout=LIVE_MS)
    expect(answer).to_contain_text("Anne:")


def test_outside_opening_hours_the_message_is_taken_and_shown_in_the_console(
    two_people: tuple[Page, Page], closed_gateway: str
) -> None:
    shop, agent = two_people
    log_in(agent, closed_gateway)  # available, but it is Sunday: customer service is closed

    shop.goto(f"{closed_gateway}/")
    open_chat(shop)
    say(shop, "Jeg vil snakke med et menneske")
    expect(chat_log(shop)).to_contain_text("Kundeservice er ikke på jobb akkurat nå", timeout=TURN_MS)
    expect(chat_log(shop)).to_contain_text("Hvilken e-postadresse skal vi svare deg på?")
    say(shop, "ola.gjest@example.no")
    expect(chat_log(shop)).to_contain_text("Hva vil du si til teamet vårt?", timeout=TURN_MS)
    message = "Glidelåsen på jakka mi røk etter en uke. <b>Kan dere hjelpe?</b>"
    say(shop, message)
    expect(chat_log(shop)).to_contain_text("som sak", timeout=TURN_MS)
    expect(chat_log(shop)).to_contain_text("etter at vi åpner")

    # The ticket appears in the console without a reload, the customer's words as they wrote them.
    ticket = agent.locator("#tickets li").filter(has_text="ola.gjest@example.no")
    expect(ticket).to_be_visible(timeout=LIVE_MS)
    expect(ticket).to_contain_text(message)
    assert not_reloaded(agent)
    ticket.get_by_role("link").click()
    expect(agent.locator(".ticket-message")).to_have_text(message)
    expect(agent.locator("#transcript")).to_contain_text("Jeg vil snakke med et menneske")  # nothing lost
    agent.get_by_role("button", name="Answered: mark as done").click()
    expect(agent).to_have_url(f"{closed_gateway}/console")
    expect(agent.locator("#tickets li").filter(has_text="ola.gjest@example.no")).to_have_count(0)


def test_customer_text_is_shown_as_text_in_the_console(two_people: tuple[Page, Page], desk_gateway: str) -> None:
    shop, agent = two_people
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    agent.on("dialog", record)
    log_in(agent, desk_gateway)
    hostile = '<img src=x onerror=alert(1)><script>alert("x")</script> jeg vil snakke med et menneske'
    shop.goto(f"{desk_gateway}/")
    open_chat(shop)
    say(shop, hostile)
    expect(chat_log(shop)).to_contain_text("nummer 1 i køen", timeout=TURN_MS)

    entry = queue_entry(agent, "jeg vil snakke med et menneske")
    expect(entry).to_be_visible(timeout=LIVE_MS)
    expect(entry.locator(".last-message")).to_have_text(hostile)
    assert entry.locator("img, script").count() == 0
    entry.get_by_role("button", name="Claim").click()
    first = agent.locator("#transcript .msg.customer .text").first
    expect(first).to_have_text(hostile)
    assert agent.locator("#transcript img, #transcript script").count() == 0
    # And live, after the page has loaded.
    expect(agent.locator("body[data-watching]")).to_have_count(1)
    say(shop, "<b>fet</b> & <i>kursiv</i>")
    expect(agent.locator("#transcript .msg.customer .text").last).to_have_text("<b>fet</b> & <i>kursiv</i>")
    assert agent.locator("#transcript b, #transcript i").count() == 0
    assert dialogs == []
