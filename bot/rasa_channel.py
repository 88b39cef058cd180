"""Rasa input channel for the gateway: the REST channel's replies plus what NLU made of the message.

About 330 lines on purpose: it runs inside Rasa's process, so the channel, its check of the gateway's
signature and the reading of a turn's understanding travel together and import nothing of the gateway.

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

What reaches the dialogue (issue 16):
- Text that starts with "/" is Rasa's syntax for an intent ("/request_human", '/order_status{"order_id": 1}'),
  which would skip NLU and the frustration rules. It counts as a button click only if it is the payload of
  a button of the bot's last message (the widget shows no others). Anything else is read as text: NLU and
  the frustration rules see it as a typed message.
- The gateway sends the customer's token (`customer_token`) with each turn. The channel verifies it here
  and passes on only the customer id, vouched for (bot/identity.py, `verified_customer`), so no token is
  stored in the tracker store. Of the rest of the metadata only what the dialogue reads goes on
  (`language`, `clock`); `earlier_turns` is read here and dropped, and so is anything a client made up.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jwt
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.identity import GATEWAY_CHANNEL, VERIFIED_CUSTOMER, verify_customer_token, vouch_for_customer
from bot.services.frustration import EarlierTurn, assess
from bot.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL_NAME = GATEWAY_CHANNEL  # the actions believe a vouched-for customer only from this channel
# The answer when Rasa could not take the conversation's lock: nothing of the turn happened.
NOT_HANDLED = {"error": "the conversation's lock could not be taken", "handled": False}

# The gateway's metadata that the dialogue reads (bot/session_context.py, actions/common.py); nothing else of it
# reaches the tracker store.
PASSED_ON = ("language", "clock")


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
            given = body.get("metadata")
            sent: dict[str, Any] = given if isinstance(given, dict) else {}
            # Ours, not the client's: what the customer's token vouches for is bound to this id.
            message_id = uuid.uuid4().hex
            metadata = dialogue_metadata(sender_id, message_id, sent)

            agent = request.app.ctx.agent
            turn = await understand(agent, sender_id, text, metadata, earlier_turns(sent))
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                parse_data=turn.parse_data,
                input_channel=CHANNEL_NAME,
                message_id=message_id,
                metadata=turn.metadata,
            )
            _capture_saves(agent.tracker_store)
            saved = _Saved(sender_id)
            _saving_for.set(saved)  # this request's task (and the turn Rasa runs in it) only
            # Unlike RestInput, an exception is a 500 here: the gateway must know the turn failed.
            try:
                await on_new_message(message)
            except LockError as error:
                # Raised only while taking the conversation's lock (its store unreachable, or the wait too
                # long), before Rasa did anything with the message: the gateway may send it again.
                log.warning("conversation %s: not handled, no lock (%s)", sender_id, str(error).splitlines()[0])
                return response.json(NOT_HANDLED, status=503)
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


async def understand(
    agent: Any, sender_id: str, text: str, metadata: dict[str, Any], earlier: list[EarlierTurn]
) -> Turn:
    """Parse a typed message and look for clear frustration (bot/services/frustration.py).

    A frustrated message goes on as `request_human`, so the dialogue's handoff rules apply wherever the
    conversation is (a form included); the signals travel in its metadata, for action_handoff to give
    the reason. A button's payload ("/intent") is the customer's click, parsed by Rasa as always, but only
    when the bot's last message offered that button; any other "/..." is read as typed text.
    """
    if not text.strip():
        return Turn(None, metadata)
    if slash_syntax(text):
        if text in offered_payloads(await _events(agent, sender_id)):
            return Turn(None, metadata)
        # Not offered: typed, a button the widget no longer shows, or made up. The gateway sends clicks and
        # typing alike as `message`, and typed text is text: NLU and the frustration rules read it, without
        # Rasa's "/" syntax. Text rather than a refusal: a customer who types "/hjelp" gets an answer, and
        # a refusal would need new wording in four languages for what only a hand-made client sends.
        parse_data = {**await agent.parse_message(as_text(text)), "text": text}
    else:
        parse_data = await agent.parse_message(text)
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    now = datetime.now(timezone.utc)
    assessment = assess(text, name, earlier, now, in_form=in_a_form(sender_id))
    turn = Turn(parse_data, metadata, name, confidence)
    if not assessment.frustrated or name == "complaint":
        return turn  # a complaint goes to a person anyway, as a complaint
    log.info("conversation %s: frustration (%s); handing over", sender_id, assessment.describe())
    escalated = {**parse_data, "intent": {"name": ESCALATION_INTENT, "confidence": 1.0}}
    return Turn(
        escalated,
        {**metadata, "frustration": list(assessment.signals)},
        name,
        confidence,
        assessment.signals,
    )


def dialogue_metadata(sender_id: str, message_id: str, sent: dict[str, Any] | None) -> dict[str, Any]:
    """What of the gateway's metadata goes into the message Rasa stores and the actions read.

    The customer's token is verified here and stays out; a valid one becomes the vouched-for customer id
    (bot/identity.py), which only this channel sets: a `verified_customer` in `sent` is dropped like any
    other key the dialogue does not read.
    """
    if not isinstance(sent, dict):
        return {}
    metadata = {key: sent[key] for key in PASSED_ON if key in sent}
    customer_id = verify_customer_token(sent.get("customer_token"))
    if customer_id is not None:
        metadata[VERIFIED_CUSTOMER] = vouch_for_customer(sender_id, message_id, customer_id)
    return metadata


def slash_syntax(text: str) -> bool:
    """Would Rasa read this as "/intent{entities}"? (It strips the text first: RegexMessageHandler.)"""
    return text.strip().startswith("/")


_SLASH_PREFIX = re.compile(r"^[\s/]+")


def as_text(text: str) -> str:
    """The text without Rasa's "/" syntax for NLU: leading slashes become spaces, so entity offsets still
    point into the text as the customer typed it."""
    return _SLASH_PREFIX.sub(lambda prefix: " " * len(prefix.group()), text)


async def _events(agent: Any, sender_id: str) -> Iterable[Any]:
    tracker = await agent.tracker_store.retrieve(sender_id)
    return tracker.events if tracker is not None else ()


def offered_payloads(events: Iterable[Any]) -> set[str]:
    """The payloads of the buttons of the bot's last message: the only buttons the widget still shows."""
    for event in reversed(list(events)):
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons")
            if not isinstance(buttons, list):
                return set()
            return {b["payload"] for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)}
    return set()


def earlier_turns(metadata: dict[str, Any]) -> list[EarlierTurn]:
    """The customer's last few messages that the bot answered, oldest first, as the gateway saw them.

    The gateway's transcript, not Rasa's tracker, knows what the customer was really shown: a question
    that got "I'm having trouble right now" was never answered, and asking it again is no repeat.
    """
    raw = metadata.get("earlier_turns")
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
