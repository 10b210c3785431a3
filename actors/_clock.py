"""Clocks: where every actor gets the time, so the same code runs live, fast or simulated.

Actors never read the wall clock or sleep. They read ``context.clock`` and ask the scheduler
for delays. Three clocks share one small interface:

- :class:`WallClock`: real time, for paper and live trading.
- :class:`ScaledClock`: time that runs ``speed`` times faster than real time from a chosen
  start, for the simulator (one 15-minute candle per second is ``speed=900``).
- :class:`SimulatedClock`: time that moves only when the deterministic runtime advances it,
  for backtests and reproducible tests.

All times are integer nanoseconds since the UNIX epoch (UTC), never floats.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

NANOS_PER_SECOND = 1_000_000_000


class Clock(Protocol):
    """The time source an actor reads; implementations must be safe to read from any thread."""

    def now_ns(self) -> int:
        """Return the current time in ns since the UNIX epoch, on this clock's time line."""
        ...

    def real_seconds_until(self, ts_ns: int) -> float:
        """Return how many real seconds remain until the clock reads ``ts_ns`` (0 if past).

        The threaded scheduler uses this to turn a due time on the clock's time line into a
        real wait.
        """
        ...


class WallClock:
    """Real time, read from the operating system."""

    def now_ns(self) -> int:
        """Return the wall-clock time in ns since the UNIX epoch."""
        return time.time_ns()

    def real_seconds_until(self, ts_ns: int) -> float:
        """Return the real seconds until the wall clock reads ``ts_ns``."""
        return max(0.0, (ts_ns - time.time_ns()) / NANOS_PER_SECOND)


class ScaledClock:
    """Time that runs ``speed`` times faster than real time, starting at ``start_ns``.

    It is built on the monotonic clock, so a wall-clock step (NTP) does not make simulated
    time jump.
    """

    def __init__(self, *, speed: float, start_ns: int | None = None) -> None:
        """Start the clock at ``start_ns`` (default: now) running ``speed`` times real time.

        Raises:
            ValueError: if ``speed`` is not a positive finite number.
        """
        if not speed > 0 or speed == float("inf"):
            msg = f"clock speed must be a positive finite number, was {speed!r}"
            raise ValueError(msg)
        self.speed = speed
        self._start_ns = time.time_ns() if start_ns is None else start_ns
        self._mono0 = time.monotonic_ns()

    def now_ns(self) -> int:
        """Return the scaled time in ns since the UNIX epoch."""
        return self._start_ns + int((time.monotonic_ns() - self._mono0) * self.speed)

    def real_seconds_until(self, ts_ns: int) -> float:
        """Return the real seconds until the scaled clock reads ``ts_ns``."""
        return max(0.0, (ts_ns - self.now_ns()) / self.speed / NANOS_PER_SECOND)


class SimulatedClock:
    """Time that only moves when its owner calls :meth:`advance_to`.

    The deterministic runtime owns it; actors only read it. ``real_seconds_until`` is always
    0 because nothing ever waits in real time on a simulated clock.
    """

    def __init__(self, start_ns: int = 0) -> None:
        """Start the clock at ``start_ns``."""
        self._now_ns = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        """Return the simulated time in ns since the UNIX epoch."""
        return self._now_ns

    def real_seconds_until(self, ts_ns: int) -> float:  # noqa: ARG002 - protocol signature
        """Return 0: simulated time never waits in real time."""
        return 0.0

    def advance_to(self, ts_ns: int) -> None:
        """Move the clock forward to ``ts_ns``.

        Raises:
            ValueError: if ``ts_ns`` is earlier than the current time (time never runs back).
        """
        with self._lock:
            if ts_ns < self._now_ns:
                msg = f"simulated time cannot run backwards: {ts_ns} < {self._now_ns}"
                raise ValueError(msg)
            self._now_ns = ts_ns
