"""When Rasa starts a new session of a long conversation: what bounds the cost of a turn.

On every turn Rasa's SQL tracker store loads each event since the conversation's latest
`session_started` and replays it, and each policy featurizes every turn of that session before cutting
to its `max_history`. A turn's time therefore grows with the session (README, Scale: +473 ms per 100
turns on this loaded machine). Rasa itself starts a session only after `session_expiration_time` idle,
so a long conversation in one sitting was never cut.

Here Rasa also starts one when the session holds `BOT_SESSION_MAX_TURNS` customer messages, but only at
rest: when nothing the assistant still needs is older than what the new session starts with. Rasa's
ActionSessionStart carries the slots over (domain.yml, `carry_over_slots_to_new_session`); a form in
progress (its active loop: the slots hold its answers and the question it asked) is carried over too
when the session ends for its length, so a customer who chats on while a form waits for an answer can
still give it. After an hour idle Rasa forgets the form, as it always has. At rest means:
- no follow-up action is pending (action_handoff starts the ticket form that way);
- a form in progress, if any, did not just reject the customer's answer;
- the bot's last message offered no buttons: a click is taken only while its buttons are the last ones
  shown (bot/rasa_channel.py reads them from the session's events);
- the last turn was not a misunderstanding: action_fallback counts them in a row from the session's
  events (actions/handoff.py), and two in a row must still reach a person.
Otherwise the session goes on and the check comes back at the next customer message.

The check runs in Rasa's MessageProcessor before the new message is added, so the message that finds
the session long lands in the new one; bot/rasa_main.py installs it, and the carrying of the form in
Rasa's ActionSessionStart.
"""

from __future__ import annotations

import time
from collections.abc import Reversible
from typing import Any

FALLBACK_ACTION = "action_fallback"  # actions/handoff.py (bot/ never imports actions/)


def turns_in_session(events: Reversible[Any]) -> int:
    """Customer messages since the latest session start (the tracker store may hold older sessions)."""
    from rasa.shared.core.events import SessionStarted, UserUttered

    count = 0
    for event in reversed(events):  # a list or the tracker's deque
        if isinstance(event, SessionStarted):
            break
        count += isinstance(event, UserUttered)
    return count


def at_rest(tracker: Any) -> bool:
    """Nothing pending that a new session would lose: no follow-up, no rejected answer, no buttons, no
    misunderstanding."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted

    if tracker.followup_action or (tracker.active_loop_name and tracker.active_loop.rejected):
        return False
    buttons_checked = last_action_checked = False
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        if isinstance(event, BotUttered) and not buttons_checked:
            if (event.data or {}).get("buttons"):
                return False
            buttons_checked = True
        elif isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME and not last_action_checked:
            if event.action_name == FALLBACK_ACTION:
                return False
            last_action_checked = True
        if buttons_checked and last_action_checked:
            break
    return True


def should_start_new_session(tracker: Any, max_turns: int) -> bool:
    """A session of `max_turns` customer messages or more, at rest (module docstring); `max_turns` 0: never."""
    return max_turns > 0 and turns_in_session(tracker.events) >= max_turns and at_rest(tracker)


def idle_minutes(tracker: Any) -> float:
    """Minutes since the customer's latest message (0 without one): what Rasa's own session expiry measures."""
    from rasa.shared.core.events import UserUttered

    latest = tracker.get_last_event_for(UserUttered)
    return (time.time() - latest.timestamp) / 60 if latest else 0.0


def last_value_per_slot(events: list[Any]) -> list[Any]:
    """The events with one SlotSet per slot, its last, where it stood: Rasa's ActionSessionStart copies every
    SlotSet of the old session, so each new session began with all the slot changes of the ones before
    (a form sets `requested_slot` at every question) and grew again. The slots' values are the same."""
    from rasa.shared.core.events import SlotSet

    last = {event.key: index for index, event in enumerate(events) if isinstance(event, SlotSet)}
    keep = set(last.values())
    return [event for index, event in enumerate(events) if not isinstance(event, SlotSet) or index in keep]


def keep_the_form(events: list[Any], tracker: Any, expiration_minutes: float) -> list[Any]:
    """ActionSessionStart's events for the session after `tracker`'s, with the form in progress carried
    over when that session ends for its length, not for being idle: an ActiveLoop before the final
    action_listen (the slots, its answers and `requested_slot` among them, are already carried)."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, ActiveLoop

    form = tracker.active_loop_name
    if not form or idle_minutes(tracker) > expiration_minutes:
        return events
    listen = len(events)
    if events and isinstance(events[-1], ActionExecuted) and events[-1].action_name == ACTION_LISTEN_NAME:
        listen -= 1
    return [*events[:listen], ActiveLoop(form), *events[listen:]]
