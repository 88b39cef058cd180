"""The widget when the gateway refuses a frame over a limit (issue 16): nothing the customer wrote is lost.

Chromium talks to the real gateway; Playwright sits on the socket and answers one frame with the
gateway's `rate_limited` refusal itself, so the test need not wait out a real minute-long window.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.test_widget import ORDER_QUESTION, TURN_MS, chat_log, customer_bubbles, open_chat, textbox

pytestmark = pytest.mark.browser

POLITE = "Du sender mange meldinger på kort tid. Vent litt, så svarer jeg."


def refusing(first: str, retry_after: int, seen: list[dict]):  # type: ignore[no-untyped-def]
    """A socket route that refuses the first frame of type `first` and passes everything else on."""

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            seen.append(frame)
            if frame.get("type") == first and not any(f.get("refused") for f in seen):
                seen[-1] = {**frame, "refused": True}
                refusal = {"type": "error", "code": "rate_limited", "message": POLITE, "retry_after": retry_after}
                if frame.get("client_id"):
                    refusal["client_id"] = frame["client_id"]
                ws.send(json.dumps(refusal))
                return
            server.send(message)

        ws.on_message(from_page)

    return route


def test_a_refused_message_stays_pending_and_goes_again_after_retry_after(page: Page, gateway: str) -> None:
    seen: list[dict] = []
    page.route_web_socket(re.compile(r"/ws$"), refusing("message", 2, seen))
    page.set_default_timeout(10_000)
    page.goto(f"{gateway}/")
    open_chat(page)
    textbox(page).fill(ORDER_QUESTION)
    textbox(page).press("Enter")
    expect(chat_log(page)).to_contain_text(POLITE)
    bubble = customer_bubbles(page, ORDER_QUESTION)
    expect(bubble.locator("small")).to_have_text("Sendes …")  # kept, not "Ikke sendt"
    expect(chat_log(page)).to_contain_text("e-postadressen", timeout=TURN_MS)
    expect(bubble).to_have_count(1)
    expect(bubble.locator("small")).to_have_count(0)
    sent = [f for f in seen if f["type"] == "message"]
    assert len(sent) == 2 and sent[0]["client_id"] == sent[1]["client_id"] and sent[0].get("refused")


def test_a_refused_hello_reconnects_after_retry_after_and_sends_what_was_written(page: Page, gateway: str) -> None:
    seen: list[dict] = []
    page.route_web_socket(re.compile(r"/ws$"), refusing("hello", 2, seen))
    page.set_default_timeout(10_000)
    page.goto(f"{gateway}/")
    open_chat(page)
    expect(chat_log(page)).to_contain_text(POLITE)
    textbox(page).fill(ORDER_QUESTION)  # written while the gateway asked the widget to wait
    textbox(page).press("Enter")
    expect(chat_log(page)).to_contain_text("e-postadressen", timeout=TURN_MS)
    expect(customer_bubbles(page, ORDER_QUESTION)).to_have_count(1)
    assert [f["type"] for f in seen if f["type"] == "hello"] == ["hello", "hello"]
