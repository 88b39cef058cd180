"""The gateway's calls to Rasa over localhost, authenticated with Rasa's JWT (never a token in the URL).

A customer's turn goes to the gateway channel (bot/rasa_channel.py), which answers with the replies
and the NLU result in one response. Every way Rasa can fail a turn ends in RasaUnavailable, so the
relay has one thing to handle.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt

log = logging.getLogger(__name__)

GATEWAY_WEBHOOK = "/webhooks/gateway/webhook"


class RasaUnavailable(Exception):
    """Rasa did not answer the turn: down, too slow, or failing. `reason` is a short word for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RasaReply:
    messages: list[dict[str, Any]]
    intent: str | None
    confidence: float | None
    language: str | None
    frustration: tuple[str, ...] = ()  # what the channel heard in the message (bot/services/frustration.py)


def _exact(seconds: float) -> aiohttp.ClientTimeout:
    # aiohttp rounds timeouts over 5 s up to a whole second; the customer's 10 s promise needs the exact one.
    return aiohttp.ClientTimeout(total=seconds, ceil_threshold=seconds + 1)


def rasa_api_token(secret: str) -> str:
    return jwt.encode({"user": {"username": "gateway", "role": "admin"}}, secret, algorithm="HS256")


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(s for s in value if isinstance(s, str)) if isinstance(value, list) else ()


class RasaClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, jwt_secret: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {rasa_api_token(jwt_secret)}"}

    async def send(self, sender: str, text: str, metadata: dict[str, Any], timeout: float) -> RasaReply:
        body = {"sender": sender, "message": text, "metadata": metadata}
        # One retry, only for a kept-alive connection Rasa closed (e.g. it restarted): the request never
        # reached it, so sending again can't make Rasa handle the message twice.
        for attempt in (1, 2):
            try:
                async with self._http.post(
                    self._base_url + GATEWAY_WEBHOOK,
                    json=body,
                    headers=self._headers,
                    timeout=_exact(timeout),
                ) as response:
                    if response.status != 200:
                        raise RasaUnavailable(f"http {response.status}")
                    data = await response.json()
                    break
            except aiohttp.ServerDisconnectedError as error:
                if attempt == 2:
                    raise RasaUnavailable("disconnected") from error
            except asyncio.TimeoutError as error:
                raise RasaUnavailable("timeout") from error
            except (aiohttp.ClientError, ValueError) as error:
                raise RasaUnavailable(type(error).__name__) from error
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise RasaUnavailable("unexpected answer")
        return RasaReply(
            messages=[m for m in data["messages"] if isinstance(m, dict)],
            intent=_str_or_none(data.get("intent")),
            confidence=_float_or_none(data.get("confidence")),
            language=_str_or_none(data.get("language")),
            frustration=_strings(data.get("frustration")),
        )

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]], timeout: float) -> None:
        """Add events to a conversation's tracker (POST /conversations/{id}/tracker/events); raises
        RasaUnavailable. Used for an agent's turns, so the bot knows what was said when it takes over."""
        url = f"{self._base_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
        try:
            async with self._http.post(
                url, json=events, params={"include_events": "NONE"}, headers=self._headers, timeout=_exact(timeout)
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"http {response.status}")
        except asyncio.TimeoutError as error:
            raise RasaUnavailable("timeout") from error
        except aiohttp.ClientError as error:
            raise RasaUnavailable(type(error).__name__) from error

    async def status(self, timeout: float = 2.0) -> dict[str, Any]:
        """Rasa's GET /status (which model is loaded); raises on any failure."""
        async with self._http.get(
            self._base_url + "/status", headers=self._headers, timeout=_exact(timeout)
        ) as response:
            response.raise_for_status()
            data = await response.json()
        return data if isinstance(data, dict) else {}
