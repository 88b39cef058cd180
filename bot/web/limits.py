"""Limits per client address, shared by every gateway process (issue 16): new conversations and messages
per minute, and sockets open at once.

Two implementations behind one small interface, chosen like the broker (bot/web/broker.py):

- LocalLimiter: one gateway process (no BOT_BROKER_URL); counts in memory.
- RedisLimiter: several processes (BOT_BROKER_URL=redis://...); each count is a Redis sorted set, checked
  and changed by one Lua script, so two processes never both take the last place.

Counts are sliding windows: an event is allowed while fewer than `limit` were allowed in the last
`window` seconds, and a refusal says how long until the oldest of them leaves the window. Refused
events are not counted, so a client that waits as told is served. Sockets are leases: each open socket
holds one, renewed while it is open and released when it closes; a process that dies without releasing
lets its leases lapse after LEASE_SECONDS.

Addresses are kept only as a hash (the keys), never as they are. When Redis cannot be reached, each
process counts in its own memory instead (a LocalLimiter), so an attacker who can't be counted centrally
is still braked per process; the log says so once when Redis goes and once when it is back. While Redis
is down it is tried again at most every REDIS_RETRY_SECONDS, so a message doesn't wait for a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
import uuid
from collections import deque
from typing import Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LEASE_SECONDS = 90.0  # a socket's lease lapses this long after its process last renewed it
RENEW_SECONDS = 30.0
REDIS_RETRY_SECONDS = 5.0  # while Redis is down, count locally this long before trying it again
REDIS_TIMEOUT_SECONDS = 2.0  # connect and answer; a limit check must not hold a message up longer
_PREFIX = "varde:limit:"


def limit_key(kind: str, address: str) -> str:
    """The key a count is kept under: the kind and a hash of the address (no address in Redis or logs)."""
    return f"{kind}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


def _retry(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window: float) -> int | None:
        """Count one event under `key` if fewer than `limit` were counted in the last `window` seconds:
        None when counted, else the whole seconds to wait."""

    async def hold(self, key: str, lease: str, limit: int) -> int | None:
        """Take one of `limit` places under `key` for `lease` (an open socket): None when taken, else the
        seconds to wait before trying again."""

    async def release(self, key: str, lease: str) -> None: ...

    async def close(self) -> None: ...


def new_lease() -> str:
    return uuid.uuid4().hex


class LocalLimiter:
    """One gateway process: the counts in memory."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}
        self._held: dict[str, set[str]] = {}

    async def hit(self, key: str, limit: int, window: float) -> int | None:
        now = time.monotonic()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - window:
            events.popleft()
        if len(events) < limit:
            events.append(now)
            return None
        return _retry(events[0] + window - now)

    async def hold(self, key: str, lease: str, limit: int) -> int | None:
        held = self._held.setdefault(key, set())
        if lease in held or len(held) < limit:
            held.add(lease)
            return None
        return _retry(RENEW_SECONDS)  # a place frees when a socket closes: no telling when

    async def release(self, key: str, lease: str) -> None:
        held = self._held.get(key)
        if held is not None:
            held.discard(lease)
            if not held:
                del self._held[key]

    async def close(self) -> None:
        return None


# KEYS[1]: the count. ARGV: now, window (s), limit, a new member. Returns -1 when counted, else the
# seconds to wait (as a string: Lua numbers come back as whole numbers).
_HIT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return '-1'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""

# KEYS[1]: the places. ARGV: now, lease seconds, limit, the lease. Scores are when each lease lapses.
_HOLD = """
local now, lease_seconds, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + lease_seconds, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease_seconds * 1000))
  return 1
end
return 0
"""


class RedisLimiter:
    """Counts in Redis; while Redis can't be reached, in this process's memory (the module's doc)."""

    def __init__(self, url: str) -> None:
        self._client: redis.Redis = redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._hit = self._client.register_script(_HIT)
        self._hold = self._client.register_script(_HOLD)
        self._held: dict[str, set[str]] = {}  # this process's leases in Redis, renewed by _renew
        self._renewer: asyncio.Task[None] | None = None
        self._local = LocalLimiter()  # the fallback
        self._down_until: float | None = None  # monotonic time before which Redis is not tried again

    @property
    def redis_down(self) -> bool:
        return self._down_until is not None

    def _use_redis(self) -> bool:
        return self._down_until is None or time.monotonic() >= self._down_until

    def _went_down(self, error: Exception) -> None:
        if self._down_until is None:  # said once, not per message
            log.warning("limits: Redis unavailable (%s); counting in this process until it is back", error)
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def _came_back(self) -> None:
        if self._down_until is not None:
            log.info("limits: Redis is back; counting there again")
            self._down_until = None

    async def hit(self, key: str, limit: int, window: float) -> int | None:
        if self._use_redis():
            try:
                wait = float(await self._hit(keys=[_PREFIX + key], args=[time.time(), window, limit, new_lease()]))
            except (RedisError, OSError) as error:
                self._went_down(error)
            else:
                self._came_back()
                return None if wait < 0 else _retry(wait)
        return await self._local.hit(key, limit, window)

    async def hold(self, key: str, lease: str, limit: int) -> int | None:
        if self._use_redis():
            try:
                taken = await self._hold(keys=[_PREFIX + key], args=[time.time(), LEASE_SECONDS, limit, lease])
            except (RedisError, OSError) as error:
                self._went_down(error)
            else:
                self._came_back()
                if not int(taken):
                    return _retry(RENEW_SECONDS)
                self._held.setdefault(key, set()).add(lease)
                if self._renewer is None:
                    self._renewer = asyncio.create_task(self._renew(), name="limits-renewer")
                return None
        return await self._local.hold(key, lease, limit)

    async def release(self, key: str, lease: str) -> None:
        await self._local.release(key, lease)  # a place taken while Redis was down
        held = self._held.get(key)
        if held is None or lease not in held:
            return
        held.discard(lease)
        if not held:
            del self._held[key]
        try:
            await self._client.zrem(_PREFIX + key, lease)
        except (RedisError, OSError) as error:
            log.warning("limits: could not release a socket's place (%s); it lapses by itself", error)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not self._held:
                continue
            until = time.time() + LEASE_SECONDS
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for key, leases in list(self._held.items()):
                        pipe.zadd(_PREFIX + key, dict.fromkeys(leases, until), xx=True)
                        pipe.pexpire(_PREFIX + key, int(LEASE_SECONDS * 1000))
                    await pipe.execute()
            except (RedisError, OSError) as error:
                log.warning("limits: could not renew sockets' places (%s)", error)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self._client.close()


def make_limiter(url: str) -> Limiter:
    """Redis when the gateway processes share a broker (BOT_BROKER_URL), else this process's memory."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisLimiter(url)
    return LocalLimiter()
