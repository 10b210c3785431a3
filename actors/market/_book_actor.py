"""OrderBookActor: the thin shell that runs one symbol's :class:`OrderBook`.

Runs on its own actor thread (or the deterministic runtime's). Book messages do not come
through its mailbox: the stream appends them to the symbol's :class:`BookChannel` and rings
once (:class:`BookDataReady`); each ring drains the channel, applies everything in order and
publishes at most one :class:`~messages.TopOfBook` (key = symbol). A repeating timer checks
staleness and retries unanswered resyncs; another publishes :class:`~messages.BookHealth`
(also published whenever sync or staleness changes). A restarted incarnation starts empty,
unsynced, and asks the stream for a snapshot.
"""

from __future__ import annotations

from actors._actor import Actor
from actors.market._book import BookStep, OrderBook
from actors.market._channel import BookChannel, BookDataReady
from actors.market._common import (
    HEALTH_DUE,
    STREAM_ID,
    TICK,
    HealthDue,
    Tick,
)
from messages import ResyncBook, UnixNanos

__all__ = ["OrderBookActor"]


class OrderBookActor(Actor):
    """Shell of :class:`OrderBook` (see the module docstring).

    Args:
        channel: The symbol's coalescing buffer, shared with the stream across restarts.
        stale_after_ns: Runtime-clock limit without a book message before it is stale.
        resync_retry_ns: Repeat an unanswered resync request after this long.
        tick_ns: Period of the staleness check.
        health_ns: Period of the BookHealth publication.
    """

    def __init__(
        self,
        channel: BookChannel,
        *,
        stale_after_ns: int,
        resync_retry_ns: int,
        tick_ns: int,
        health_ns: int,
    ) -> None:
        self.channel = channel
        self.symbol = channel.symbol
        self.book = OrderBook(
            channel.symbol, stale_after_ns=stale_after_ns, resync_retry_ns=resync_retry_ns
        )
        self.tick_ns = tick_ns
        self.health_ns = health_ns
        self._resync_count = 0
        self._state: tuple[bool, bool] | None = None

    def on_start(self) -> None:
        """Start the timers, ask for a snapshot after a restart, drain what is waiting."""
        self.context.schedule_repeating(self.tick_ns, TICK)
        self.context.schedule_repeating(self.health_ns, HEALTH_DUE)
        restarted = self.context.incarnation > 1
        self._resync(self.book.on_start(self.context.now_ns(), restarted=restarted))
        self.on_book_data_ready(None)

    def on_book_data_ready(self, _: BookDataReady | None) -> None:
        """Drain the channel and apply the batch."""
        batch, overflowed = self.channel.drain()
        self._carry_out(
            self.book.on_batch(batch, overflowed=overflowed, now_ns=self.context.now_ns())
        )

    def on_tick(self, _: Tick) -> None:
        """Staleness check and resync retry."""
        self._carry_out(self.book.on_tick(self.context.now_ns()))

    def on_health_due(self, _: HealthDue) -> None:
        """Publish the periodic BookHealth."""
        self.context.publish(self.book.health(self.context.now_ns()), key=self.symbol)

    def describe(self) -> dict[str, object]:
        """Health fields plus the channel's depth, for the console."""
        health = self.book.health(self.context.now_ns())
        fields = {k: getattr(health, k) for k in health.__dataclass_fields__}
        return {**fields, "pending": len(self.channel), "dropped": self.channel.dropped}

    def _carry_out(self, step: BookStep) -> None:
        if step.top is not None:
            self.context.publish(step.top, key=self.symbol, retain=True)
            state = (step.top.synced, step.top.stale)
            if state != self._state:
                self._state = state
                self.on_health_due(HEALTH_DUE)
        self._resync(step.resync)

    def _resync(self, reason: str | None) -> None:
        if reason is None:
            return
        self._resync_count += 1
        now = UnixNanos(self.context.now_ns())
        command_id = f"{self.context.actor_id}/{self.context.incarnation}/{self._resync_count}"
        self.context.log.info("%s: resync (%s)", self.context.actor_id, reason)
        self.context.send(
            STREAM_ID,
            ResyncBook(command_id=command_id, ts_init=now, symbol=self.symbol, reason=reason),
        )
