"""The agents' open consoles in this process, and what they hear from the desk and from other processes.

- desk_changed(): the queue, the tickets or who has which conversation changed. Every console reloads
  its snapshot from the database (the truth, whichever process changed it), so no update can be lost
  or applied twice; bursts are folded into one reload per console.
- note_added(): an internal note, to the consoles showing that conversation only. Notes never pass
  through the relay, which also feeds the customers' widgets.
- Each event is also published on the broker's console topic for the other gateway processes.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.web.broker import CONSOLE, Broker

log = logging.getLogger(__name__)


class Console(Protocol):
    """An agent's open console socket (bot/console/socket.py)."""

    username: str
    watching: str | None

    def refresh(self) -> None: ...

    def note(self, conversation_id: str, note: dict[str, Any]) -> None: ...

    def log_out(self) -> None: ...


def logout_event(username: str) -> dict[str, Any]:
    """The console topic's event that closes a user's open consoles in every gateway process (sent by a
    log-out here, and by `python -m bot staff sign-out | password`, bot/console/staff_commands.py)."""
    return {"kind": "logout", "username": username}


class ConsoleHub:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._consoles: set[Console] = set()

    def add(self, console: Console) -> None:
        self._consoles.add(console)

    def remove(self, console: Console) -> None:
        self._consoles.discard(console)

    def desk_changed(self) -> None:
        self._refresh()
        self._broker.publish(CONSOLE, {"kind": "desk"})

    def note_added(self, conversation_id: str, note: dict[str, Any]) -> None:
        self._note(conversation_id, note)
        self._broker.publish(CONSOLE, {"kind": "note", "conversation_id": conversation_id, "note": note})

    def logged_out(self, username: str) -> None:
        """Close that agent's consoles everywhere: the session they belonged to is gone."""
        self._log_out(username)
        self._broker.publish(CONSOLE, logout_event(username))

    def deliver_remote(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "desk":
            self._refresh()
        elif kind == "note" and isinstance(event.get("note"), dict):
            self._note(str(event.get("conversation_id")), event["note"])
        elif kind == "logout":
            self._log_out(str(event.get("username")))

    def _refresh(self) -> None:
        for console in list(self._consoles):
            console.refresh()

    def _note(self, conversation_id: str, note: dict[str, Any]) -> None:
        for console in list(self._consoles):
            if console.watching == conversation_id:
                console.note(conversation_id, note)

    def _log_out(self, username: str) -> None:
        for console in list(self._consoles):
            if console.username == username:
                console.log_out()
