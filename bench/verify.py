"""After a run, when timing is over: what was stored must be what the customers sent and saw.

- Rasa's tracker of each conversation holds each customer message once, in the order sent.
- The gateway's transcript, replayed to a fresh socket (`hello` with `last_seq` 0), equals what the
  customer's widget received live, seq for seq.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import aiohttp

from bench.clients import TURN_TIMEOUT_SECONDS, Conversation, Endpoints, GatewayConversation
from bench.ledger import Ledger, compare_sequences

PARALLEL_CHECKS = 8


async def tracker_texts(http: aiohttp.ClientSession, rasa_url: str, headers: dict[str, str], sender: str) -> list[str]:
    url = f"{rasa_url}/conversations/{sender}/tracker"
    async with http.get(url, params={"include_events": "ALL"}, headers=headers) as response:
        response.raise_for_status()
        tracker = await response.json()
    return [event.get("text") or "" for event in tracker.get("events", []) if event.get("event") == "user"]


async def replay(http: aiohttp.ClientSession, endpoints: Endpoints, conversation: GatewayConversation) -> list[dict]:
    """Everything the gateway has stored for the conversation, as a reconnecting widget gets it."""
    last = max((int(m["seq"]) for m in conversation.live.messages), default=0)
    received: list[dict] = []
    async with http.ws_connect(endpoints.gateway_ws, headers={"Origin": endpoints.gateway_origin}) as ws:
        hello = {
            "type": "hello",
            "conversation_id": conversation.sender_id,
            "last_seq": 0,
            "customer_token": conversation.token,
            "language": conversation.script.language,
        }
        await ws.send_json(hello)
        while not received or int(received[-1]["seq"]) < last:
            message = await ws.receive(timeout=TURN_TIMEOUT_SECONDS)
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame.get("type") == "welcome" and frame.get("conversation_id") != conversation.sender_id:
                raise RuntimeError(f"gateway did not resume {conversation.sender_id}")
            if frame.get("type") == "message":
                received.append(frame)
    return received


def _key(frame: dict) -> str:
    return f"{frame.get('seq')}|{frame.get('role')}|{frame.get('text')}"


async def _check_one(
    http: aiohttp.ClientSession, endpoints: Endpoints, rasa_url: str, conversation: Conversation, ledger: Ledger
) -> None:
    where = f"{conversation.path} {conversation.sender_id}"
    try:
        server = endpoints.stock_rasa if conversation.path == "stock" else rasa_url
        stored = await tracker_texts(http, server, endpoints.rasa_headers, conversation.sender_id)
        compare_sequences(f"{where} (Rasa tracker)", conversation.texts, stored, ledger, conversation.failed)
        if isinstance(conversation, GatewayConversation):
            replayed = await replay(http, endpoints, conversation)
            live = [_key(m) for m in conversation.live.messages]
            compare_sequences(f"{where} (transcript replay)", live, [_key(m) for m in replayed], ledger)
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
        ledger.problem("lost", f"{where}: could not read back ({type(error).__name__}: {error})")


async def verify(
    http: aiohttp.ClientSession,
    endpoints: Endpoints,
    rasa_url: str,
    conversations: Sequence[Conversation],
    ledger: Ledger,
) -> None:
    limit = asyncio.Semaphore(PARALLEL_CHECKS)

    async def one(conversation: Conversation) -> None:
        async with limit:
            await _check_one(http, endpoints, rasa_url, conversation, ledger)

    await asyncio.gather(*(one(c) for c in conversations if c.texts))
