"""The limits per client address (bot/web/limits.py), in memory and in Redis; and the guest's resume secret
(bot/store/transcript.py) on its own."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis

from bot.store.transcript import new_resume_secret, resume_secret_matches
from bot.web.limits import LocalLimiter, RedisLimiter, limit_key

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
    assert [await limiter.hit(key, 3, 2.0) for _ in range(3)] == [None, None, None]
    wait = await limiter.hit(key, 3, 2.0)
    assert wait in (1, 2)
    assert await limiter.hit(fresh("message"), 3, 2.0) is None  # another address is not affected
    await asyncio.sleep(2.1)
    assert await limiter.hit(key, 3, 2.0) is None  # refused ones were not counted


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


async def test_redis_down_lets_everything_through() -> None:
    limiter = RedisLimiter("redis://127.0.0.1:1/0")
    try:
        assert await limiter.hit(fresh("message"), 0, 60) is None
        assert await limiter.hold(fresh("socket"), "a", 0) is None
    finally:
        await limiter.close()


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
