"""GET /health: each part of the service, checked now and at once (a few seconds at most).

The whole report (the model's id and file, each failure's kind) goes only to a request from this machine
(bot/gateway/local.py); anyone else gets `public_report`: the status and ok or not per part.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.web.database import Database
from bot.web.rasa_client import RasaClient

CHECK_TIMEOUT_SECONDS = 2.0
PARTS = ("gateway", "rasa", "action_server", "database")


async def check_rasa(rasa: RasaClient) -> dict[str, Any]:
    status = await rasa.status(timeout=CHECK_TIMEOUT_SECONDS)
    model = status.get("model_id")
    if not model:
        return {"ok": False, "error": "no model loaded"}
    return {"ok": True, "model_id": model, "model_file": status.get("model_file")}


async def check_action_server(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)
    async with http.get(url.rstrip("/") + "/health", timeout=timeout) as response:
        response.raise_for_status()
        body = await response.json()
    ok = isinstance(body, dict) and body.get("status") == "ok"
    return {"ok": True} if ok else {"ok": False, "error": "unexpected answer"}


async def check_database(db: Database) -> dict[str, Any]:
    await asyncio.wait_for(db.ping(), CHECK_TIMEOUT_SECONDS)
    return {"ok": True}


async def _safely(check: Any) -> dict[str, Any]:
    try:
        return await check
    except asyncio.TimeoutError:
        return {"ok": False, "error": "timeout"}
    except aiohttp.ClientConnectionError:
        return {"ok": False, "error": "unreachable"}
    except Exception as error:  # a health check reports failures, it never raises them
        return {"ok": False, "error": type(error).__name__}


async def health_report(rasa: RasaClient, http: aiohttp.ClientSession, action_server_url: str, db: Database) -> dict:
    rasa_part, actions_part, database_part = await asyncio.gather(
        _safely(check_rasa(rasa)), _safely(check_action_server(http, action_server_url)), _safely(check_database(db))
    )
    parts = {"gateway": {"ok": True}, "rasa": rasa_part, "action_server": actions_part, "database": database_part}
    return {"status": "ok" if all(part["ok"] for part in parts.values()) else "unavailable", "parts": parts}


def public_report(report: dict) -> dict:
    """What anyone may know: overall status and ok or not per part, nothing about what runs or why it failed."""
    return {"status": report["status"], "parts": {name: {"ok": part["ok"]} for name, part in report["parts"].items()}}
