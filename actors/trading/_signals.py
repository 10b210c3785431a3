"""SignalRules: the strategy's entry and exit rules for one symbol (pure logic).

Called once per ``IndicatorsUpdated`` (one closed candle of ``bot.timeframe``) with the
signed size the strategy holds in the symbol. Returns a :class:`~messages.Signal` or None.
No clock, no I/O: the caller passes ``now_ns`` for ``ts_init``.

Rules (settings in ``[strategy]`` and ``[risk]``):

- **Long regime**: ema_fast > ema_mid > ema_slow; close > ema_trend (only with
  ``trend_filter``); rsi_long_min <= rsi < rsi_long_max; and the close is not within
  ``pivot_buffer_pct`` % below the nearest resistance (R1, or R2 once the close is above
  R1; none above R2). **Short** mirrors it: ema_fast < ema_mid < ema_slow, close < ema_trend,
  rsi_short_min < rsi <= rsi_short_max, not within the buffer above S1 (S2 below S1).
- **Edge-triggered**: a signal fires on the candle where a regime becomes true after a
  candle where it was false; while it stays true nothing more fires. A candle on which an
  indicator a rule needs is not in ``valid`` fires nothing and leaves the regime unchanged.
- **Exit**: while holding a long, ema_fast going from above ema_mid to not above fires one
  ``EXIT`` (mirror for a short); one exit per held position.
- **Stop and target** on entries: stop distance = stop_atr_multiple x ATR rounded *up* to a
  tick; target distance = reward_risk x stop distance rounded down to a tick.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from actors.trading._ids import to_decimal
from messages import Direction, IndicatorsUpdated, Product, Signal, UnixNanos
from messages.settings import RiskSettings, StrategySettings

__all__ = ["SignalRules", "rule_inputs"]

_TREND_FIELDS = ("ema_fast", "ema_mid", "ema_slow", "rsi", "atr")
_LONG_PIVOTS = ("pivot_r1", "pivot_r2")
_SHORT_PIVOTS = ("pivot_s1", "pivot_s2")
_CROSS_FIELDS = ("ema_fast", "ema_mid")


class SignalRules:
    """Entry and exit rules of one symbol; keeps the regime and cross state between candles."""

    def __init__(
        self, symbol: str, strategy: StrategySettings, risk: RiskSettings, product: Product
    ) -> None:
        self.symbol = symbol
        self.strategy = strategy
        self.product = product
        self.stop_multiple = to_decimal(risk.stop_atr_multiple)
        self.reward_risk = to_decimal(risk.reward_risk)
        self.long_active = False
        self.short_active = False
        self.fast_above: bool | None = None
        self.fast_below: bool | None = None
        self.exit_sent = False
        self._needs = (
            frozenset(_CROSS_FIELDS),
            frozenset(self._needed(long=True)),
            frozenset(self._needed(long=False)),
        )
        self._usable: dict[tuple[str, ...], tuple[bool, bool, bool]] = {}

    def position_changed(self) -> None:
        """A position of this symbol opened or closed: a new exit may fire for the next one."""
        self.exit_sent = False

    def on_indicators(self, ev: IndicatorsUpdated, *, held: int, now_ns: int) -> Signal | None:
        """Apply one closed candle; return the signal it fires, if any.

        Args:
            ev: The candle's indicators (must be this rules' symbol).
            held: Signed contracts the strategy holds in the symbol (0 when flat).
            now_ns: Creation time for the signal, ns.
        """
        cross, long, short = self._usable_rules(ev.valid)
        exit_signal = self._exit(ev, held=held, now_ns=now_ns) if cross else None
        entry = self._entry(ev, long_usable=long, short_usable=short, now_ns=now_ns)
        return exit_signal if exit_signal is not None else entry

    # --- exits ----------------------------------------------------------------------------

    def _usable_rules(self, valid: tuple[str, ...]) -> tuple[bool, bool, bool]:
        """Whether the exit, the long and the short rule have every indicator they need.

        Remembered per ``valid`` tuple: a feed repeats the same few (all of them once warm).
        """
        usable = self._usable.get(valid)
        if usable is None:
            if len(self._usable) >= 256:
                self._usable.clear()
            present = frozenset(valid)
            cross, long, short = (needs <= present for needs in self._needs)
            usable = self._usable[valid] = (cross, long, short)
        return usable

    def _exit(self, ev: IndicatorsUpdated, *, held: int, now_ns: int) -> Signal | None:
        above, below = ev.ema_fast > ev.ema_mid, ev.ema_fast < ev.ema_mid
        was_above, was_below = self.fast_above, self.fast_below
        self.fast_above, self.fast_below = above, below
        crossed_down = held > 0 and was_above is True and not above
        crossed_up = held < 0 and was_below is True and not below
        if self.exit_sent or not (crossed_down or crossed_up):
            return None
        self.exit_sent = True
        why = "ema fast crossed below mid" if crossed_down else "ema fast crossed above mid"
        return self._signal(ev, Direction.EXIT, reason=why, stop=None, target=None, now_ns=now_ns)

    # --- entries --------------------------------------------------------------------------

    def _entry(
        self, ev: IndicatorsUpdated, *, long_usable: bool, short_usable: bool, now_ns: int
    ) -> Signal | None:
        fired: Signal | None = None
        if long_usable:
            long_now = self._regime(ev, long=True)
            if long_now and not self.long_active:
                fired = self._entry_signal(ev, Direction.LONG, self._reason(ev, long=True), now_ns)
            self.long_active = long_now
        if short_usable:
            short_now = self._regime(ev, long=False)
            if short_now and not self.short_active and fired is None:
                reason = self._reason(ev, long=False)
                fired = self._entry_signal(ev, Direction.SHORT, reason, now_ns)
            self.short_active = short_now
        return fired

    def _needed(self, *, long: bool) -> tuple[str, ...]:
        trend = ("ema_trend",) if self.strategy.trend_filter else ()
        return _TREND_FIELDS + trend + (_LONG_PIVOTS if long else _SHORT_PIVOTS)

    def _regime(self, ev: IndicatorsUpdated, *, long: bool) -> bool:
        """Whether the long (or short) regime holds; every indicator it needs is valid.

        Runs on every candle, so it builds no text: :meth:`_reason` explains a signal.
        """
        s, close = self.strategy, float(ev.close)
        if long:
            if not (ev.ema_fast > ev.ema_mid > ev.ema_slow):
                return False
            if s.trend_filter and not close > ev.ema_trend:
                return False
            if not s.rsi_long_min <= ev.rsi < s.rsi_long_max:
                return False
            level = ev.pivot_r1 if close <= ev.pivot_r1 else ev.pivot_r2
            gap = level - close if close <= level else math.inf
        else:
            if not (ev.ema_fast < ev.ema_mid < ev.ema_slow):
                return False
            if s.trend_filter and not close < ev.ema_trend:
                return False
            if not s.rsi_short_min < ev.rsi <= s.rsi_short_max:
                return False
            level = ev.pivot_s1 if close >= ev.pivot_s1 else ev.pivot_s2
            gap = close - level if close >= level else math.inf
        return gap > close * s.pivot_buffer_pct / 100.0

    def _reason(self, ev: IndicatorsUpdated, *, long: bool) -> str:
        """Why the long (or short) regime holds: the text a signal carries."""
        s, close = self.strategy, float(ev.close)
        if long:
            aligned = ev.ema_fast > ev.ema_mid > ev.ema_slow
            trend = not s.trend_filter or close > ev.ema_trend
            level = ev.pivot_r1 if close <= ev.pivot_r1 else ev.pivot_r2
            gap = level - close if close <= level else math.inf
        else:
            aligned = ev.ema_fast < ev.ema_mid < ev.ema_slow
            trend = not s.trend_filter or close < ev.ema_trend
            level = ev.pivot_s1 if close >= ev.pivot_s1 else ev.pivot_s2
            gap = close - level if close >= level else math.inf
        word = "resistance" if long else "support"
        return (
            f"ema {'aligned' if aligned else 'not aligned'}, trend {'ok' if trend else 'against'}, "
            f"rsi {ev.rsi:.2f}, next {word} "
            + ("none" if math.isinf(gap) else f"{100.0 * gap / close:.3f}% away")
        )

    def _entry_signal(
        self, ev: IndicatorsUpdated, direction: Direction, reason: str, now_ns: int
    ) -> Signal | None:
        atr = to_decimal(ev.atr)
        if not atr > 0:
            return None
        stop_distance = self.product.round_price(atr * self.stop_multiple, up=True)
        target_distance = self.product.round_price(stop_distance * self.reward_risk, up=False)
        sign = 1 if direction is Direction.LONG else -1
        stop = ev.close - sign * stop_distance
        target = ev.close + sign * target_distance
        if stop <= 0 or target <= 0 or target_distance <= 0:
            return None
        return self._signal(ev, direction, reason=reason, stop=stop, target=target, now_ns=now_ns)

    def _signal(
        self,
        ev: IndicatorsUpdated,
        direction: Direction,
        *,
        reason: str,
        stop: Decimal | None,
        target: Decimal | None,
        now_ns: int,
    ) -> Signal:
        return Signal(
            ts_event=ev.ts_event,
            ts_init=UnixNanos(now_ns),
            signal_id=f"{self.symbol}-{ev.open_time_ns}-{direction.value}",
            symbol=self.symbol,
            direction=direction,
            reason=reason,
            candle_open_time_ns=ev.open_time_ns,
            price=ev.close,
            stop_price=stop,
            take_profit_price=target,
        )


def rule_inputs(strategy: StrategySettings, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per candle, what :class:`SignalRules` reads of a candle to update its state: ema_fast
    above ema_mid, ema_fast below it, the long regime, the short regime (booleans, one row
    a candle; ``columns`` holds ``close`` and each indicator field, as floats).

    The batch form of :meth:`SignalRules._exit` and :meth:`SignalRules._regime`, for the
    backtest: a candle whose row and validity equal the previous candle's leaves the rules'
    state as it was and fires nothing (no edge, no cross), so it need not be delivered.
    ``tests/actors/trading/test_logic.py`` holds it equal to the per-candle rules.
    """
    s, close = strategy, columns["close"]
    fast, mid, slow = columns["ema_fast"], columns["ema_mid"], columns["ema_slow"]
    trend, rsi = columns["ema_trend"], columns["rsi"]
    with np.errstate(invalid="ignore"):  # NaN before warm-up compares False, as in Python
        level = np.where(close <= columns["pivot_r1"], columns["pivot_r1"], columns["pivot_r2"])
        room = np.where(close <= level, level - close, np.inf) > close * s.pivot_buffer_pct / 100.0
        long = (fast > mid) & (mid > slow) & (s.rsi_long_min <= rsi) & (rsi < s.rsi_long_max)
        long &= room & ((close > trend) if s.trend_filter else True)
        level = np.where(close >= columns["pivot_s1"], columns["pivot_s1"], columns["pivot_s2"])
        room = np.where(close >= level, close - level, np.inf) > close * s.pivot_buffer_pct / 100.0
        short = (fast < mid) & (mid < slow) & (s.rsi_short_min < rsi) & (rsi <= s.rsi_short_max)
        short &= room & ((close < trend) if s.trend_filter else True)
        return np.column_stack((fast > mid, fast < mid, long, short))
