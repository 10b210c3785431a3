"""Hand memory the process has freed back to the operating system, on a timer.

Why: glibc keeps what a thread frees in that thread's malloc arena (and below the top of
the main heap) for reuse, and returns it only when asked. A bot that allocates in bursts
(the simulator's history at start, a snapshot's bytes, a burst of frames) keeps its peak
resident for good, and arenas fragmented by many threads creep up over hours: measured,
the embedded simulator's bot held 125 MB at start of which ~40 MB was free memory, and
grew 2-3 times faster without trimming. ``malloc_trim(0)`` gives every free page of every
arena back (~0.5 ms when there is little to give, ~10 ms after a burst); nothing the
process uses is touched, so it changes no behaviour, only what the server pays.

On a C library without ``malloc_trim`` (musl, macOS) the actor only says so in its summary.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from actors._actor import Actor

_log = logging.getLogger(__name__)


def find_malloc_trim() -> Callable[[], bool] | None:
    """glibc's ``malloc_trim(0)`` as a callable (True when it released memory), or None."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: bool(trim(0))


@dataclass(frozen=True, slots=True)
class TrimDue:
    """Timer message: release free memory now."""


class MemoryTrimmer(Actor):
    """Calls ``malloc_trim(0)`` every ``interval_ns`` (runtime clock).

    Args:
        interval_ns: Runtime-clock ns between trims.
        trim: The release function (:func:`find_malloc_trim`); None: not available here.
    """

    def __init__(self, *, interval_ns: int, trim: Callable[[], bool] | None) -> None:
        self.interval_ns = interval_ns
        self.trim = trim
        self.trims = 0
        self.released = 0  # trims that gave memory back
        self.last_ms = 0.0

    def on_start(self) -> None:
        """Trim once at start (the simulator's and the warm-up's bursts), then on the timer."""
        if self.trim is None:
            _log.info("memory: malloc_trim is not available in this C library; not trimming")
            return
        self.on_trim_due(TrimDue())
        self.context.schedule_repeating(self.interval_ns, TrimDue())

    def on_trim_due(self, _: TrimDue) -> None:
        """Give free memory back to the OS."""
        if self.trim is None:
            return
        started = time.perf_counter()
        self.released += self.trim()
        self.last_ms = (time.perf_counter() - started) * 1e3
        self.trims += 1

    def describe(self) -> dict[str, object]:
        """Trims done, how many released memory, and how long the last one took."""
        return {
            "available": self.trim is not None,
            "trims": self.trims,
            "released": self.released,
            "last_ms": round(self.last_ms, 2),
        }
