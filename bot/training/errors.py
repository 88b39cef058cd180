"""The lifecycle's error: a step that could not be done, raised by the lifecycle and the modules beside it."""

from __future__ import annotations


class LifecycleError(RuntimeError):
    """A lifecycle step could not be done; the message says why, for a trainer or an operator."""
