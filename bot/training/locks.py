"""One training (or one deploy) at a time, across processes: a file lock in the models folder.

The lock file holds what its holder does, so whoever is refused is told who is busy and with what.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.store.models import utcnow
from bot.training.errors import LifecycleError


@contextmanager
def exclusive(folder: Path, name: str, what: str, wait: bool) -> Iterator[None]:
    """Hold `<folder>/.<name>.lock` for the block, with `what` written in it. With `wait`, wait for the
    holder to finish; without, raise LifecycleError("Busy: <what the holder does> ...") at once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.lock"
    with path.open("a+", encoding="utf-8") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            raise LifecycleError(f"Busy: {holder}. Try again when it has finished.") from None
        try:
            file.truncate(0)
            file.write(f"{what} (process {os.getpid()}, since {utcnow():%Y-%m-%d %H:%M:%S} UTC)")
            file.flush()
            yield
        finally:
            file.truncate(0)
            fcntl.flock(file, fcntl.LOCK_UN)
