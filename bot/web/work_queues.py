"""Per-conversation work queues: at most one unit of work per conversation at a time, in the order
submitted, while many conversations run concurrently.

A conversation has a queue and one worker task only while it has work; idle conversations cost nothing.
When a unit of work fails (it returns False, or raises), the units waiting behind it in that
conversation are dropped, and handed to `skipped`: the caller has told the customer once, for all of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

W = TypeVar("W")


class WorkQueues(Generic[W]):
    def __init__(
        self,
        take: Callable[[W], Awaitable[bool]],
        failed: Callable[[str, W], None],
        describe: Callable[[W], object] = repr,
        skipped: Callable[[str, list[W]], Awaitable[None]] | None = None,
    ) -> None:
        """`take(work)` does one unit, False when it failed (and said so); `failed(conversation, work)` is
        called when `take` raised; `describe(work)` names a unit in the log; `skipped(conversation, units)`
        is told of the units dropped behind a failed one."""
        self._take = take
        self._failed = failed
        self._describe = describe
        self._skipped = skipped
        self._pending: dict[str, deque[W]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def busy(self, conversation_id: str) -> bool:
        """Work of this conversation is under way (or waiting)."""
        return conversation_id in self._workers

    def active(self) -> int:
        """Conversations with work under way or waiting."""
        return len(self._workers)

    def submit(self, conversation_id: str, work: W) -> None:
        self._pending.setdefault(conversation_id, deque()).append(work)
        if conversation_id not in self._workers:
            task = asyncio.create_task(self._work(conversation_id), name=f"conversation-{conversation_id}")
            self._workers[conversation_id] = task

    async def _work(self, conversation_id: str) -> None:
        queue = self._pending[conversation_id]
        try:
            while queue:
                work = queue.popleft()
                try:
                    done = await self._take(work)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The work is stored; a failure here (the database, say) must not stop later work.
                    log.exception("conversation %s: %s failed", conversation_id, self._describe(work))
                    self._failed(conversation_id, work)
                    done = False
                if not done and queue:
                    # The customer was just told once; the units waiting behind this one stay stored, and
                    # the customer is asked to try again instead of waiting twice as long.
                    skipped = list(queue)
                    queue.clear()
                    log.warning("conversation %s: %s not taken after a failure", conversation_id,
                                [self._describe(queued) for queued in skipped])  # fmt: skip
                    if self._skipped is not None:
                        try:
                            await self._skipped(conversation_id, skipped)
                        except asyncio.CancelledError:
                            raise
                        except Exception:
                            log.exception("conversation %s: could not record the skipped units", conversation_id)
        finally:
            self._pending.pop(conversation_id, None)
            self._workers.pop(conversation_id, None)

    async def close(self) -> None:
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
