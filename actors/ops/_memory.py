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

:func:`fix_mmap_threshold`, which ``bot.py run`` calls before any thread starts (unless
``health.memory_trim_s`` is 0), fixes glibc's mmap threshold at 128 KiB, the value glibc
starts with. Left alone, glibc raises it to the largest block the process has freed, up to
32 MiB: after the start-up's history (blocks of 1-2 MiB), every later block below that
comes from the arenas instead of its own mapping, and stays there once freed. Measured at
speed 5 (docs/operations.md, "Soak"): the two-process soak's bot sits ~3.5 MB lower (warm-up
RSS 79.8 against 83.0 MB) and its native memory grows about as much over 30 minutes (+2.9
against +3.0 MB); the bot run in-process against a separate simulator grew +1.3 MB from its
first minute to its thirtieth, against +5.1 MB left alone. The bot makes almost no block of
128 KiB or more in steady state (strace: none in a minute).
"""

from __future__ import annotations

import ctypes
import logging
import os
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


MMAP_THRESHOLD_BYTES = 128 * 1024
"""glibc's initial mmap threshold, kept fixed (see the module docstring)."""

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True when it was set.

    Call it before other threads start (glibc's ``mallopt`` is not meant to race
    allocations). False without glibc's ``mallopt``, or when the operator set the
    threshold in the environment (``MALLOC_MMAP_THRESHOLD_``, or ``GLIBC_TUNABLES`` with
    ``glibc.malloc.mmap_threshold``): glibc applied that at start, and it stays.
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "glibc.malloc.mmap_threshold" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


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
