"""Staff accounts: demo users from shop.yml, log-in, availability, and the production password check."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.identity import hash_password, verify_password
from bot.shop import shop_data
from bot.store.models import utcnow
from bot.store.staff import AVAILABILITY, ROLES, StaffUser

log = logging.getLogger(__name__)

# An open console marks its agent seen every 30 s; after this long without it, the agent is gone.
PRESENCE_WINDOW = timedelta(minutes=2)


def ensure_demo_staff(session: Session) -> int:
    """Add shop.yml's staff users that are missing; existing accounts (and changed passwords) stay."""
    added = 0
    for raw in shop_data()["staff"]:
        if session.get(StaffUser, raw["username"]) is None:
            session.add(
                StaffUser(
                    username=raw["username"],
                    name=raw["name"],
                    role=raw["role"],
                    password_hash=hash_password(raw["password"]),
                )
            )
            added += 1
    return added


def demo_passwords_in_use(session: Session) -> list[str]:
    """Usernames that still log in with the demo password from shop.yml (refused in production)."""
    in_use = []
    for raw in shop_data()["staff"]:
        user = session.get(StaffUser, raw["username"])
        if user is not None and verify_password(user.password_hash, raw["password"]):
            in_use.append(user.username)
    return in_use


def authenticate(session: Session, username: object, password: object) -> StaffUser | None:
    if not isinstance(username, str) or len(username) > 64:
        return None
    user = session.get(StaffUser, username)
    if user is None:
        hash_password("timing")  # as slow as a real check, so the answer time reveals no usernames
        return None
    return user if verify_password(user.password_hash, password) else None


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < 12:
        raise ValueError("a staff password needs at least 12 characters")
    user = session.get(StaffUser, username)
    if user is None:
        raise LookupError(f"no staff user {username!r}")
    user.password_hash = hash_password(password)
    log.info("password changed for staff user %s", username)


def set_availability(session: Session, username: str, availability: str) -> None:
    if availability not in AVAILABILITY:
        raise ValueError(f"availability must be one of {AVAILABILITY}")
    user = session.get(StaffUser, username)
    if user is None:
        raise LookupError(f"no staff user {username!r}")
    user.availability = availability
    user.last_seen_at = utcnow()


def mark_seen(session: Session, username: str) -> None:
    """The agent's console is open now (its socket says so every HEARTBEAT while it is)."""
    session.execute(
        update(StaffUser)
        .where(StaffUser.username == username)
        .values(last_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def available_agents(session: Session, seen_since: datetime | None = None) -> list[StaffUser]:
    """Agents who said they are available and whose console is open: someone who closed the browser
    without logging out is not counted, so no customer is told to wait for a person who is gone.
    `seen_since` asks for more recent presence than the usual window."""
    since = max(utcnow() - PRESENCE_WINDOW, seen_since) if seen_since else utcnow() - PRESENCE_WINDOW
    return list(
        session.execute(
            select(StaffUser).where(
                StaffUser.role == "agent", StaffUser.availability == "available", StaffUser.last_seen_at >= since
            )
        ).scalars()
    )


__all__ = ["ROLES", "authenticate", "available_agents", "demo_passwords_in_use", "ensure_demo_staff"]
