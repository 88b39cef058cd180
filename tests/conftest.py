"""Test set-up: a test database of its own, and one real Rasa stack (Rasa + action server) per run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before anything reads the settings: this run's own SQLite files, never the developer's.
# Test modules import this file as `tests.conftest` too (POSTGRES_URL): that second import must find
# the same folder, or the servers this run starts would read other files than the tests.
RUN_DIR = Path(os.environ.get("BOT_TEST_RUN_DIR") or tempfile.mkdtemp(prefix="varde-tests-"))
os.environ["BOT_TEST_RUN_DIR"] = str(RUN_DIR)
os.environ["BOT_DATABASE_URL"] = f"sqlite:///{RUN_DIR / 'shop.db'}"
os.environ["BOT_TRACKER_DATABASE_URL"] = f"sqlite:///{RUN_DIR / 'tracker.db'}"
os.environ.setdefault("BOT_ENV", "development")

from bot.services import staff as staff_service  # noqa: E402
from bot.settings import PROJECT_ROOT, get_settings  # noqa: E402
from bot.shop import shop_data  # noqa: E402
from bot.store.seed import seed_demo  # noqa: E402
from tests.support import RasaStack, free_port  # noqa: E402


def _demo_hashes_once() -> None:
    """Seeding a new database hashes shop.yml's four demo staff passwords with argon2 (0.2 s each): a fast
    run seeded 34 new databases, 24 s of the same four hashes. In this process each demo password is
    hashed once, for real (argon2id, the production parameters), and that hash is used again: only its salt
    is shared between the run's databases. Every other password (added users, changed passwords, the
    unknown-username check in authenticate) is hashed anew each time, as in production. `python -m bot`
    subprocesses hash as always."""
    if getattr(staff_service.hash_password, "demo_hashes_once", False):
        return  # this file imported a second time, as tests.conftest
    demo = {raw["password"] for raw in shop_data()["staff"]}
    real = staff_service.hash_password
    hashed: dict[str, str] = {}

    def hash_password(password: str) -> str:
        if password not in demo:
            return real(password)
        if password not in hashed:
            hashed[password] = real(password)
        return hashed[password]

    hash_password.demo_hashes_once = True  # type: ignore[attr-defined]
    staff_service.hash_password = hash_password  # type: ignore[assignment]


_demo_hashes_once()

POSTGRES_URL = os.environ.get("BOT_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
# Free ports by default, so two test runs on one machine never meet; set them to watch a run's servers.
TEST_RASA_PORT = int(os.environ.get("BOT_TEST_RASA_PORT", "0")) or free_port()
TEST_ACTIONS_PORT = int(os.environ.get("BOT_TEST_ACTIONS_PORT", "0")) or free_port()


# Folders whose tests train models or drive the whole service; `make test-fast` leaves them out.
SLOW_FOLDERS = ("training", "browser", "bench", "server", "rasa", "scale")


def _mark_slow(items: list[pytest.Item]) -> None:
    """Mark `slow` what needs a trained model, a live Rasa or a browser: the fast tier is the rest."""
    for item in items:
        folder = Path(str(item.fspath)).relative_to(PROJECT_ROOT / "tests").parts[0]
        if folder in SLOW_FOLDERS or "trained_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def shop() -> str:
    """A freshly seeded demo shop in this run's SQLite database; returns its URL."""
    url = get_settings().database_url
    seed_demo(url)
    return url


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """Train once per run, or reuse the model when the training data has not changed."""
    subprocess.run([sys.executable, "-m", "bot", "train"], cwd=PROJECT_ROOT, check=True)
    return PROJECT_ROOT / "models" / "varde.tar.gz"


@pytest.fixture(scope="session")
def rasa_stack(trained_model: Path) -> Iterator[RasaStack]:
    seed_demo(get_settings().database_url)
    env = dict(os.environ)
    env["BOT_RASA_URL"] = f"http://127.0.0.1:{TEST_RASA_PORT}"
    env["BOT_ACTION_SERVER_URL"] = f"http://127.0.0.1:{TEST_ACTIONS_PORT}"
    env["BOT_RASA_JWT_SECRET"] = get_settings().rasa_jwt_secret
    stack = RasaStack(env=env, rasa_port=TEST_RASA_PORT, actions_port=TEST_ACTIONS_PORT, log_dir=RUN_DIR)
    stack.start("actions")
    stack.start("rasa")
    try:
        stack.wait_healthy("actions")
        stack.wait_healthy("rasa")
        yield stack
    finally:
        stack.stop("rasa")
        stack.stop("actions")


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test module whose tests mostly wait on subprocesses may start them now, in the background, while the
    run goes on: its `begin_in_background(names of its chosen tests)`, if it has one."""
    if session.config.option.collectonly:
        return
    chosen: dict[Any, list[str]] = {}
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "begin_in_background"):
            chosen.setdefault(module, []).append(item.name)
    for module, names in chosen.items():
        module.begin_in_background(names)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread until
    the session ends, and asyncio tests cannot start their own loop after it."""
    items.sort(key=lambda item: "tests/browser/" in str(item.path))
    _mark_slow(items)
