"""The backtest runs the live trading tree deterministically and reports exact figures."""

from __future__ import annotations

import gc
from dataclasses import replace
from decimal import Decimal

import pytest

from actors.backtest import BacktestRun, candles_from_generator, run_backtest
from actors.backtest import _run as backtest_loop
from actors.backtest._report import metrics, svg_chart, to_json, trade_hash
from exchange.sim import default_products
from messages import HedgeClosed, PositionClosed, UnixNanos
from messages.settings import Settings

START_NS = 1_700_006_400 * 10**9
DAY_NS = 86_400 * 10**9


def _run(seed: int = 42, count: int = 900) -> BacktestRun:
    settings = Settings()
    products = default_products()
    candles = candles_from_generator(
        products, settings.bot.symbols, timeframe_ms=900_000, start_ns=START_NS, count=count,
        seed=seed,
    )  # fmt: skip
    warm = int(candles["BTCUSD"].open_ns[300])
    return run_backtest(settings, candles, products, trade_from_ns=warm)


def test_identical_inputs_give_identical_trades_and_the_wallet_equals_the_ledgers() -> None:
    first, second = _run(), _run()
    closed = [e for e in first.events if isinstance(e, PositionClosed)]
    assert closed, "the generator's market trades"
    assert trade_hash(first) == trade_hash(second)
    assert metrics(first) == metrics(second)
    assert to_json(first, metrics(first)) == to_json(second, metrics(second))
    assert trade_hash(_run(seed=7)) != trade_hash(first)
    assert first.candles == 600 and len(first.equity) == 600
    # The ledgers book funding at the mark the gateway publishes right before it (the only
    # mark the backtest publishes): their sum is the engine's wallet change to the cent.
    trades = [e for e in first.events if isinstance(e, (PositionClosed, HedgeClosed))]
    booked = sum((t.realised_pnl - t.fees + t.funding for t in trades), Decimal(0))
    assert any(t.funding for t in trades)
    assert booked == first.end_balance - first.start_balance


def _synthetic(equity: list[float]) -> BacktestRun:
    tf = 900 * 10**9
    run = BacktestRun(
        symbols=("BTCUSD",),
        timeframe_ns=tf,
        start_balance=Decimal(100),
        end_balance=Decimal(str(equity[-1])),
    )
    run.equity = equity
    run.equity_ns = [START_NS + (k + 1) * tf for k in range(len(equity))]
    run.exposed = [True, False, True, False]
    run.candles = len(equity)
    for pnl in ("10", "-4", "6"):
        run.events.append(
            PositionClosed(
                ts_event=UnixNanos(START_NS),
                ts_init=UnixNanos(START_NS),
                position_id=f"p{pnl}",
                symbol="BTCUSD",
                entry_price=Decimal(100),
                exit_price=Decimal(101),
                realised_pnl=Decimal(pnl),
                fees=Decimal(1),
                funding=Decimal(0),
                reason="target",
            )
        )
    return run


def test_metrics_of_a_known_curve() -> None:
    values = metrics(_synthetic([110.0, 99.0, 121.0, 115.0]))
    assert values["total_return_pct"] == pytest.approx(15.0)
    assert values["max_drawdown_pct"] == pytest.approx(10.0)  # 110 -> 99
    assert values["max_drawdown_days"] == pytest.approx(900 * 2 / 86_400, abs=0.01)
    assert values["trades"] == 3 and values["win_rate_pct"] == pytest.approx(66.67)
    assert values["profit_factor"] == pytest.approx((9 + 5) / 5)  # nets 9, -5, 5
    assert values["average_trade"] == "3.0000" and values["fees"] == "3.0000"
    assert values["exposure_pct"] == 50


def test_chart_is_an_svg_with_both_curves() -> None:
    svg = svg_chart(_synthetic([110.0, 99.0, 121.0, 115.0]))
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "drawdown -10.00 %" in svg


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_left_as_it_was(enabled: bool) -> None:
    """A run pauses the cyclic collector for speed; the caller's setting comes back, after
    a failed run too."""
    settings, products = Settings(), default_products()
    candles = candles_from_generator(
        products, settings.bot.symbols, timeframe_ms=900_000, start_ns=START_NS, count=50, seed=1
    )
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        run_backtest(settings, candles, products)
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError, match="no candle"):
            run_backtest(settings, candles, products, trade_from_ns=START_NS + 100 * DAY_NS)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_candle_off_the_tick_grid_is_refused_by_name() -> None:
    settings, products = Settings(), default_products()
    candles = candles_from_generator(
        products, settings.bot.symbols, timeframe_ms=900_000, start_ns=START_NS, count=20, seed=1
    )
    sol = candles["SOLUSD"]
    sol.ohlcv[5, 1] += 0.001  # a high between two ticks
    with pytest.raises(ValueError, match="SOLUSD: a candle price is off the"):
        run_backtest(settings, candles, products)


@pytest.mark.parametrize(("hedging", "seed"), [(True, 1), (True, 3), (False, 1)])
def test_skipping_the_steps_and_candles_nothing_reads_changes_no_trade(
    hedging: bool, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backtest plays a candle's later steps only where something of ours hears them,
    and tells a strategy only the candles that change what its rules read; playing every
    step of every symbol and delivering every candle, as the live tree sees them, must give
    the very same trades.

    A 1-day correlation window over any correlation makes the generator's market hedge; on
    these seeds a hedge once started at the fill of an entry, in a symbol that had not
    moved since the candle's open, and bought at that stale price.
    """
    settings = Settings()
    settings = replace(
        settings,
        risk=replace(settings.risk, daily_loss_pct=Decimal(100), max_drawdown_pct=Decimal(100)),
        hedge=replace(
            settings.hedge, enabled=hedging, min_correlation=0.0, correlation_window_days=1
        ),
    )
    products = default_products()
    candles = candles_from_generator(
        products, settings.bot.symbols, timeframe_ms=900_000, start_ns=START_NS, count=1000,
        seed=seed,
    )  # fmt: skip
    warm = int(candles["BTCUSD"].open_ns[300])
    skipping = run_backtest(settings, candles, products, trade_from_ns=warm)
    monkeypatch.setattr(backtest_loop, "_movers", lambda markets, *_, **__: markets)
    monkeypatch.setattr(backtest_loop, "_timer_before", lambda *_: True)
    monkeypatch.setattr(backtest_loop, "_heard", lambda _, values, *__: [True] * len(values))
    every_step = run_backtest(settings, candles, products, trade_from_ns=warm)
    hedges = [e for e in every_step.events if isinstance(e, HedgeClosed)]
    assert bool(hedges) is hedging
    assert skipping.events == every_step.events
    assert skipping.end_balance == every_step.end_balance
    assert skipping.equity == every_step.equity
