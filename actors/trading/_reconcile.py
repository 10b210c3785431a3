"""Start-up reconciliation of the REST gateway's journal with the exchange.

The exchange is the source of truth. Run once after the gateway's state is restored, on the
gateway's thread, before it handles any new command:

1. Fills of our orders the journal lacks (they happened while the bot was down, or the
   process died before booking them) are booked, as ``OrderFilled``, in exchange order.
2. Open orders we placed are ``OrderAccepted`` if that was never booked; open orders with a
   client order id we never placed are reported (and left alone: they are not ours to cancel).
3. Placements replayed from the journal whose answer never arrived: found by client order id,
   they are not placed again; not found, they never reached the exchange and are placed now,
   except an entry older than the entry timeout: its moment has passed, it is answered
   ``OrderRejected`` (``stale_after_restart``) and execution gives the entry up. Stops,
   targets and exits (reduce-only) are always placed: they protect or close a position.
4. Orders the journal has open but the exchange closed meanwhile become ``OrderCancelled``
   with what filled.
5. The net position per symbol from our fills is compared with the exchange's position.

Every difference is logged, journaled as :class:`~messages.ReconcileDiscrepancy` and counted
in the gateway's health.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchange.delta import DeltaRestClient, NotFound
from messages import FillReported, OpenOrder, UnixNanos

if TYPE_CHECKING:
    from actors.trading._rest_gateway import RestGateway

__all__ = ["STALE_ENTRY", "reconcile"]

STALE_ENTRY = "stale_after_restart"
"""Reason code of an entry the restart found unsent and too old to place."""

_MARGIN_NS = 60 * 1_000_000_000
"""Fills are fetched from a minute before the oldest moment one could be missing."""


def reconcile(gw: RestGateway, client: DeltaRestClient) -> None:
    """Bring ``gw``'s books in line with the exchange (see the module docstring)."""
    t = gw.translator
    now = gw.context.now_ns()
    open_orders = {o.client_order_id: o for o in client.get_open_orders() if o.client_order_id}
    _book_missing_fills(gw, client, now)
    for coid, order in open_orders.items():
        if coid not in t.owner:
            detail = f"{coid} {order.side.value} {order.size} {order.symbol} ({order.status.value})"
            gw.discrepancy("unknown_open_order", detail, symbol=order.symbol, coid=coid)
            continue
        accepted = t.accepted_event(coid, order.order_id, order.symbol, now)
        if accepted is not None:
            gw.publish_event(coid, accepted)
    placed_now = _settle_uncertain(gw, client, open_orders)
    for coid in sorted(t.open - set(open_orders) - placed_now):
        _closed_while_away(gw, client, coid, now)
    _compare_positions(gw, client)
    gw.context.log.info(
        "%s: reconciled with the exchange: %d orders open, %d discrepancies",
        gw.context.actor_id,
        len(t.open),
        gw.discrepancies,
    )


def _book_missing_fills(gw: RestGateway, client: DeltaRestClient, now: int) -> None:
    t = gw.translator
    since = [t.last_fill_ns, *(t.placed_ns.get(c, 0) for c in t.open)]
    since += [cmd.ts_init for cmd in gw.uncertain]
    known = [s for s in since if s > 0]
    if not known:
        return
    fills = client.get_fills(start_ns=max(0, min(known) - _MARGIN_NS))
    for fill in sorted(fills, key=lambda f: (f.ts_event_ns, f.fill_id)):
        coid = fill.client_order_id
        if coid is None or coid not in t.owner or fill.fill_id in t.fills:
            continue
        report = FillReported(
            ts_event=UnixNanos(fill.ts_event_ns),
            ts_init=UnixNanos(now),
            fill=fill,
            seq=None,
            position_size_after=None,
        )
        filled = t.on_fill(report)
        if filled is not None:
            detail = f"{coid} {fill.side.value} {fill.size} @ {fill.price} ({fill.fill_id})"
            gw.discrepancy("fill_while_away", detail, symbol=fill.symbol, coid=coid)
            gw.publish_event(coid, filled)


def _settle_uncertain(
    gw: RestGateway, client: DeltaRestClient, open_orders: dict[str | None, OpenOrder]
) -> set[str]:
    """Place the replayed orders the exchange never saw; returns their client ids."""
    t = gw.translator
    placed: set[str] = set()
    uncertain, gw.uncertain = gw.uncertain, []
    for cmd in uncertain:
        coid = cmd.client_order_id
        if coid in open_orders or t.filled.get(coid, 0) > 0 or coid not in t.open:
            continue
        try:
            client.get_order_by_client_id(coid)
        except NotFound:
            age_ns = gw.context.now_ns() - cmd.ts_init
            limit = gw.stale_entry_ns
            if not cmd.reduce_only and limit is not None and age_ns > limit:
                # An entry whose moment has passed: refused here, so execution gives it up.
                detail = f"{coid}: an entry journaled {age_ns / 1e9:.0f} s ago; not placed"
                gw.discrepancy("stale_entry_dropped", detail, symbol=cmd.symbol, coid=coid)
                why = "journaled before the restart and older than the entry timeout"
                refused = t.rejected(cmd, STALE_ENTRY, why, gw.context.now_ns())
                gw.publish_event(coid, refused)
                continue
            detail = f"{coid}: not on the exchange after a restart; placing it now"
            gw.discrepancy("order_never_placed", detail, symbol=cmd.symbol, coid=coid)
            gw.send_order(cmd)
            placed.add(coid)
    return placed


def _closed_while_away(gw: RestGateway, client: DeltaRestClient, coid: str, now: int) -> None:
    t = gw.translator
    filled = t.filled.get(coid, 0)
    try:
        order = client.get_order_by_client_id(coid)
    except NotFound:
        order = None
    if order is not None and order.filled_size > filled:
        # Fills older than the fetch window: the order's own count is the truth.
        detail = f"{coid}: exchange filled {order.filled_size}, journal {filled}"
        gw.discrepancy("fill_count_mismatch", detail, symbol=order.symbol, coid=coid)
    symbol = order.symbol if order is not None else t.symbol_of.get(coid, "")
    cancelled = t.cancelled(
        coid,
        order.order_id if order is not None else "",
        symbol,
        "closed while the bot was away",
        now,
        filled=filled,
    )
    if cancelled is None:
        return
    detail = f"{coid}: closed on the exchange with {filled} of {t.size.get(coid)} filled"
    gw.discrepancy("cancelled_while_away", detail, symbol=symbol, coid=coid)
    gw.publish_event(coid, cancelled)


def _compare_positions(gw: RestGateway, client: DeltaRestClient) -> None:
    t = gw.translator
    venue = {p.symbol: p.size for p in client.get_positions()}
    for symbol in sorted(set(gw.symbols) | set(t.net)):
        ours, theirs = t.net.get(symbol, 0), venue.get(symbol, 0)
        if ours != theirs:
            detail = f"{symbol}: exchange holds {theirs}, this bot's fills add up to {ours}"
            gw.discrepancy("position_mismatch", detail, symbol=symbol, coid=None)
