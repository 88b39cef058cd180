"""Rasa input channel for the gateway: the REST channel's replies plus what NLU made of the message.

Registered in credentials.yml as `bot.rasa_channel.GatewayInput` (route /webhooks/gateway/webhook)
beside the plain `rest:` channel, which stays as it is. One request returns

    {"messages": [...], "intent": "order_status", "confidence": 0.93, "language": "nb"}

so the gateway can write intent, confidence and language into its transcript without a second call
to Rasa. The channel runs inside the Rasa process; the gateway proves itself with the same JWT
(`Authorization: Bearer`, HS256, BOT_RASA_JWT_SECRET) that protects Rasa's HTTP API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL_NAME = "gateway"


def _authorised(request: Request, secret: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return True


class GatewayInput(RestInput):
    """RestInput with its own name and route, answering with the NLU result of the message."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)
        secret = get_settings().rasa_jwt_secret

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not _authorised(request, secret):
                return response.json({"error": "unauthorised"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender_id = body.get("sender")
            text = body.get("message")
            if not isinstance(sender_id, str) or not sender_id or not isinstance(text, str):
                return response.json({"error": "sender and message are required strings"}, status=400)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None

            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender_id, input_channel=CHANNEL_NAME, metadata=metadata)
            # Unlike RestInput, an exception is a 500 here: the gateway must know the turn failed.
            await on_new_message(message)
            return response.json({"messages": collector.messages, **await _understanding(request, sender_id)})

        return webhook


async def _understanding(request: Request, sender_id: str) -> dict[str, Any]:
    """Intent, confidence and language of the turn just handled, read from the conversation's tracker.

    The gateway sends one message of a conversation at a time, so the tracker's latest user message is
    the one this request carried.
    """
    tracker = await request.app.ctx.agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return {"intent": None, "confidence": None, "language": None}
    intent = tracker.latest_message.intent or {}
    language = tracker.get_slot("language")
    return {
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "language": language if isinstance(language, str) else None,
    }
