"""Staff accounts: hashed passwords, log-in, and the demo passwords a production start refuses."""

from sqlalchemy import select

from bot.services.staff import authenticate, demo_passwords_in_use, set_availability, set_password
from bot.store.db import session_scope
from bot.store.staff import StaffUser


def test_demo_staff_are_seeded_with_hashed_passwords(shop: str) -> None:
    with session_scope() as session:
        users = {u.username: u for u in session.execute(select(StaffUser)).scalars()}
    assert {name: (u.name, u.role) for name, u in users.items()} == {
        "agent.anne": ("Anne", "agent"),
        "agent.per": ("Per", "agent"),
        "trainer.tor": ("Tor", "trainer"),
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
        assert set(demo_passwords_in_use(session)) == {"agent.anne", "agent.per", "trainer.tor"}
        for username in ("agent.anne", "agent.per", "trainer.tor"):
            set_password(session, username, f"a much longer secret for {username}")
        set_availability(session, "agent.anne", "available")
    seed_demo()
    with session_scope() as session:
        assert demo_passwords_in_use(session) == []
        assert authenticate(session, "agent.anne", "a much longer secret for agent.anne") is not None
