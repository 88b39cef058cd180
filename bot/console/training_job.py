"""The trainer's retrain button: one Lifecycle.retrain at a time in a worker thread, its progress fanned
out to every open page as server-sent events.

The lifecycle reports from its thread; events are handed to the event loop with call_soon_threadsafe
and kept, so a page opened (or reloaded) mid-training gets everything so far, then the rest live.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.training.history import describe
from bot.training.lifecycle import DeployOutcome, Lifecycle, LifecycleError
from bot.training.progress import ProgressEvent
from bot.training.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class TrainingJob:
    trained_by: str
    started: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False
    listeners: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)

    def publish(self, event: dict[str, Any]) -> None:
        event = {**event, "elapsed": round(time.monotonic() - self.started, 1)}
        self.events.append(event)
        for queue in list(self.listeners):
            queue.put_nowait(event)


class Trainer:
    """Holds the current (or last) job; start() refuses a second one while one runs."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.job: TrainingJob | None = None
        self._task: asyncio.Task[None] | None = None  # kept, so the running job is never garbage-collected

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.finished

    def start(self, trained_by: str) -> TrainingJob:
        if self.running:
            assert self.job is not None
            raise LifecycleError(f"Busy: {self.job.trained_by} is training a model. Wait for it to finish.")
        job = TrainingJob(trained_by)
        self.job = job
        loop = asyncio.get_running_loop()

        def on_progress(event: ProgressEvent) -> None:  # in the worker thread
            data = {"type": "progress", "stage": event.stage, "percent": event.percent, "message": event.message}
            loop.call_soon_threadsafe(job.publish, data)

        async def run() -> None:
            log.info("trainer: %s started a retrain", trained_by)
            try:
                outcome = await loop.run_in_executor(
                    None, lambda: Lifecycle(self.workspace, on_progress).retrain(trained_by)
                )
                result = _outcome(outcome)
            except LifecycleError as error:
                result = {"type": "result", "deployed": False, "error": str(error)}
            except Exception as error:  # the page must hear that it ended, whatever happened
                log.exception("trainer: retrain by %s failed", trained_by)
                result = {"type": "result", "deployed": False, "error": f"The training failed: {error}"}
            job.publish(result)
            job.finished = True
            for queue in list(job.listeners):
                queue.put_nowait({"type": "end"})
            log.info("trainer: retrain by %s ended after %.0f s: %s", trained_by, time.monotonic() - job.started,
                     "deployed" if result.get("deployed") else result.get("error") or "live model kept")  # fmt: skip

        self._task = asyncio.create_task(run())
        return job


def _outcome(outcome: DeployOutcome) -> dict[str, Any]:
    candidate = describe(outcome.record)
    previous = describe(outcome.previous) if outcome.previous else None
    return {
        "type": "result",
        "deployed": outcome.deployed,
        "candidate": candidate,
        "live": previous,
        "reasons": outcome.verdict.reasons,
        "notes": outcome.verdict.notes,
    }
