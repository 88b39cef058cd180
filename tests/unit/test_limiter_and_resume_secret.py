"""The limits per client address (bot/web/limits.py), in memory and in Redis; and the guest's resume secret
(bot/store/transcript.py) on its own."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis

from bot.store.transcript import new_resume_secret, resume_secret_matches
from bot.web import limits
from bot.web.limits import LocalLimiter, RedisLimiter, limit_key, make_limiter

REDIS_URL = os.environ.get("BOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_is_there() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest_asyncio.fixture(params=["memory", "redis"], loop_scope="function")
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[LocalLimiter | RedisLimiter]:
    if request.param == "redis" and not redis_is_there():
        pytest.skip(f"no Redis at {REDIS_URL}")
    made = LocalLimiter() if request.param == "memory" else RedisLimiter(REDIS_URL)
    try:
        yield made
    finally:
        await made.close()


def fresh(kind: str) -> str:
    return limit_key(kind, f"192.0.2.{uuid.uuid4().hex}")  # a count of this test's own


async def test_events_past_the_limit_wait_until_the_oldest_leaves_the_window(limiter) -> None:
    key = fresh("message")
    assert [await limiter.hit(key, 3, 1.0) for _ in range(3)] == [None, None, None]
    wait = await limiter.hit(key, 3, 1.0)
    assert wait == 1  # whole seconds until the oldest leaves the window
    assert await limiter.hit(fresh("message"), 3, 1.0) is None  # another address is not affected
    await asyncio.sleep(1.1)
    assert await limiter.hit(key, 3, 1.0) is None  # refused ones were not counted


async def test_open_sockets_hold_places_until_released(limiter) -> None:
    key = fresh("socket")
    assert await limiter.hold(key, "a", 2) is None
    assert await limiter.hold(key, "b", 2) is None
    assert await limiter.hold(key, "a", 2) is None  # the same lease again takes no second place
    assert (await limiter.hold(key, "c", 2) or 0) >= 1
    await limiter.release(key, "a")
    assert await limiter.hold(key, "c", 2) is None


async def test_two_processes_share_the_counts_in_redis() -> None:
    if not redis_is_there():
        pytest.skip(f"no Redis at {REDIS_URL}")
    one, two = RedisLimiter(REDIS_URL), RedisLimiter(REDIS_URL)
    try:
        key = fresh("conversation")
        results = await asyncio.gather(*(limiter.hit(key, 5, 60) for limiter in [one, two] * 10))
        assert results.count(None) == 5  # never both taking the last place
    finally:
        await one.close()
        await two.close()


UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def test_redis_down_falls_back_to_limits_in_this_process(caplog: pytest.LogCaptureFixture) -> None:
    """Attack: with Redis unreachable, the limits used to let everything through (a flood while Redis is down)."""
    limiter = make_limiter(UNREACHABLE_REDIS)
    assert isinstance(limiter, RedisLimiter)
    key, sockets = fresh("message"), fresh("socket")
    try:
        with caplog.at_level(logging.INFO, logger="bot.web.limits"):
            assert [await limiter.hit(key, 3, 60) for _ in range(3)] == [None, None, None]
            assert (await limiter.hit(key, 3, 60) or 0) >= 1  # the fourth is refused here, as one process would
            assert await limiter.hit(fresh("message"), 3, 60) is None  # another address has its own count
            assert await limiter.hold(sockets, "a", 1) is None
            assert (await limiter.hold(sockets, "b", 1) or 0) >= 1
            await limiter.release(sockets, "a")
            assert await limiter.hold(sockets, "b", 1) is None
        assert limiter.redis_down
        said = [record for record in caplog.records if "Redis unavailable" in record.getMessage()]
        assert len(said) == 1, "the fallback is logged once, not per message"
    finally:
        await limiter.close()


async def test_redis_back_counts_in_redis_again(monkeypatch: pytest.MonkeyPatch) -> None:
    if not redis_is_there():
        pytest.skip(f"no Redis at {REDIS_URL}")
    monkeypatch.setattr(limits, "REDIS_RETRY_SECONDS", 0.0)
    limiter, other = RedisLimiter(REDIS_URL), RedisLimiter(REDIS_URL)
    key = fresh("message")
    try:
        real = limiter._hit
        limiter._hit = _failing  # type: ignore[method-assign]
        assert await limiter.hit(key, 2, 60) is None  # counted locally
        assert limiter.redis_down
        limiter._hit = real  # type: ignore[method-assign]
        assert await limiter.hit(key, 2, 60) is None  # in Redis again
        assert not limiter.redis_down
        assert await other.hit(key, 2, 60) is None  # another process sees the Redis count (1 of 2)
        assert (await other.hit(key, 2, 60) or 0) >= 1
    finally:
        await limiter.close()
        await other.close()


async def _failing(*args: object, **kwargs: object) -> str:
    raise redis.ConnectionError("Redis went away")


def test_the_address_is_kept_only_as_a_hash() -> None:
    key = limit_key("socket", "203.0.113.5")
    assert "203.0.113.5" not in key and key.startswith("socket:")


def test_resume_secrets_are_random_stored_hashed_and_compared_whole() -> None:
    secret, stored = new_resume_secret()
    other, _ = new_resume_secret()
    assert secret != other and len(secret) >= 43  # 32 random bytes
    assert stored == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored
    assert resume_secret_matches(stored, secret)
    for wrong in (None, "", other, secret[:-1], secret + "x", stored):
        assert not resume_secret_matches(stored, wrong)
    assert not resume_secret_matches(None, secret)  # a conversation from before resume secrets
