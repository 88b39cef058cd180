"""When Rasa starts a new session of a long conversation: what bounds the cost of a turn.

On every turn Rasa's SQL tracker store loads each event since the conversation's latest
`session_started` and replays it, and each policy featurizes every turn of that session before cutting
to its `max_history`. A turn's time therefore grows with the session (README, Scale: +473 ms per 100
turns on this loaded machine). Rasa itself starts a session only after `session_expiration_time` idle,
so a long conversation in one sitting was never cut.

Here Rasa also starts one when the session holds `BOT_SESSION_MAX_TURNS` customer messages, but only at
rest: when nothing the assistant still needs is older than the slots, which Rasa's ActionSessionStart
carries over (domain.yml, `carry_over_slots_to_new_session`). At rest means:
- no form is active: its progress lives in the active loop, which a new session does not carry;
- no follow-up action is pending (action_handoff starts the ticket form that way);
- the bot's last message offered no buttons: a click is taken only while its buttons are the last ones
  shown (bot/rasa_channel.py reads them from the session's events);
- the last turn was not a misunderstanding: action_fallback counts them in a row from the session's
  events (actions/handoff.py), and two in a row must still reach a person.
Otherwise the session goes on and the check comes back at the next customer message.

The check runs in Rasa's MessageProcessor before the new message is added (bot/rasa_main.py installs
it), so the message that finds the session long lands in the new one.
"""

from __future__ import annotations

from typing import Any

FALLBACK_ACTION = "action_fallback"  # actions/handoff.py (bot/ never imports actions/)


def turns_in_session(events: list[Any]) -> int:
    """Customer messages since the latest session start (the tracker store may hold older sessions)."""
    from rasa.shared.core.events import SessionStarted, UserUttered

    count = 0
    for event in reversed(events):
        if isinstance(event, SessionStarted):
            break
        count += isinstance(event, UserUttered)
    return count


def at_rest(tracker: Any) -> bool:
    """Nothing pending that a new session would lose: no form, no follow-up, no buttons, no misunderstanding."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted

    if tracker.active_loop_name or tracker.followup_action:
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
    return max_turns > 0 and turns_in_session(list(tracker.events)) >= max_turns and at_rest(tracker)
