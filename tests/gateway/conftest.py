"""The real gateway app on a test server, in front of this run's real Rasa stack and database."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot.gateway.app import init_app
from bot.settings import Settings, get_settings
from tests.gateway.desk_support import OPEN, quiet_desk
from tests.gateway.widget_client import WidgetClient
from tests.support import RasaStack

# The shop's page that embeds the widget, as the allow-list names it.
SHOP_ORIGIN = "http://shop.test"


@dataclass
class Gateway:
    server: TestServer
    http: aiohttp.ClientSession
    settings: Settings

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def widget(self, origin: str | None = SHOP_ORIGIN) -> WidgetClient:
        headers = {"Origin": origin} if origin else {}
        ws = await self.http.ws_connect(self.url("/ws"), headers=headers, autoping=True)
        return WidgetClient(ws)


def gateway_settings(stack: RasaStack, **changes: object) -> Settings:
    fields: dict[str, object] = {
        "rasa_url": stack.rasa_url,
        "action_server_url": stack.actions_url,
        "allowed_origins": (SHOP_ORIGIN,),
        "demo_tokens": True,  # the demo page's switcher (off unless asked for; test_http checks both)
    }
    return dataclasses.replace(get_settings(), **{**fields, **changes})


async def start_gateway(settings: Settings) -> Gateway:
    server = TestServer(init_app(settings), host="127.0.0.1")
    await server.start_server()
    return Gateway(server, aiohttp.ClientSession(), settings)


async def stop_gateway(gateway: Gateway) -> None:
    await gateway.http.close()
    await gateway.server.close()


@pytest.fixture(scope="session")
def warm_stack(rasa_stack: RasaStack) -> RasaStack:
    """The stack after one turn: the action server loads spaCy's word lists on its first call (~5 s)."""
    rasa_stack.chat("warm-up", "hei")
    return rasa_stack


@pytest_asyncio.fixture(loop_scope="function")
async def gateway(warm_stack: RasaStack) -> AsyncIterator[Gateway]:
    started = await start_gateway(gateway_settings(warm_stack))
    try:
        yield started
    finally:
        await stop_gateway(started)


@pytest_asyncio.fixture(loop_scope="function")
async def desk(warm_stack: RasaStack) -> AsyncIterator[Gateway]:
    """A gateway in customer-service hours, with no one waiting and no agent at work; afterwards the demo
    staff get their demo passwords back for the tests that follow."""
    quiet_desk()
    started = await start_gateway(gateway_settings(warm_stack, clock=OPEN))
    try:
        yield started
    finally:
        await stop_gateway(started)
        quiet_desk()
