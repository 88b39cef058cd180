"""Rasa input channel for the gateway: the REST channel's replies plus what NLU made of the message.

Registered in credentials.yml as `bot.rasa_channel.GatewayInput` (route /webhooks/gateway/webhook)
beside the plain `rest:` channel, which stays as it is. One request returns

    {"messages": [...], "intent": "order_status", "confidence": 0.93, "language": "nb"}

so the gateway can write intent, confidence and language into its transcript without a second call
to Rasa. It also looks for clear frustration in each typed message (angry words, shouting, the same
question again; bot/services/frustration.py) and hands such a turn to a person; the answer then
carries `"frustration": ["shouting", ...]`. For "the same question again" the gateway sends, in the
metadata, the customer's last few turns that the bot answered (`earlier_turns`).

The channel runs inside the Rasa process; the gateway proves itself with the same JWT
(`Authorization: Bearer`, HS256, BOT_RASA_JWT_SECRET) that protects Rasa's HTTP API.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jwt
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.services.frustration import EarlierTurn, assess
from bot.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL_NAME = "gateway"


# A frustrated message is handled as this intent: the handoff rules take it from there.
ESCALATION_INTENT = "request_human"


@dataclass
class _Saved:
    """The tracker Rasa saved at the end of this request's turn (see _capture_saves)."""

    sender_id: str
    tracker: Any = None


_saving_for: ContextVar[_Saved | None] = ContextVar("varde_gateway_saving_for", default=None)

# The form each conversation was in after its last saved turn, as this process saw it: inside a form
# the customer answers the bot's questions, and an answer given again is no question asked again
# (bot/services/frustration.py). Not known (a restart, another Rasa process): as outside a form.
_forms: OrderedDict[str, str] = OrderedDict()
REMEMBERED_FORMS = 10_000


def _remember_form(tracker: Any) -> None:
    sender_id = getattr(tracker, "sender_id", None)
    if not isinstance(sender_id, str):
        return
    _forms.pop(sender_id, None)
    form = getattr(tracker, "active_loop_name", None)
    if form:
        _forms[sender_id] = form
        if len(_forms) > REMEMBERED_FORMS:
            _forms.popitem(last=False)


def in_a_form(sender_id: str) -> bool:
    return sender_id in _forms


def _capture_saves(tracker_store: Any) -> None:
    """Let a request of this channel keep the tracker Rasa saves at the end of its turn.

    Reading it back from the store instead loads and replays every event of the conversation: 5-10 % of
    a turn by the benchmark (bench/), more in long conversations. Rasa saves in the request's own task,
    so a context variable tells which request a save belongs to; saves for others pass through. Every
    save also tells which form its conversation is in (_remember_form).
    """
    if getattr(tracker_store, "_varde_captures_saves", False):
        return
    save = tracker_store.save

    async def save_and_keep(tracker: Any) -> None:
        await save(tracker)
        _remember_form(tracker)
        waiting = _saving_for.get()
        if waiting is not None and tracker.sender_id == waiting.sender_id:
            waiting.tracker = tracker

    tracker_store.save = save_and_keep
    tracker_store._varde_captures_saves = True


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

            agent = request.app.ctx.agent
            turn = await understand(agent, sender_id, text, metadata)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                parse_data=turn.parse_data,
                input_channel=CHANNEL_NAME,
                metadata=turn.metadata,
            )
            _capture_saves(agent.tracker_store)
            saved = _Saved(sender_id)
            _saving_for.set(saved)  # this request's task (and the turn Rasa runs in it) only
            # Unlike RestInput, an exception is a 500 here: the gateway must know the turn failed.
            await on_new_message(message)
            understanding = _understanding(saved.tracker or await agent.tracker_store.retrieve(sender_id))
            if turn.nlu_intent is not None:
                # What NLU itself made of the message (the transcript and the trainers' inbox want that),
                # not the request_human a frustrated turn was turned into.
                understanding.update(intent=turn.nlu_intent, confidence=turn.nlu_confidence)
            extra = {"frustration": list(turn.frustration)} if turn.frustration else {}
            return response.json({"messages": collector.messages, **understanding, **extra})

        return webhook


@dataclass(frozen=True)
class Turn:
    """A message ready for the dialogue: its NLU result (None: let Rasa parse it) and metadata."""

    parse_data: dict[str, Any] | None
    metadata: dict[str, Any] | None
    nlu_intent: str | None = None
    nlu_confidence: float | None = None
    frustration: tuple[str, ...] = ()


async def understand(agent: Any, sender_id: str, text: str, metadata: dict[str, Any] | None) -> Turn:
    """Parse a typed message and look for clear frustration (bot/services/frustration.py).

    A frustrated message goes on as `request_human`, so the dialogue's handoff rules apply wherever the
    conversation is (a form included); the signals travel in its metadata, for action_handoff to give
    the reason. Button payloads ("/intent") are the customer's clicks: parsed by Rasa as always.
    """
    if text.startswith("/") or not text.strip():
        return Turn(None, metadata)
    parse_data = await agent.parse_message(text)
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    now = datetime.now(timezone.utc)
    assessment = assess(text, name, earlier_turns(metadata), now, in_form=in_a_form(sender_id))
    turn = Turn(parse_data, metadata, name, confidence)
    if not assessment.frustrated or name == "complaint":
        return turn  # a complaint goes to a person anyway, as a complaint
    log.info("conversation %s: frustration (%s); handing over", sender_id, assessment.describe())
    escalated = {**parse_data, "intent": {"name": ESCALATION_INTENT, "confidence": 1.0}}
    return Turn(
        escalated,
        {**(metadata or {}), "frustration": list(assessment.signals)},
        name,
        confidence,
        assessment.signals,
    )


def earlier_turns(metadata: dict[str, Any] | None) -> list[EarlierTurn]:
    """The customer's last few messages that the bot answered, oldest first, as the gateway saw them.

    The gateway's transcript, not Rasa's tracker, knows what the customer was really shown: a question
    that got "I'm having trouble right now" was never answered, and asking it again is no repeat.
    """
    raw = (metadata or {}).get("earlier_turns")
    if not isinstance(raw, list):
        return []
    turns = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        intent = item.get("intent") if isinstance(item.get("intent"), str) else None
        turns.append(EarlierTurn(item["text"], intent, _moment(item.get("at"))))
    return turns


def _moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _understanding(tracker: Any) -> dict[str, Any]:
    """Intent, confidence and language of the turn just handled, from the conversation's tracker.

    The gateway sends one message of a conversation at a time, so the tracker's latest user message is
    the one this request carried.
    """
    if tracker is None:
        return {"intent": None, "confidence": None, "language": None}
    intent = tracker.latest_message.intent or {}
    language = tracker.get_slot("language")
    return {
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "language": language if isinstance(language, str) else None,
    }
