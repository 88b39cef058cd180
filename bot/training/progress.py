"""Progress of a long lifecycle job as events (stage, percent, message), for logs now and a web page later.

A job passes a callback; `Progress` maps each stage's own 0..1 onto its band of the whole job's
0..100 %, so that "training 50 %" and "evaluating 50 %" land where they belong in one bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

log = logging.getLogger("bot.training")


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # train | evaluate | compare | deploy | rollback | done | refused | failed
    percent: int  # of the whole job, 0..100
    message: str
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


ProgressCallback = Callable[[ProgressEvent], None]


class Progress:
    """Reports events to a callback (if any) and to the log, never going backwards."""

    def __init__(self, callback: ProgressCallback | None = None, start: float = 0, end: float = 100) -> None:
        self._callback = callback
        self._start, self._end = start, end
        self._shared = {"percent": 0}  # shared with sub-bands, so the whole bar only moves forward

    def band(self, start: float, end: float) -> Progress:
        """A sub-progress whose 0..1 covers start..end % of this one."""
        child = Progress(self._callback, self._at(start / 100), self._at(end / 100))
        child._shared = self._shared
        return child

    def _at(self, fraction: float) -> float:
        return self._start + (self._end - self._start) * min(max(fraction, 0.0), 1.0)

    def report(self, stage: str, fraction: float, message: str) -> None:
        percent = max(self._shared["percent"], round(self._at(fraction)))
        self._shared["percent"] = percent
        log.info("[%s %3d%%] %s", stage, percent, message)
        if self._callback is not None:
            try:
                self._callback(ProgressEvent(stage, percent, message))
            except Exception:  # a broken listener (a closed page) must not stop a training
                log.exception("progress listener failed")
