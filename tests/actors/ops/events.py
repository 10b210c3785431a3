"""Trading and market events with plausible values, for the metrics tests."""

from __future__ import annotations

from decimal import Decimal

from messages import (
    BookHealth,
    Contracts,
    EquityUpdated,
    FeedHealth,
    HedgeClosed,
    HedgeOpened,
    KillSwitchTriggered,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    Side,
    UnixNanos,
)

T0 = UnixNanos(1_700_000_000_000_000_000)
_S = 1_000_000_000
_T = {"ts_init": T0, "ts_event": T0}


def trading_events() -> list[object]:
    """Two accepts, a reject whose code needs escaping, a cancel, three fills, a position
    and a hedge opened and closed, two equity updates (peak 1000, then 950) and a kill switch."""
    return [
        OrderAccepted(command_id="c1", client_order_id="o1", order_id="1", symbol="BTCUSD", **_T),
        OrderAccepted(command_id="c2", client_order_id="o2", order_id="2", symbol="ETHUSD", **_T),
        OrderRejected(command_id="c3", client_order_id="o3", symbol="BTCUSD",
                      reason_code='weird "code"\\x\n', message="no", **_T),
        OrderCancelled(command_id=None, client_order_id="o2", order_id="2", symbol="ETHUSD",
                       filled_size=Contracts(0), reason="timeout", **_T),
        _fill("f1", "BTCUSD", Side.BUY, 3, Decimal("0.5"), maker=True),
        _fill("f2", "BTCUSD", Side.BUY, 2, Decimal("0.25"), maker=True),
        _fill("f3", "BTCUSD", Side.SELL, 5, Decimal("-0.1"), maker=False),
        PositionOpened(position_id="p1", symbol="BTCUSD", size=Contracts(5),
                       entry_price=Decimal(100), stop_price=None, take_profit_price=None,
                       fees=Decimal(0), signal_id=None, **_T),
        HedgeOpened(hedge_id="h1", parent_position_id="p1", symbol="ETHUSD",
                    target_size=Contracts(-2), chunks=3, correlation=0.9, reason="loss",
                    **_T),
        HedgeClosed(hedge_id="h1", parent_position_id="p1", symbol="ETHUSD",
                    realised_pnl=Decimal(4), fees=Decimal(1), funding=Decimal(0),
                    reason="profit taken", **_T),
        PositionClosed(position_id="p1", symbol="BTCUSD", entry_price=Decimal(100),
                       exit_price=Decimal(110), realised_pnl=Decimal(50), fees=Decimal("0.65"),
                       funding=Decimal("-0.35"), reason="target", **_T),
        _equity(Decimal(1000)),
        _equity(Decimal(950)),
        KillSwitchTriggered(reason="drawdown", equity=Decimal(950), peak_equity=Decimal(1000),
                            daily_pnl=Decimal(-50), **_T),
    ]


def market_events() -> list[object]:
    """A stale feed 30 s old and a book with 2 resyncs, both measured at T0."""
    return [
        FeedHealth(symbol="BTCUSD", synced=True, stale=True, age_ns=30 * _S, candles_closed=7,
                   gaps_backfilled=1, candles_backfilled=2, candles_rejected=0,
                   history_candles=200, **_T),
        BookHealth(symbol="BTCUSD", synced=True, stale=False, age_ns=0, resyncs=2, gaps=1,
                   checksum_errors=1, feed_errors=0, overflows=0, updates=40, max_batch=3,
                   **_T),
    ]


def _fill(fill_id: str, symbol: str, side: Side, size: int, fee: Decimal, *, maker: bool) -> (
    OrderFilled
):
    return OrderFilled(fill_id=fill_id, client_order_id="o1", order_id="1", symbol=symbol,
                       side=side, price=Decimal(100), size=Contracts(size),
                       leaves_size=Contracts(0), fee=fee, fee_asset="USD", is_maker=maker,
                       **_T)


def _equity(equity: Decimal) -> EquityUpdated:
    return EquityUpdated(asset="USD", balance=equity, equity=equity,
                         available_margin=equity / 2, unrealised_pnl=Decimal(0), **_T)
