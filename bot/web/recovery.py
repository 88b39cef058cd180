"""Turns nobody is working on any more, because the gateway that had them stopped or died: re-driven
through Rasa, or closed with a plain word to the customer (issue 15).

Runs when a gateway starts, and then every SWEEP_SECONDS, so a live gateway also picks up what a dead
peer left. What is open (bot/store/turns.py, open_turns):

- a `received` turn older than SETTLE_SECONDS (a live gateway claims its own within moments) in a
  conversation with no turn at Rasa that someone may still be waiting on. Younger than
  BOT_TURN_REDRIVE_MAX_AGE_SECONDS it goes to Rasa again, in seq order, through the relay's queue, which
  claims it with a conditional UPDATE first: with several gateways sweeping at once, one answers it.
  Older, it is marked failed and the customer is told once ("sorry, please ask again"), in the same
  transaction, by whichever gateway moved it.
- a `sent_to_rasa` turn whose heartbeat stopped (a gateway touches the turns it has at Rasa every
  HEARTBEAT_SECONDS; untouched for ABANDONED_SECONDS, 40 s): its gateway died while Rasa had it. Rasa may
  have handled it (its state moved on), so it is never sent again: the customer is told, as for an old
  one, within about ABANDONED_SECONDS + SWEEP_SECONDS of the death.

Tokens are never stored, so a signed-in customer's re-driven turn carries a token the gateway signs for
REDRIVE_TOKEN_SECONDS, for the customer id the conversation holds: the one the gateway verified from
the customer's own token when the conversation was opened or adopted. It asserts nothing the gateway did
not check; without it Rasa would answer a signed-in customer as a guest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from itertools import groupby

from sqlalchemy.exc import SQLAlchemyError

from bot.identity import sign_customer_token
from bot.settings import Settings
from bot.store import turns
from bot.store.conversations import TurnState
from bot.store.models import utcnow
from bot.web.database import Database
from bot.web.rasa_turns import Turn
from bot.web.relay import Relay

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0
SWEEP_SECONDS = 60.0
RASA_WAIT_SECONDS = 5.0
# A re-driven turn's token for the conversation's verified customer: long enough for the turn, no longer.
REDRIVE_TOKEN_SECONDS = 120


async def sweep(db: Database, relay: Relay, settings: Settings) -> tuple[int, int]:
    """One pass: (turns re-driven, conversations told their turn was lost)."""
    now = utcnow()
    found = await db.run(
        turns.open_turns,
        now - timedelta(seconds=SETTLE_SECONDS),
        now - timedelta(seconds=turns.ABANDONED_SECONDS),
    )
    redriven = told = 0
    for conversation_id, group in groupby(found, key=lambda turn: turn.message.conversation_id):
        lost: list[turns.OpenTurn] = []
        again: list[turns.OpenTurn] = []
        for turn in group:
            too_old = turns.age(turn, now).total_seconds() > settings.turn_redrive_max_age_seconds
            (lost if turn.message.turn_state == TurnState.SENT_TO_RASA or too_old else again).append(turn)
        if lost:
            # Told first, so the "sorry" comes before the answers to what the customer wrote after it.
            language = lost[-1].message.language or lost[-1].conversation_language
            if await relay.close_lost(conversation_id, [turn.message.id for turn in lost], language):
                told += 1
        for turn in again:
            relay.redrive(Turn(turn.message, _metadata(turn, settings), time.monotonic()))
            redriven += 1
    if found:
        log.info("recovery: %d open turn(s); %d sent to Rasa again, %d conversation(s) told", len(found),
                 redriven, told)  # fmt: skip
    return redriven, told


def _metadata(turn: turns.OpenTurn, settings: Settings) -> dict[str, object]:
    metadata: dict[str, object] = {"language": turn.message.language or turn.conversation_language}
    if turn.customer_id:
        metadata["customer_token"] = sign_customer_token(turn.customer_id, REDRIVE_TOKEN_SECONDS)
    if settings.clock:
        metadata["clock"] = settings.clock
    return metadata


async def keep_sweeping(
    db: Database,
    relay: Relay,
    settings: Settings,
    rasa_ready: Callable[[], Awaitable[bool]],
    every: float = SWEEP_SECONDS,
) -> None:
    """At start-up, then every `every` seconds while the gateway takes turns; only while Rasa is up (a
    start with the whole stack has Rasa loading its model for a while), checked every RASA_WAIT_SECONDS."""
    while relay.taking_turns:
        if not await rasa_ready():
            await asyncio.sleep(RASA_WAIT_SECONDS)
            continue
        try:
            await sweep(db, relay, settings)
        except SQLAlchemyError as error:
            log.warning("recovery: database unavailable (%s); trying again in %.0f s", type(error).__name__, every)
        except Exception:
            log.exception("recovery: sweep failed")
        await asyncio.sleep(every)
