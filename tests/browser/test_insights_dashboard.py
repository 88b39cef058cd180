"""The insights dashboard in Chromium: a lead logs in, changes the period and sees the charts and tables
change; at 1280 px and at 360 px nothing overflows sideways; an agent is refused.

Its own gateway process, on a database of its own with a generated history (no Rasa needed: the page
reads the database only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.settings import PROJECT_ROOT
from bot.store.db import get_engine
from bot.store.history import generate_history
from bot.store.seed import seed_demo
from tests.support import free_port

SIZES = {"desktop": (1280, 900), "phone": (360, 740)}


@pytest.fixture(scope="module")
def insights_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("insights")
    url = f"sqlite:///{folder / 'shop.db'}"
    seed_demo(url)
    generate_history(url, days=90, conversations=3000)
    get_engine(url).dispose()
    port = free_port()
    env = {**os.environ, "BOT_DATABASE_URL": url, "BOT_RASA_URL": f"http://127.0.0.1:{free_port()}"}
    log = (folder / "gateway.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "bot", "gateway", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/console/login", timeout=2).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, f"gateway did not start: {log.name}"
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def no_sideways_overflow(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], widths


def test_a_lead_changes_the_period_and_the_charts_follow(
    browser: Browser, insights_gateway: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, insights_gateway, "lead.liv", "demo-lead")
        expect(page).to_have_url(f"{insights_gateway}/console/insights")
        expect(page.get_by_role("heading", name="How the service is doing")).to_be_visible()
        daily = page.locator("#chart-conversations tbody tr")
        expect(daily).to_have_count(7)  # the last 7 days
        week_total = int(page.locator("#total-conversations").inner_text())
        week_chart = page.locator("#chart-conversations svg").inner_html()
        assert week_total > 0 and "<polyline" in week_chart
        no_sideways_overflow(page)

        page.get_by_label("Period").select_option("month")
        page.get_by_role("button", name="Show").click()
        expect(daily).to_have_count(30)
        assert "period=month" in page.url
        month_total = int(page.locator("#total-conversations").inner_text())
        assert month_total > week_total
        assert page.locator("#chart-conversations svg").inner_html() != week_chart
        expect(page.locator("#chart-intents tbody tr").first).to_be_visible()
        href = page.locator("#chart-conversations a", has_text="CSV").get_attribute("href")
        assert href is not None and "period=month" in href

        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.reload()
            expect(daily).to_have_count(30)
            no_sideways_overflow(page)
            page.screenshot(path=str(artifacts / f"insights-{name}.png"), full_page=True)
    finally:
        context.close()


def test_an_agent_cannot_open_the_dashboard(browser: Browser, insights_gateway: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in(page, insights_gateway, "agent.anne", "demo-agent")
        expect(page).to_have_url(f"{insights_gateway}/console")
        response = page.goto(f"{insights_gateway}/console/insights")
        assert response is not None and response.status == 403
        assert "How the service is doing" not in page.content()
    finally:
        context.close()
