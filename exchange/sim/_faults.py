"""Fault injection: a thread-safe handle tests and settings use to make the simulator misbehave.

Each ``fault(n)`` call arms the next ``n`` matching events; the rates from ``[sim]`` settings
add random faults on top, drawn from a generator seeded by ``sim.seed``. The servers consume
faults through the ``take_*`` methods (any thread). Setting :attr:`Faults.latency_ms` delays
every REST response and WebSocket frame from then on.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

from messages.settings import SimSettings

__all__ = ["Faults", "RestFault"]

RestFault = tuple[int, int | None]
"""(HTTP status, X-RATE-LIMIT-RESET ms or None) of an injected REST failure."""


class Faults:
    """Armed faults and random fault rates (see the module docstring)."""

    def __init__(self, settings: SimSettings | None = None) -> None:
        s = settings or SimSettings()
        self._lock = threading.Lock()
        self._rng = random.Random(s.seed ^ 0x5EED)
        self.latency_ms: int = s.latency_ms
        self.drop_connection_rate = s.drop_connection_rate
        self.book_gap_rate = s.book_gap_rate
        self.checksum_error_rate = s.checksum_error_rate
        self.rest_error_rate = s.rest_error_rate
        self.rate_limit_rate = s.rate_limit_rate
        self.reject_order_rate = s.reject_order_rate
        self._skip: Counter[str] = Counter()
        self._corrupt: Counter[str] = Counter()
        self._rate_limited = 0
        self._reset_ms = 1000
        self._server_errors = 0
        self._server_status = 503
        self._malformed = 0
        self._rejects = 0
        self._drop_hooks: list[Callable[[], None]] = []
        self._skip_hook: Callable[[str], None] | None = None

    # --- arming (tests, console) ------------------------------------------------------------

    def drop_connections(self) -> None:
        """Close every open WebSocket connection now (the server sends close code 1011)."""
        for hook in list(self._drop_hooks):
            hook()

    def skip_sequence(self, symbol: str, count: int = 1) -> None:
        """Leave a gap in ``symbol``'s book sequence: the next update skips a number."""
        if self._skip_hook is not None:
            for _ in range(count):
                self._skip_hook(symbol)
        else:
            with self._lock:
                self._skip[symbol] += count

    def corrupt_checksum(self, symbol: str, count: int = 1) -> None:
        """Send the next ``count`` book updates of ``symbol`` with a wrong ``cs``."""
        with self._lock:
            self._corrupt[symbol] += count

    def rate_limit(self, n_requests: int, reset_ms: int = 1000) -> None:
        """Answer the next ``n_requests`` REST requests 429 with ``X-RATE-LIMIT-RESET``."""
        with self._lock:
            self._rate_limited, self._reset_ms = n_requests, reset_ms

    def server_errors(self, n_requests: int, status: int = 503) -> None:
        """Answer the next ``n_requests`` REST requests with HTTP ``status`` (5xx)."""
        with self._lock:
            self._server_errors, self._server_status = n_requests, status

    def malformed_frames(self, count: int) -> None:
        """Send ``count`` frames that are not valid JSON, all before the next real frame."""
        with self._lock:
            self._malformed += count

    def reject_orders(self, count: int) -> None:
        """Reject the next ``count`` valid orders with error code ``unavailable``."""
        with self._lock:
            self._rejects += count

    # --- wiring (the simulator) -------------------------------------------------------------

    def on_drop(self, hook: Callable[[], None]) -> None:
        """Register what :meth:`drop_connections` calls (the WebSocket server)."""
        self._drop_hooks.append(hook)

    def on_skip(self, hook: Callable[[str], None]) -> None:
        """Register what :meth:`skip_sequence` calls (the engine facade); replays armed skips."""
        with self._lock:
            armed, self._skip = self._skip, Counter()
        self._skip_hook = hook
        for symbol, count in armed.items():
            for _ in range(count):
                hook(symbol)

    # --- consuming (any server thread) -----------------------------------------------------

    def take_corrupt(self, symbol: str) -> bool:
        """True when this book update of ``symbol`` must carry a wrong checksum."""
        if not self._corrupt[symbol] and not self.checksum_error_rate:
            return False
        with self._lock:
            if self._corrupt[symbol] > 0:
                self._corrupt[symbol] -= 1
                return True
            return self.checksum_error_rate > 0 and self._rng.random() < self.checksum_error_rate

    def take_gap(self) -> bool:
        """True when a random sequence gap should follow this book update."""
        if not self.book_gap_rate:
            return False
        with self._lock:
            return self.book_gap_rate > 0 and self._rng.random() < self.book_gap_rate

    def take_rest_fault(self) -> RestFault | None:
        """The failure this REST request gets, or None to serve it normally."""
        with self._lock:
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return 429, self._reset_ms
            if self._server_errors > 0:
                self._server_errors -= 1
                return self._server_status, None
            if self.rate_limit_rate > 0 and self._rng.random() < self.rate_limit_rate:
                return 429, 1000
            if self.rest_error_rate > 0 and self._rng.random() < self.rest_error_rate:
                return 503, None
            return None

    def take_malformed(self) -> bool:
        """True when a malformed frame should be sent now (consumes one)."""
        if not self._malformed:
            return False
        with self._lock:
            if self._malformed > 0:
                self._malformed -= 1
                return True
            return False

    def malformed_pending(self) -> bool:
        """True while malformed frames are armed (lock-free peek for the hot path)."""
        return self._malformed > 0

    def take_drop(self) -> bool:
        """True when the connection should be dropped after this frame (random rate)."""
        if self.drop_connection_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < self.drop_connection_rate

    def take_reject(self) -> bool:
        """True when this valid order must be rejected with ``unavailable``."""
        with self._lock:
            if self._rejects > 0:
                self._rejects -= 1
                return True
            return self.reject_order_rate > 0 and self._rng.random() < self.reject_order_rate
