"""The peers of ``tests.bench.backtest``: our strategy's rules in backtesting.py and NautilusTrader.

Both peers run :class:`Decider` (``SignalRules`` restated on floats) inside their own normal
API: a ``backtesting.Strategy`` with ``self.I`` indicators over TA-Lib, and a NautilusTrader
``Strategy`` on 15-minute bars with its own EMA and Wilder RSI/ATR indicators. The peers are
imported inside the functions, so this module imports without them.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from actors.backtest import SymbolCandles
from messages.settings import Settings

WARMUP = 300  # candles that only warm the indicators up (bot.py backtest's default)
TF_MS = 900_000
NAN = math.nan


@dataclass(frozen=True, slots=True)
class Rules:
    """The strategy's parameters, from the default settings."""

    periods: tuple[int, int, int, int]  # ema fast, mid, slow, trend
    rsi_period: int
    atr_period: int
    pivot_lookback: int
    pivot_buffer_pct: float
    rsi_long: tuple[float, float]  # min <= rsi < max
    rsi_short: tuple[float, float]  # min < rsi <= max
    stop_atr: float
    reward_risk: float
    risk_fraction: float

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        s, r = settings.strategy, settings.risk
        return cls(
            periods=(s.ema_fast, s.ema_mid, s.ema_slow, s.ema_trend),
            rsi_period=s.rsi_period,
            atr_period=s.atr_period,
            pivot_lookback=s.pivot_lookback_candles,
            pivot_buffer_pct=s.pivot_buffer_pct,
            rsi_long=(s.rsi_long_min, s.rsi_long_max),
            rsi_short=(s.rsi_short_min, s.rsi_short_max),
            stop_atr=r.stop_atr_multiple,
            reward_risk=r.reward_risk,
            risk_fraction=float(r.risk_per_trade_pct) / 100.0,
        )


class Decider:
    """``SignalRules`` restated on floats for the peers' strategies: one per symbol.

    ``step`` takes one closed candle's values and the signed position held and returns
    ``"EXIT"``, ``"LONG"``, ``"SHORT"`` or None; an entry comes with ``(stop, target)``.
    """

    def __init__(self, rules: Rules, tick: float) -> None:
        self.rules, self.tick = rules, tick
        self.long_active = self.short_active = False
        self.fast_above: bool | None = None
        self.fast_below: bool | None = None

    def step(  # noqa: PLR0917 - one call per candle from the peers' strategies
        self,
        ema: tuple[float, float, float, float],
        rsi: float,
        atr: float,
        close: float,
        levels: tuple[float, float, float, float],
        held: float,
    ) -> tuple[str | None, float, float]:
        fast, mid, slow, trend = ema
        above, below = fast > mid, fast < mid
        exit_now = (held > 0 and self.fast_above is True and not above) or (
            held < 0 and self.fast_below is True and not below
        )
        self.fast_above, self.fast_below = above, below
        if any(math.isnan(v) for v in (*ema, rsi, atr, *levels)):
            return ("EXIT" if exit_now else None), NAN, NAN
        r1, r2, s1, s2 = levels
        (lmin, lmax), (smin, smax) = self.rules.rsi_long, self.rules.rsi_short
        buffer = close * self.rules.pivot_buffer_pct / 100.0
        level = r1 if close <= r1 else r2
        room = not (0 <= level - close <= buffer)
        long_now = fast > mid > slow and close > trend and lmin <= rsi < lmax and room
        level = s1 if close >= s1 else s2
        room = not (0 <= close - level <= buffer)
        short_now = fast < mid < slow and close < trend and smin < rsi <= smax and room
        fired = "LONG" if long_now and not self.long_active else None
        if fired is None and short_now and not self.short_active:
            fired = "SHORT"
        self.long_active, self.short_active = long_now, short_now
        if exit_now:
            return "EXIT", NAN, NAN
        if fired is None or held != 0:  # risk allows one position per symbol
            return None, NAN, NAN
        stop_dist = math.ceil(self.rules.stop_atr * atr / self.tick - 1e-9) * self.tick
        target_dist = math.floor(self.rules.reward_risk * stop_dist / self.tick + 1e-9) * self.tick
        sign = 1.0 if fired == "LONG" else -1.0
        return fired, close - sign * stop_dist, close + sign * target_dist


def pivot_levels(high: np.ndarray, low: np.ndarray, close: np.ndarray, lookback: int) -> np.ndarray:
    """R1, R2, S1, S2 of classic pivots over the last ``lookback`` candles (rows of 4)."""
    import talib

    top, bottom = talib.MAX(high, lookback), talib.MIN(low, lookback)
    p = (top + bottom + close) / 3.0
    return np.array([2 * p - bottom, p + (top - bottom), 2 * p - top, p - (top - bottom)])


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


# --- backtesting.py ---------------------------------------------------------------------


def bench_backtesting_py(
    candles: Mapping[str, SymbolCandles], ticks: Mapping[str, float], rules: Rules
) -> tuple[float, int]:
    """Seconds and closed trades of one ``Backtest`` per symbol (summed)."""
    import pandas as pd
    import talib
    from backtesting import Backtest, Strategy

    class RulesStrategy(Strategy):  # backtesting.py reads the class attributes
        tick = 1.0

        def init(self) -> None:
            close, high, low = self.data.Close, self.data.High, self.data.Low
            # backtesting.py steps only indicators held directly as attributes
            fast, mid, slow, trend = rules.periods
            self.ema_fast = self.I(talib.EMA, close, fast)
            self.ema_mid = self.I(talib.EMA, close, mid)
            self.ema_slow = self.I(talib.EMA, close, slow)
            self.ema_trend = self.I(talib.EMA, close, trend)
            self.rsi = self.I(talib.RSI, close, rules.rsi_period)
            self.atr = self.I(talib.ATR, high, low, close, rules.atr_period)
            self.levels = self.I(pivot_levels, high, low, close, rules.pivot_lookback)
            self.decider = Decider(rules, self.tick)

        def next(self) -> None:
            for order in self.orders:  # an unfilled entry expires after one candle
                if not order.is_contingent:
                    order.cancel()
            if len(self.data) <= WARMUP:
                return
            close = float(self.data.Close[-1])
            emas = (self.ema_fast, self.ema_mid, self.ema_slow, self.ema_trend)
            ema = tuple(float(e[-1]) for e in emas)
            levels = tuple(float(row[-1]) for row in self.levels)
            what, stop, target = self.decider.step(
                ema,
                float(self.rsi[-1]),
                float(self.atr[-1]),
                close,
                levels,  # type: ignore[arg-type]
                float(self.position.size),
            )
            if what == "EXIT":
                self.position.close()
            elif what is not None:
                fraction = min(rules.risk_fraction * close / abs(close - stop), 0.99)
                if what == "LONG":
                    self.buy(size=fraction, limit=close - self.tick, sl=stop, tp=target)
                else:
                    self.sell(size=fraction, limit=close + self.tick, sl=stop, tp=target)

    frames = {}
    for symbol, c in candles.items():
        frame = pd.DataFrame(c.ohlcv, columns=["Open", "High", "Low", "Close", "Volume"])
        frame.index = pd.to_datetime(c.open_ns, utc=True)
        frames[symbol] = frame
    total, trades = 0.0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "prices larger than cash" etc.: sizes are fractions
        for symbol, frame in frames.items():
            strategy = type(f"Rules{symbol}", (RulesStrategy,), {"tick": ticks[symbol]})

            def run(frame: Any = frame, strategy: Any = strategy) -> Any:
                bt = Backtest(frame, strategy, cash=10_000_000, commission=0.0005)
                return bt.run()

            seconds, stats = timed(run)
            total += seconds
            trades += int(stats["# Trades"])
    return total, trades


# --- NautilusTrader ---------------------------------------------------------------------


def bench_nautilus(
    candles: Mapping[str, SymbolCandles], ticks: Mapping[str, float], rules: Rules
) -> tuple[float, int]:
    """Seconds and closed positions of one ``BacktestEngine`` over the three symbols."""
    import pandas as pd
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.indicators import (
        AverageTrueRange,
        ExponentialMovingAverage,
        MovingAverageType,
        RelativeStrengthIndex,
    )
    from nautilus_trader.model.currencies import USDT
    from nautilus_trader.model.data import Bar, BarType
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, OrderType, TimeInForce
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
    from nautilus_trader.model.instruments import CryptoPerpetual
    from nautilus_trader.model.objects import Currency, Money, Price, Quantity
    from nautilus_trader.persistence.wranglers import BarDataWrangler
    from nautilus_trader.trading.strategy import Strategy

    venue = Venue("DELTA")

    class RulesConfig(StrategyConfig, frozen=True):
        instrument_id: InstrumentId
        bar_type: BarType
        tick: float

    class RulesStrategy(Strategy):
        def __init__(self, config: RulesConfig) -> None:
            super().__init__(config)
            self.emas = [ExponentialMovingAverage(n) for n in rules.periods]
            self.rsi = RelativeStrengthIndex(rules.rsi_period, MovingAverageType.WILDER)
            self.atr = AverageTrueRange(rules.atr_period, MovingAverageType.WILDER)
            self.highs: deque[float] = deque(maxlen=rules.pivot_lookback)
            self.lows: deque[float] = deque(maxlen=rules.pivot_lookback)
            self.decider = Decider(rules, config.tick)
            self.bars = 0
            self.closed = 0

        def on_start(self) -> None:
            self.instrument = self.cache.instrument(self.config.instrument_id)
            for indicator in (*self.emas, self.rsi, self.atr):
                self.register_indicator_for_bars(self.config.bar_type, indicator)
            self.subscribe_bars(self.config.bar_type)

        def on_position_closed(self, event: Any) -> None:  # noqa: ARG002 - counted only
            self.closed += 1

        def on_bar(self, bar: Bar) -> None:
            high, low, close = float(bar.high), float(bar.low), float(bar.close)
            self.highs.append(high)
            self.lows.append(low)
            self.bars += 1
            if self.bars <= WARMUP:
                return
            top, bottom = max(self.highs), min(self.lows)
            p = (top + bottom + close) / 3.0
            levels = (2 * p - bottom, p + (top - bottom), 2 * p - top, p - (top - bottom))
            iid = self.config.instrument_id
            held = self.portfolio.net_position(iid)
            what, stop, target = self.decider.step(
                tuple(e.value for e in self.emas),  # type: ignore[arg-type]
                self.rsi.value * 100.0,
                self.atr.value,
                close,
                levels,
                float(held),
            )
            if what == "EXIT":
                self.cancel_all_orders(iid)
                self.close_all_positions(iid)
            elif what is not None and not self.cache.orders_open(instrument_id=iid):
                self._enter(what == "LONG", close, stop, target)

        def _enter(self, long: bool, close: float, stop: float, target: float) -> None:
            balance = self.portfolio.account(venue).balance_total(USDT).as_double()
            size = min(balance * rules.risk_fraction / abs(close - stop), balance / close)
            tick = self.config.tick
            orders = self.order_factory.bracket(
                instrument_id=self.config.instrument_id,
                order_side=OrderSide.BUY if long else OrderSide.SELL,
                quantity=self.instrument.make_qty(size),
                entry_order_type=OrderType.LIMIT,
                entry_price=self.instrument.make_price(close - tick if long else close + tick),
                entry_post_only=True,
                time_in_force=TimeInForce.GTD,
                expire_time=self.clock.utc_now() + timedelta(minutes=15, seconds=1),
                sl_trigger_price=self.instrument.make_price(stop),
                tp_price=self.instrument.make_price(target),
            )
            self.submit_order_list(orders)

    instruments, bars = [], []
    for symbol, c in candles.items():
        tick = ticks[symbol]
        decimals = max(0, -math.floor(math.log10(tick) + 1e-9))
        base = symbol.removesuffix("USD")
        instrument = CryptoPerpetual(
            instrument_id=InstrumentId(Symbol(f"{symbol}-PERP"), venue),
            raw_symbol=Symbol(symbol),
            base_currency=Currency.from_str(base),
            quote_currency=USDT,
            settlement_currency=USDT,
            is_inverse=False,
            price_precision=decimals,
            price_increment=Price(tick, decimals),
            size_precision=3,
            size_increment=Quantity.from_str("0.001"),
            max_quantity=None, min_quantity=Quantity.from_str("0.001"),
            max_notional=None, min_notional=None, max_price=None, min_price=None,
            margin_init=Decimal("0.01"), margin_maint=Decimal("0.005"),
            maker_fee=Decimal("0.0002"), taker_fee=Decimal("0.0005"),
            ts_event=0, ts_init=0,
        )  # fmt: skip
        bar_type = BarType.from_str(f"{instrument.id}-15-MINUTE-LAST-EXTERNAL")
        frame = pd.DataFrame(c.ohlcv, columns=["open", "high", "low", "close", "volume"])
        frame.index = pd.to_datetime(c.open_ns + TF_MS * 1_000_000, utc=True)  # bar close
        bars.append(BarDataWrangler(bar_type, instrument).process(frame))
        instruments.append((instrument, bar_type, tick))

    def run() -> int:
        engine = BacktestEngine(
            BacktestEngineConfig(
                trader_id=TraderId("BENCH-001"),
                logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
            )
        )
        engine.add_venue(
            venue, oms_type=OmsType.NETTING, account_type=AccountType.MARGIN,
            base_currency=USDT, starting_balances=[Money(10_000, USDT)],
        )  # fmt: skip
        strategies = []
        for k, (instrument, bar_type, tick) in enumerate(instruments):
            engine.add_instrument(instrument)
            engine.add_data(bars[k])
            config = RulesConfig(
                instrument_id=instrument.id, bar_type=bar_type, tick=tick, order_id_tag=str(k)
            )
            strategies.append(RulesStrategy(config))
        engine.add_strategies(strategies)
        engine.run()
        closed = sum(s.closed for s in strategies)
        engine.dispose()
        return closed

    return timed(run)
