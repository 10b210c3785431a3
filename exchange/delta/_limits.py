"""REST rate limiting, retry backoff and the circuit breaker: plain classes on a Clock.

No threads, no sockets, no sleeping: each class answers questions about time on the
injected :class:`Clock` ("may I spend 5 weight now?", "how long until the next retry?",
"is the circuit open?"), so the tests step a ``SimulatedClock``. The REST client owns one
of each and calls them from its one thread; none of them is thread-safe.

- :class:`WeightBudget`: Delta's quota, ``rate_limit_weight_per_5min`` weight per **fixed**
  5-minute window (the window starts on a multiple of 5 minutes of clock time). A 429 from
  the venue closes the budget until its ``X-RATE-LIMIT-RESET``.
- :class:`Backoff`: exponential delay with full jitter, ``initial * 2**attempt`` capped at
  ``max``; jitter draws from ``[delay/2, delay]`` so a retry never fires at once.
- :class:`CircuitBreaker`: CLOSED -> OPEN after ``failures`` consecutive failures; OPEN
  refuses calls for ``reset_s``; then HALF_OPEN lets one trial through; its success closes
  the breaker, its failure opens it again.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping

from actors._clock import Clock

__all__ = [
    "WEIGHTS",
    "Backoff",
    "BreakerState",
    "CircuitBreaker",
    "WeightBudget",
    "weight_of",
]

NS = 1_000_000_000
WINDOW_NS = 300 * NS

WEIGHTS: Mapping[tuple[str, str], int] = {
    ("GET", "/v2/products"): 3,
    ("GET", "/v2/l2orderbook"): 3,
    ("GET", "/v2/tickers"): 3,
    ("GET", "/v2/orders"): 3,
    ("GET", "/v2/positions"): 3,
    ("GET", "/v2/wallet/balances"): 3,
    ("GET", "/v2/history/candles"): 3,
    ("POST", "/v2/orders"): 5,
    ("PUT", "/v2/orders"): 5,
    ("DELETE", "/v2/orders"): 5,
    ("POST", "/v2/positions/change_margin"): 5,
    ("GET", "/v2/orders/history"): 10,
    ("GET", "/v2/fills"): 10,
    ("GET", "/v2/wallet/transactions"): 10,
    ("POST", "/v2/orders/batch"): 25,
    ("PUT", "/v2/orders/batch"): 25,
    ("DELETE", "/v2/orders/batch"): 25,
}
"""Delta's request weights [IN-RL]; a path not listed weighs 1."""

_PREFIXED = ("/v2/products/", "/v2/tickers/", "/v2/l2orderbook/", "/v2/positions/margined")


def weight_of(method: str, path: str) -> int:
    """Return the weight of one request; ``/v2/products/BTCUSD`` weighs as the list."""
    exact = WEIGHTS.get((method, path))
    if exact is not None:
        return exact
    for prefix in _PREFIXED:
        if path.startswith(prefix) and "/orders/" not in path:
            return WEIGHTS.get((method, prefix.rstrip("/")), 3)
    return 1


class WeightBudget:
    """The 5-minute weight quota, on the clock's time line."""

    def __init__(self, clock: Clock, *, per_window: int) -> None:
        self._clock = clock
        self.per_window = per_window
        self._window_start = -1
        self._spent = 0
        self._closed_until_ns = 0

    def _roll(self, now: int) -> None:
        start = now - now % WINDOW_NS
        if start != self._window_start:
            self._window_start, self._spent = start, 0

    def try_spend(self, weight: int) -> float:
        """Spend ``weight`` now and return 0.0, or return seconds to wait and spend nothing."""
        now = self._clock.now_ns()
        if now < self._closed_until_ns:
            return (self._closed_until_ns - now) / NS
        self._roll(now)
        if self._spent + weight > self.per_window:
            return (self._window_start + WINDOW_NS - now) / NS
        self._spent += weight
        return 0.0

    def close_for(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (after a 429 with ``X-RATE-LIMIT-RESET``)."""
        self._closed_until_ns = max(self._closed_until_ns, self._clock.now_ns() + int(seconds * NS))

    @property
    def remaining(self) -> int:
        """Weight left in the current window."""
        self._roll(self._clock.now_ns())
        return self.per_window - self._spent


class Backoff:
    """Exponential backoff with jitter; ``delay_s(attempt)`` for attempt 0, 1, 2, ..."""

    def __init__(self, *, initial_ms: int, max_ms: int, rng: random.Random | None = None) -> None:
        self.initial_s = initial_ms / 1000
        self.max_s = max(max_ms, initial_ms) / 1000
        self._rng = rng or random.Random()

    def delay_s(self, attempt: int) -> float:
        """Return the delay before retry ``attempt`` (0-based): half to full of the cap."""
        ceiling = min(self.max_s, self.initial_s * 2 ** min(attempt, 32))
        return self._rng.uniform(ceiling / 2, ceiling)


class BreakerState(enum.StrEnum):
    """Where a :class:`CircuitBreaker` is: passing calls, refusing them, or testing one."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    """Fail fast after repeated failures; see the module docstring for the states."""

    def __init__(self, clock: Clock, *, failures: int, reset_s: float) -> None:
        self._clock = clock
        self.threshold = failures
        self.reset_ns = int(reset_s * NS)
        self._failures = 0
        self._opened_at = 0
        self._open = False
        self._trial = False
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        """The current state (OPEN turns into HALF_OPEN when ``reset_s`` has passed)."""
        if not self._open:
            return BreakerState.CLOSED
        if self._clock.now_ns() - self._opened_at >= self.reset_ns:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def before_call(self) -> float:
        """Return 0.0 when a call may go, else seconds until the breaker allows a trial.

        In HALF_OPEN only one trial is let through until it reports success or failure.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return 0.0
        if state is BreakerState.HALF_OPEN and not self._trial:
            self._trial = True
            return 0.0
        remaining = self._opened_at + self.reset_ns - self._clock.now_ns()
        return max(remaining / NS, 0.001)

    def record_success(self) -> None:
        """A call succeeded (or got a business answer): close the breaker."""
        self._failures, self._open, self._trial = 0, False, False

    def record_failure(self) -> None:
        """A call failed (network, timeout, 5xx): count it; open at the threshold."""
        self._failures += 1
        if self._trial or self._failures >= self.threshold:
            if not self._open or self._trial:
                self.times_opened += 1
            self._open, self._trial = True, False
            self._opened_at = self._clock.now_ns()

    def health(self) -> dict[str, object]:
        """State, consecutive failures and times opened, for the health report."""
        return {
            "state": self.state.value,
            "consecutive_failures": self._failures,
            "times_opened": self.times_opened,
        }
