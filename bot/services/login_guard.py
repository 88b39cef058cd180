"""Console log-in with a brake on password guessing.

Failed log-ins are stored (the database is shared by every gateway process, so the count holds however
many there are). Too many failures for one username within the window lock that username; many more
from one address lock the address, which catches one guesser trying many usernames. While locked, the
password is not even checked, so a guess during the lock learns nothing. A successful log-in forgets
the username's failures.

Each attempt is counted *before* its password is checked, in one step that cannot interleave with
another attempt's: under a lock (PostgreSQL: a transaction-level advisory lock; SQLite: the database's
write lock, which the step's first statement takes), it counts the failures in the window and, if there
is room, records this attempt as a failure, and commits. Only then is the password checked (argon2, the
slow part, outside the lock); the right one deletes the username's failures, this one included. So
however many guesses arrive at once, from however many gateway processes, at most the limit of them
get their password checked.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.services.staff import authenticate
from bot.store.models import as_utc, utcnow
from bot.store.staff import LoginFailure, StaffUser

log = logging.getLogger(__name__)

# Agents of one shop often share an office address: it gets more room than a single username.
ADDRESS_ALLOWANCE = 4
# PostgreSQL's advisory lock that makes counting and recording one step ("varde", then 1).
_ADVISORY_LOCK_KEY = 0x7661726465_01


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int  # per username within the window; the address gets ADDRESS_ALLOWANCE times this
    window: timedelta


@dataclass(frozen=True)
class LoginOutcome:
    user: StaffUser | None
    # Set when the attempt was refused without checking the password: how long until it may try again.
    locked_for: timedelta | None = None
    # Whether the username is a staff account's. What was typed as one may be a password in the wrong
    # field: the log names only a username that exists.
    known_username: bool = False

    @property
    def retry_after_seconds(self) -> int:
        return math.ceil(self.locked_for.total_seconds()) if self.locked_for else 0


def _key(username: object) -> str:
    return username.strip().lower()[:64] if isinstance(username, str) else ""


def _locked_until(times: list[datetime], limit: int, window: timedelta) -> datetime | None:
    """With failures at `times` (newest first), the moment fewer than `limit` of them are in the window."""
    if len(times) < limit:
        return None
    return times[limit - 1] + window


def locked_for(
    session: Session, username: object, address: str, limits: LoginLimits, now: datetime | None = None
) -> timedelta | None:
    now = now or utcnow()
    since = now - limits.window
    ends = []
    for column, value, limit in (
        (LoginFailure.username, _key(username), limits.max_failures),
        (LoginFailure.address, address, limits.max_failures * ADDRESS_ALLOWANCE),
    ):
        times = session.scalars(
            select(LoginFailure.at)
            .where(column == value, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        until = _locked_until([as_utc(moment) for moment in times], limit, limits.window)
        if until is not None and until > now:
            ends.append(until - now)
    return max(ends) if ends else None


def _count_attempt(
    session: Session, username: object, address: str, limits: LoginLimits, now: datetime
) -> timedelta | None:
    """Check and record as one step: how long the attempt must wait, or None once it is on record as a failure.

    Commits the session: the record must be visible to every other attempt before the password is checked.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
    # The step's first write: on SQLite it takes the database's write lock, so the count below sees every
    # attempt recorded before it and none can be recorded until this one commits.
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - limits.window))
    waiting = locked_for(session, username, address, limits, now)
    if waiting is None:
        session.add(LoginFailure(username=_key(username), address=address, at=now))
    session.commit()
    return waiting


def _is_staff(session: Session, username: object) -> bool:
    return isinstance(username, str) and len(username) <= 64 and session.get(StaffUser, username) is not None


def log_in(session: Session, username: object, password: object, address: str, limits: LoginLimits) -> LoginOutcome:
    """The staff user for these credentials, or None; refused outright while the username or address is locked.

    Commits the session once before the password is checked (see the module's doc).
    """
    now = utcnow()
    address = address[:64] or "unknown"
    waiting = _count_attempt(session, username, address, limits, now)
    if waiting is not None:
        return LoginOutcome(None, waiting, _is_staff(session, username))
    user = authenticate(session, username, password)
    if user is None:
        return LoginOutcome(None, known_username=_is_staff(session, username))  # on record as a failure
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
    return LoginOutcome(user)
