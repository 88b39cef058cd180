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


# Pauses before sending a message again that Rasa did not handle for want of the conversation's lock (a
# restarting Redis is back within a second or two); the last repeats until the turn's time is up.
NOT_HANDLED_RETRY_SECONDS = (0.25, 0.5, 1.0, 2.0)


# What _post gives for Rasa's answer that it did nothing with the message (bot/rasa_channel.py NOT_HANDLED).
_NOT_HANDLED = object()


async def _says_not_handled(response: aiohttp.ClientResponse) -> bool:
    """Whether a 503 is the channel's NOT_HANDLED (a balancer's own 503 page is not)."""
    try:
        answer = await response.json(content_type=None)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("handled") is False


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
        """Rasa's answer to one message. Sent again only when Rasa can't have handled it: a kept-alive
        connection Rasa had closed (once), or Rasa's answer that it could not take the conversation's lock
        (bot/rasa_channel.py; its lock store restarting, say), with backoff until `timeout`."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        deadline = asyncio.get_running_loop().time() + timeout
        disconnects, pauses = 0, iter(NOT_HANDLED_RETRY_SECONDS)
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                data = await self._post(body, max(left, 0.001))
            except aiohttp.ServerDisconnectedError as error:
                disconnects += 1
                if disconnects == 2:
                    raise RasaUnavailable("disconnected") from error
                continue
            except asyncio.TimeoutError as error:
                raise RasaUnavailable("timeout") from error
            except (aiohttp.ClientError, ValueError) as error:
                raise RasaUnavailable(type(error).__name__) from error
            if data is not _NOT_HANDLED:
                break
            pause = next(pauses, NOT_HANDLED_RETRY_SECONDS[-1])
            if deadline - asyncio.get_running_loop().time() <= pause:
                raise RasaUnavailable("not handled (no lock)")
            log.info("Rasa could not take the lock of conversation %s; sending again in %.2f s", sender, pause)
            await asyncio.sleep(pause)
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise RasaUnavailable("unexpected answer")
        return RasaReply(
            messages=[m for m in data["messages"] if isinstance(m, dict)],
            intent=_str_or_none(data.get("intent")),
            confidence=_float_or_none(data.get("confidence")),
            language=_str_or_none(data.get("language")),
            frustration=_strings(data.get("frustration")),
        )

    async def _post(self, body: dict[str, Any], timeout: float) -> Any:
        """The channel's JSON answer, or _NOT_HANDLED; raises RasaUnavailable for any other status."""
        async with self._http.post(
            self._base_url + GATEWAY_WEBHOOK, json=body, headers=self._headers, timeout=_exact(timeout)
        ) as response:
            if response.status == 503 and await _says_not_handled(response):
                return _NOT_HANDLED
            if response.status != 200:
                raise RasaUnavailable(f"http {response.status}")
            return await response.json()

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
