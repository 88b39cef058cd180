"""The brake on password guessing at the console: locks per username and per address, and their end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from bot.services import login_guard
from bot.services.login_guard import ADDRESS_ALLOWANCE, LoginLimits, locked_for, log_in
from bot.store.db import create_schema, get_engine, session_scope
from bot.store.models import utcnow
from bot.store.postgres_admin import scratch_database
from bot.store.staff import LoginFailure
from tests.conftest import POSTGRES_URL

LIMITS = LoginLimits(max_failures=3, window=timedelta(minutes=15))


@pytest.fixture
def desk(shop: str) -> Iterator[str]:
    with session_scope() as session:
        session.execute(delete(LoginFailure))
    yield shop
    with session_scope() as session:
        session.execute(delete(LoginFailure))


def attempt(username: str, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return log_in(session, username, password, address, LIMITS)


def test_the_right_password_logs_in_and_a_wrong_one_is_counted(desk: str) -> None:
    assert attempt("agent.anne", "demo-agent").user.username == "agent.anne"
    outcome = attempt("agent.anne", "guess")
    assert outcome.user is None and outcome.locked_for is None
    with session_scope() as session:
        failure = session.scalars(select(LoginFailure)).one()
    assert (failure.username, failure.address) == ("agent.anne", "10.0.0.1")


def test_a_failure_says_whether_the_username_is_a_staff_account(desk: str) -> None:
    assert attempt("agent.anne", "guess").known_username
    assert not attempt("Hunter2-Secret!", "").known_username  # a password typed as the username
    for _ in range(LIMITS.max_failures):
        attempt("agent.per", "guess")
    locked = attempt("agent.per", "demo-agent")
    assert locked.locked_for is not None and locked.known_username


def test_too_many_failures_lock_the_username_even_for_the_right_password(desk: str) -> None:
    for _ in range(LIMITS.max_failures):
        assert attempt("Agent.Anne ", "guess").locked_for is None  # the same account, however it is typed
    locked = attempt("agent.anne", "demo-agent")
    assert locked.user is None
    assert timedelta(minutes=14) < locked.locked_for <= LIMITS.window
    assert 840 < locked.retry_after_seconds <= 900
    # Others, from the same address, still log in: one username's lock is not the office's.
    assert attempt("agent.per", "demo-agent").user is not None
    with session_scope() as session:  # a refused attempt is not counted again: the lock doesn't grow
        assert session.scalar(select(func.count(LoginFailure.id))) == LIMITS.max_failures


def test_the_lock_ends_when_the_oldest_failure_leaves_the_window(desk: str) -> None:
    now = utcnow()
    with session_scope() as session:
        for minutes_ago in (14, 10, 1):
            session.add(
                LoginFailure(username="agent.anne", address="10.0.0.1", at=now - timedelta(minutes=minutes_ago))
            )
    with session_scope() as session:
        waiting = locked_for(session, "agent.anne", "10.0.0.1", LIMITS, now)
        assert timedelta(seconds=59) < waiting <= timedelta(minutes=1)
        assert locked_for(session, "agent.anne", "10.0.0.1", LIMITS, now + timedelta(minutes=1, seconds=1)) is None
    # Two minutes on, the oldest is out of the window: the right password works, and forgets the failures.
    with session_scope() as session:
        session.execute(delete(LoginFailure))
        for minutes_ago in (16, 12, 3):
            session.add(
                LoginFailure(username="agent.anne", address="10.0.0.1", at=now - timedelta(minutes=minutes_ago))
            )
    assert attempt("agent.anne", "demo-agent").user is not None
    with session_scope() as session:
        assert session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.username == "agent.anne")) == 0


def test_one_address_guessing_many_usernames_is_locked_too(desk: str) -> None:
    names = [f"user{i}" for i in range(LIMITS.max_failures * ADDRESS_ALLOWANCE)]
    for name in names:
        assert attempt(name, "guess", address="203.0.113.9").locked_for is None
    assert attempt("agent.anne", "demo-agent", address="203.0.113.9").locked_for is not None
    assert attempt("agent.anne", "demo-agent", address="10.0.0.1").user is not None  # elsewhere, she is fine


def test_old_failures_are_cleared_out(desk: str) -> None:
    with session_scope() as session:
        session.add(LoginFailure(username="agent.per", address="10.0.0.2", at=utcnow() - timedelta(hours=2)))
    attempt("agent.anne", "guess")
    with session_scope() as session:
        assert session.scalars(select(LoginFailure.username)).all() == ["agent.anne"]


@pytest.mark.parametrize("username", ["", None, {"$ne": 1}, "x" * 10_000, "\x00"])
def test_garbage_usernames_fail_politely(desk: str, username: object) -> None:
    outcome = attempt(username, "guess")  # type: ignore[arg-type]
    assert outcome.user is None


# --- issue 16: parallel guesses ------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of this test's own: on PostgreSQL a fresh one, so other runs on the server are untouched."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guard.db'}"
        create_schema(url)
        yield url
        get_engine(url).dispose()
        return
    with scratch_database("varde_guard", POSTGRES_URL) as url:
        create_schema(url)
        yield url


@pytest.mark.parametrize(
    ("guessers", "usernames", "limit"),
    [
        pytest.param(10, lambda i: "agent.anne", LIMITS.max_failures, id="one-username"),
        pytest.param(
            LIMITS.max_failures * ADDRESS_ALLOWANCE + 6,
            lambda i: f"user{i}",
            LIMITS.max_failures * ADDRESS_ALLOWANCE,
            id="many-usernames-one-address",
        ),
    ],
)
def test_parallel_wrong_guesses_never_get_more_than_the_limit_checked(
    database: str, monkeypatch: pytest.MonkeyPatch, guessers: int, usernames: Callable[[int], str], limit: int
) -> None:
    """The attack: fire many guesses at once. Each must be counted before its password is checked, so
    however they interleave, at most `limit` passwords are ever checked; the rest are refused as locked."""
    checked = []
    guard = threading.Lock()

    def slow_wrong_password(session, username, password):  # type: ignore[no-untyped-def]
        with guard:
            checked.append(username)
        time.sleep(0.05)  # argon2 takes about this long: the window the old check-then-record left open
        return None

    monkeypatch.setattr(login_guard, "authenticate", slow_wrong_password)
    start = threading.Barrier(guessers)
    outcomes: list[login_guard.LoginOutcome] = []
    errors: list[BaseException] = []

    def guess(i: int) -> None:
        start.wait()
        try:
            with session_scope(database) as session:
                outcome = log_in(session, usernames(i), f"guess-{i}", "198.51.100.7", LIMITS)
            with guard:
                outcomes.append(outcome)
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(outcomes) == guessers
    assert len(checked) <= limit, f"{len(checked)} passwords checked in parallel, the limit is {limit}"
    assert sum(outcome.locked_for is not None for outcome in outcomes) == guessers - len(checked)
    with session_scope(database) as session:  # every checked guess is on record, and nothing else
        assert session.scalar(select(func.count(LoginFailure.id))) == len(checked)
