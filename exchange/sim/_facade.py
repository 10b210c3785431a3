"""The thread-safe face of the matching engine, used by the servers, the market and tests.

:class:`SimEngine` serialises every call into the pure :class:`MatchingEngine` with one lock,
reads the injected clock for ``now``, applies book faults (gaps, bad checksums), numbers
every emitted event with a monotonic event id and hands ``(event_id, event)`` pairs to the
listeners *while still holding the lock*, so listeners see events in engine order. A
snapshot read under the same lock returns the event id it reflects: a server that sends
the snapshot skips queued events with an id at or below it. Listeners must be quick (the
WebSocket hub only appends to a queue). Any thread may call any method.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from actors._clock import Clock
from exchange.sim._engine import MatchingEngine
from exchange.sim._errors import OrderRejected
from exchange.sim._faults import Faults
from exchange.sim._model import BookDelta, Order, OrderRequest, SimEvent
from exchange.sim._products import SimProduct

__all__ = ["Listener", "SimEngine"]

_T = TypeVar("_T")

Listener = Callable[[Sequence[tuple[int, object]]], None]
"""Receives ``(event_id, event)`` pairs in order, under the engine lock."""


class SimEngine:
    """Thread-safe facade over :class:`MatchingEngine` (see the module docstring)."""

    def __init__(
        self, products: Sequence[SimProduct], *, clock: Clock, faults: Faults | None = None
    ) -> None:
        self.core = MatchingEngine(products)
        self.clock = clock
        self.faults = faults or Faults()
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.event_id = 0
        self._keys: dict[str, tuple[str, int]] = {}
        self.faults.on_skip(self._skip)

    # --- plumbing ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every later batch of events."""
        with self._lock:
            self._listeners.append(listener)

    @contextmanager
    def locked(self) -> Iterator[MatchingEngine]:
        """Hold the lock and use the engine directly (reads; or writes followed by publish)."""
        with self._lock:
            yield self.core

    def publish(self, events: Sequence[object]) -> None:
        """Number and hand out events (engine events, or the market's candle ticks)."""
        if not events:
            return
        with self._lock:
            numbered = []
            for event in events:
                if isinstance(event, BookDelta):
                    event = self._faulty(event)  # noqa: PLW2901 - replaced by its faulty copy
                self.event_id += 1
                numbered.append((self.event_id, event))
            for listener in self._listeners:
                listener(numbered)

    def _faulty(self, delta: BookDelta) -> BookDelta:
        if self.faults.take_gap():
            self.core.books[delta.symbol].skip_sequence()
        if self.faults.take_corrupt(delta.symbol):
            return dataclasses.replace(delta, checksum=delta.checksum ^ 0xA5A5A5A5)
        return delta

    def _skip(self, symbol: str) -> None:
        with self._lock:
            self.core.books[symbol].skip_sequence()

    def _run(self, call: Callable[[int], tuple[_T, list[SimEvent]]]) -> _T:
        with self._lock:
            result, events = call(self.clock.now_ns())
            self.publish(events)
            return result

    # --- accounts ---------------------------------------------------------------------------

    def add_account(self, api_key: str, api_secret: str, balance: Decimal) -> int:
        """Accept a new API key pair for a new account with ``balance`` USD; return its user id."""
        with self._lock:
            user_id = len(self._keys) + 1
            self.core.add_account(user_id, balance)
            self._keys[api_key] = (api_secret, user_id)
            return user_id

    def credentials(self, api_key: str) -> tuple[str, int] | None:
        """(secret, user id) of an accepted API key, or None."""
        with self._lock:
            return self._keys.get(api_key)

    # --- account requests (REST) --------------------------------------------------------------

    def place_order(self, user_id: int, req: OrderRequest) -> Order:
        """Place an order; returns a copy. Raises OrderRejected (also for an injected reject)."""
        if self.faults.take_reject():
            raise OrderRejected("unavailable")
        return self._run(lambda now: self.core.place_order(user_id, req, now)).snapshot()

    def cancel_order(self, user_id: int, **kwargs: Any) -> Order:
        """Cancel an order (see :meth:`MatchingEngine.cancel_order`); returns a copy."""
        return self._run(lambda now: self.core.cancel_order(user_id, now, **kwargs)).snapshot()

    def edit_order(self, user_id: int, **kwargs: Any) -> Order:
        """Edit an order (see :meth:`MatchingEngine.edit_order`); returns a copy."""
        return self._run(lambda now: self.core.edit_order(user_id, now, **kwargs)).snapshot()

    def cancel_all(self, user_id: int, **kwargs: Any) -> int:
        """Cancel orders in bulk; returns how many."""
        return self._run(lambda now: self.core.cancel_all(user_id, now, **kwargs))

    def place_bracket(self, user_id: int, **kwargs: Any) -> list[Order]:
        """Attach a stop-loss / take-profit bracket to a position; returns copies."""
        made = self._run(lambda now: self.core.place_bracket(user_id, now, **kwargs))
        return [o.snapshot() for o in made]

    def set_leverage(self, user_id: int, product_id: int, leverage: int) -> Decimal:
        """Set leverage; returns the product's order margin."""
        return self._run(lambda now: self.core.set_leverage(user_id, product_id, leverage, now))

    # --- market (market thread, tests) ------------------------------------------------------

    def market_tick(self, symbol: str, **kwargs: Any) -> None:
        """Apply one market move (see :meth:`MatchingEngine.market_tick`) at clock time."""
        self.market_tick_at(symbol, self.clock.now_ns(), **kwargs)

    def market_tick_at(self, symbol: str, now_ns: int, **kwargs: Any) -> None:
        """Apply one market move at market time ``now_ns``."""
        with self._lock:
            self.publish(self.core.market_tick(symbol, now_ns, **kwargs))

    def path_step_at(
        self, symbol: str, now_ns: int, ticks: int, volume: int, *, tape: bool = True
    ) -> None:
        """Apply one step of the bar path (see :meth:`MatchingEngine.path_step`)."""
        with self._lock:
            self.publish(self.core.path_step(symbol, now_ns, ticks, volume, tape=tape))

    def apply_funding(self, symbol: str, rate_pct: Decimal, next_ns: int, now_ns: int) -> None:
        """Exchange funding for ``symbol`` at market time ``now_ns``."""
        with self._lock:
            self.publish(self.core.apply_funding(symbol, rate_pct, next_ns, now_ns))

    def set_book(
        self,
        symbol: str,
        *,
        bids: Sequence[tuple[str, int]] = (),
        asks: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Replace the market's liquidity of ``symbol`` (wire price strings, contracts).

        Our orders the new book crosses fill as maker. For scripted tests.
        """
        product = self.core.by_symbol[symbol]
        self.market_tick(
            symbol,
            bids={product.ticks_of(p): s for p, s in bids},
            asks={product.ticks_of(p): s for p, s in asks},
        )

    def trade_through(
        self, symbol: str, price: str, size: int = 1 << 40, aggressor: str | None = None
    ) -> None:
        """The market trades ``size`` at ``price`` (and sets the mark there): our orders at
        better prices fill fully, those at ``price`` after the queue ahead. For tests."""
        ticks = self.core.by_symbol[symbol].ticks_of(price)
        self.market_tick(symbol, trade=(ticks, size, aggressor), mark_ticks=ticks)

    def set_mark_price(self, symbol: str, price: str) -> None:
        """Move the mark price (stops with mark_price triggers may fire). For tests."""
        self.market_tick(symbol, mark_ticks=self.core.by_symbol[symbol].ticks_of(price))
