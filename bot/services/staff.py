"""Staff accounts: demo users from shop.yml, log-in, availability, and the production password check."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.identity import hash_password, verify_password
from bot.settings import SettingsError
from bot.shop import shop_data
from bot.store.models import utcnow
from bot.store.staff import AVAILABILITY, ROLES, Availability, StaffRole, StaffUser

log = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 12
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")

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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a staff password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > 1024:
        raise ValueError("a staff password can have at most 1024 characters")


def add_staff_user(session: Session, username: str, name: str, role: str, password: str) -> StaffUser:
    if not USERNAME.fullmatch(username):
        raise ValueError("a username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if not name.strip() or len(name) > 200:
        raise ValueError("a name is 1-200 characters")
    _check_password(password)
    if session.get(StaffUser, username) is not None:
        raise ValueError(f"staff user {username!r} exists already")
    user = StaffUser(username=username, name=name.strip(), role=role, password_hash=hash_password(password))
    session.add(user)
    log.info("staff user %s added (%s)", username, role)
    return user


def set_password(session: Session, username: str, password: str) -> None:
    """A new password; every session of the old one ends."""
    _check_password(password)
    user = session.get(StaffUser, username)
    if user is None:
        raise LookupError(f"no staff user {username!r}")
    user.password_hash = hash_password(password)
    user.sessions_valid_after = utcnow()
    log.info("password changed for staff user %s; their sessions are ended", username)


def sign_out_everywhere(session: Session, username: str) -> bool:
    """End every console session of this user (log-out, a lost laptop), who is then away and takes no
    chats; False if there is no such user."""
    changed = session.execute(
        update(StaffUser)
        .where(StaffUser.username == username)
        .values(sessions_valid_after=utcnow(), availability=Availability.AWAY)
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1


def refuse_demo_passwords(session: Session) -> None:
    """A production start refuses staff users who still log in with shop.yml's demo passwords."""
    in_use = demo_passwords_in_use(session)
    if in_use:
        raise SettingsError(
            "Refusing a production start: staff user(s) "
            + ", ".join(in_use)
            + " still have their demo password; set one with `python -m bot staff password USERNAME`"
        )


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
                StaffUser.role == StaffRole.AGENT,
                StaffUser.availability == Availability.AVAILABLE,
                StaffUser.last_seen_at >= since,
            )
        ).scalars()
    )


__all__ = [
    "ROLES",
    "StaffRole",
    "authenticate",
    "available_agents",
    "demo_passwords_in_use",
    "ensure_demo_staff",
    "sign_out_everywhere",
]
