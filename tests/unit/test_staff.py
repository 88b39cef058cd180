"""Staff accounts: hashed passwords, log-in, and the demo passwords a production start refuses."""

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.services.staff import authenticate, demo_passwords_in_use, set_availability, set_password
from bot.store.db import session_scope
from bot.store.staff import StaffUser
from tests.gateway.desk_support import quiet_desk


@pytest.fixture(autouse=True)
def demo_staff_afterwards() -> Iterator[None]:
    """Tests here change the demo staff's passwords in the run's shared database: the next file's tests
    (test_login_guard.py logs in with them) must find them as seeded, whatever the order."""
    yield
    quiet_desk()


def test_demo_staff_are_seeded_with_hashed_passwords(shop: str) -> None:
    with session_scope() as session:
        users = {u.username: u for u in session.execute(select(StaffUser)).scalars()}
    assert {name: (u.name, u.role) for name, u in users.items()} == {
        "agent.anne": ("Anne", "agent"),
        "agent.per": ("Per", "agent"),
        "trainer.tor": ("Tor", "trainer"),
        "lead.liv": ("Liv", "lead"),
    }
    assert all(u.password_hash.startswith("$argon2id$") and "demo" not in u.password_hash for u in users.values())


def test_log_in_with_the_right_password_only(shop: str) -> None:
    with session_scope() as session:
        assert authenticate(session, "agent.anne", "demo-agent").name == "Anne"
        assert authenticate(session, "agent.anne", "demo-trainer") is None
        assert authenticate(session, "nobody", "demo-agent") is None
        assert authenticate(session, "agent.anne", None) is None
        assert authenticate(session, {"$ne": 1}, "x") is None


def test_changed_passwords_survive_reseeding_and_clear_the_production_check(shop: str) -> None:
    from bot.store.seed import seed_demo

    with session_scope() as session:
        assert set(demo_passwords_in_use(session)) == {"agent.anne", "agent.per", "trainer.tor", "lead.liv"}
        for username in ("agent.anne", "agent.per", "trainer.tor", "lead.liv"):
            set_password(session, username, f"a much longer secret for {username}")
        set_availability(session, "agent.anne", "available")
    seed_demo()
    with session_scope() as session:
        assert demo_passwords_in_use(session) == []
        assert authenticate(session, "agent.anne", "a much longer secret for agent.anne") is not None


def test_adding_a_staff_user_checks_what_it_is_given(shop: str) -> None:
    from bot.services.staff import add_staff_user

    with session_scope() as session:
        for username, name, role, password, why in [
            ("Bad Name", "X", "agent", "long enough password", "a username is"),
            ("ingrid", "Ingrid", "boss", "long enough password", "role must be"),
            ("ingrid", " ", "agent", "long enough password", "a name is"),
            ("ingrid", "Ingrid", "agent", "short", "at least 12"),
            ("agent.anne", "Anne", "agent", "long enough password", "exists already"),
        ]:
            with pytest.raises(ValueError, match=why):
                add_staff_user(session, username, name, role, password)
        add_staff_user(session, "agent.ingrid", "Ingrid", "agent", "a long and new password")
    try:
        with session_scope() as session:
            assert authenticate(session, "agent.ingrid", "a long and new password").role == "agent"
    finally:
        with session_scope() as session:  # the run's database is shared: the demo staff only, again
            session.delete(session.get(StaffUser, "agent.ingrid"))


def test_a_new_password_ends_the_users_sessions_and_the_production_check_passes_only_then(shop: str) -> None:
    from bot.identity import hash_password
    from bot.services.staff import refuse_demo_passwords
    from bot.settings import SettingsError
    from bot.shop import shop_data

    with session_scope() as session:  # the demo passwords, whatever other tests of the run changed
        for raw in shop_data()["staff"]:
            user = session.get(StaffUser, raw["username"])
            user.password_hash, user.sessions_valid_after = hash_password(raw["password"]), None
    with session_scope() as session:
        with pytest.raises(
            SettingsError,
            match=re.escape("agent.anne, agent.per, trainer.tor, lead.liv still have their demo password"),
        ):
            refuse_demo_passwords(session)
        assert session.get(StaffUser, "agent.anne").sessions_valid_after is None
        for username in ("agent.anne", "agent.per", "trainer.tor", "lead.liv"):
            set_password(session, username, f"a much longer secret for {username}")
    with session_scope() as session:
        refuse_demo_passwords(session)  # no demo password left: no error
        assert session.get(StaffUser, "agent.anne").sessions_valid_after is not None
