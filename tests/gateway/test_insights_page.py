"""The insights dashboard through the real gateway app, on the hand-counted history of
tests/store/insights_history.py: a lead and a trainer see it, an agent and a stranger do not, the page
shows the numbers, and each chart's CSV is exactly its table. No Rasa needed: the page reads the database."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.settings import get_settings
from bot.store.db import get_engine, session_scope
from bot.store.seed import seed_demo
from tests.gateway.conftest import Gateway, start_gateway, stop_gateway
from tests.gateway.console_client import ConsoleClient
from tests.store.insights_history import add_history

WEEK = "/console/insights?period=custom&from=2026-03-02&to=2026-03-03"


@pytest_asyncio.fixture(loop_scope="function")
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_demo(url)  # its staff: agent.anne, trainer.tor, lead.liv
    with session_scope(url) as session:
        add_history(session)
    started = await start_gateway(dataclasses.replace(get_settings(), database_url=url))
    try:
        yield started
    finally:
        await stop_gateway(started)
        get_engine(url).dispose()


async def signed_in(gateway: Gateway, username: str, password: str) -> ConsoleClient:
    client = ConsoleClient.anonymous(gateway.url("/"))
    response = await client.log_in(username, password)
    assert response.status == 303
    return client


def cell_text(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert found, element_id
    return found.group(1).strip()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_lead_sees_the_numbers_and_each_csv_is_its_table(gateway: Gateway) -> None:
    lead = await signed_in(gateway, "lead.liv", "demo-lead")
    try:
        response = await lead.http.get(lead.url("/console"), allow_redirects=False)
        assert response.status == 403  # the agents' queue is not the lead's
        status, page = await lead.page(WEEK)
        assert status == 200
        assert cell_text(page, "total-conversations") == "8"
        assert cell_text(page, "total-contained") == "3 (38 %)"
        assert page.count("<svg") == 6 and "<script" not in page
        async with lead.http.get(
            lead.url("/console/insights/intents.csv?period=custom&from=2026-03-02&to=2026-03-03")
        ) as csv_response:
            assert csv_response.status == 200 and csv_response.content_type == "text/csv"
            rows = list(csv.reader(io.StringIO(await csv_response.text())))
        assert rows[0] == ["intent", "customer turns"]
        assert rows[1:4] == [["order_status", "3"], ["check_points", "2"], ["greet", "2"]]
        # The page's table of the same chart shows the same rows.
        table = page.split('id="chart-intents"', 1)[1].split("</table>", 1)[0]
        assert re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table) == [tuple(row) for row in rows[1:]]
        async with lead.http.get(
            lead.url("/console/insights/csat.csv?period=custom&from=2026-03-02&to=2026-03-03")
        ) as daily:
            assert (await daily.text()).splitlines()[1:] == ["2026-03-02,3.5,2", "2026-03-03,2.5,2"]
        assert (await lead.page("/console/insights/nothing.csv"))[0] == 404
        # Filters from the URL are checked, never echoed raw.
        status, page = await lead.page("/console/insights?period=custom&from=<b>&language=<script>&topic=x")
        assert status == 200 and "<script>" not in page and "<b>" not in page
    finally:
        await lead.http.close()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_trainer_sees_it_and_an_agent_or_a_stranger_does_not(gateway: Gateway) -> None:
    trainer = await signed_in(gateway, "trainer.tor", "demo-trainer")
    agent = await signed_in(gateway, "agent.anne", "demo-agent")
    stranger = ConsoleClient.anonymous(gateway.url("/"))
    try:
        assert (await trainer.page(WEEK))[0] == 200
        assert (await agent.page(WEEK))[0] == 403
        assert (await agent.page("/console/insights/intents.csv"))[0] == 403
        response = await stranger.http.get(stranger.url(WEEK), allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/console/login"
    finally:
        for client in (trainer, agent, stranger):
            await client.http.close()
