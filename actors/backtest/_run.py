"""The backtest loop: the live trading tree on the deterministic runtime, fed candle by candle.

What runs is ``trading_tree`` itself (strategy, risk, execution, positions, hedges) with an
:class:`~actors.trading.EngineGateway` around the simulator's matching engine, on a
:class:`~actors.DeterministicRuntime` whose clock is the candles' time. What the live market
subtree would publish is computed in batch, which the indicator package guarantees equal to
streaming bit for bit: one ``IndicatorSet.run`` per symbol and one rolling correlation per
pair.

Per candle and symbol, the market moves through an intra-candle path, at a quarter of the
candle apart: open, the extreme *against* the symbol's open position first (low for a long,
high for a short; for no position the path of the candle's direction: low first when it
rises), the other extreme, close. So when a candle touches both a position's stop and its
target, the stop fills first (conservative). Each step trades at its price with a one-tick
spread of deep liquidity, so a resting post-only buy fills only once a later price trades
below it. Symbols with nothing open or resting get only the close step (their book is still
fresh for a new entry). At each close the strategies get their ``IndicatorsUpdated`` (only
from ``trade_from_ns`` on; earlier candles only warm the indicators up), the positions the
correlations. Funding is exchanged every ``funding_interval_s`` at ``funding_rate_pct``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from actors import ChildSpec, DeterministicRuntime, Restart, SupervisorSpec, supervisor
from actors._actor import Actor, Journaled
from actors.backtest._data import SymbolCandles
from actors.market._indicators import INDICATOR_FIELDS
from actors.trading import (
    GATEWAY_ID,
    USER_ID,
    ApplyFunding,
    EngineGateway,
    MarketStep,
    product_of,
    trading_tree,
)
from exchange.sim import MatchingEngine, SimProduct
from indicators import IndicatorSet, rolling_correlation
from indicators._values import OUTPUT_INDEX
from messages import (
    CorrelationUpdated,
    HedgeClosed,
    IndicatorsUpdated,
    OrderFilled,
    PositionClosed,
    PositionOpened,
    UnixNanos,
)
from messages.settings import TIMEFRAME_SECONDS, Settings

__all__ = ["BacktestRun", "run_backtest"]

_NS = 1_000_000_000
_RECORDED = (PositionOpened, PositionClosed, HedgeClosed, OrderFilled)
_ZERO = Decimal(0)


class _Recorder(Actor):
    """Keeps the trading events the report needs, in order."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def on_start(self) -> None:
        for kind in _RECORDED:
            self.context.subscribe(kind)

    def receive(self, message: object) -> Any:
        self.log.append(message.event if isinstance(message, Journaled) else message)


@dataclass(slots=True)
class BacktestRun:
    """What a backtest produced (see ``actors.backtest._report`` for the metrics)."""

    symbols: tuple[str, ...]
    timeframe_ns: int
    start_balance: Decimal
    end_balance: Decimal
    equity_ns: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    exposed: list[bool] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    candles: int = 0


def run_backtest(
    settings: Settings,
    candles: Mapping[str, SymbolCandles],
    products: Sequence[SimProduct],
    *,
    trade_from_ns: int | None = None,
    trade_to_ns: int | None = None,
    funding_rate_pct: Decimal = Decimal("0.01"),
    progress: Callable[[int, int], None] | None = None,
) -> BacktestRun:
    """Run the trading tree over ``candles`` (aligned on common open times).

    Raises:
        ValueError: the symbols share no candle time.
    """
    symbols = tuple(settings.bot.symbols)
    tf_ns = TIMEFRAME_SECONDS[settings.bot.timeframe] * _NS
    by_symbol = {p.symbol: p for p in products}
    times, rows = _aligned(candles, symbols)
    # Indicators and correlations see every candle (the warm-up); the loop only the traded ones.
    indicators = {s: _indicator_rows(settings, candles[s], rows[s], tf_ns) for s in symbols}
    closes = np.column_stack([candles[s].ohlcv[rows[s], 3] for s in symbols])
    window = max(2, settings.hedge.correlation_window_days * 86_400 * _NS // tf_ns)
    pairs = _correlations(closes, window)
    traded = _traded(times, trade_from_ns, trade_to_ns)
    times, rows = times[traded], {s: r[traded] for s, r in rows.items()}
    indicators = {s: tuple(a[traded] for a in v) for s, v in indicators.items()}  # type: ignore[misc]
    pairs = {k: v[traded] for k, v in pairs.items()}

    balance = settings.sim.starting_balance
    sims = [by_symbol[s] for s in symbols] + [p for p in products if p.symbol not in symbols]
    engine = MatchingEngine(sims, book_deltas=False)  # the gateway ignores book deltas
    engine.add_account(USER_ID, balance)
    log: list[Any] = []
    start = int(times[0])
    runtime = _start_tree(settings, sims, engine, log, start)
    result = BacktestRun(
        symbols=symbols, timeframe_ns=tf_ns, start_balance=balance, end_balance=balance
    )
    account = engine.accounts[USER_ID]
    markets = [
        _Market(by_symbol[s], candles[s].prices, rows[s].tolist(), account, start_ns=start,
                funding_rate_pct=funding_rate_pct)
        for s in symbols
    ]  # fmt: skip
    publisher = _CloseEvents(symbols, indicators, pairs, window, markets)
    total = len(times)
    for i, t in enumerate(times.tolist()):
        close_ns = t + tf_ns
        for market in markets:
            market.play(runtime, i, t, tf_ns)
            market.fund(runtime, close_ns)
        runtime.run_until(close_ns)
        publisher.publish(runtime, i, t, tf_ns)
        _record_equity(result, engine, account, close_ns)
        if progress is not None:
            progress(i + 1, total)
    runtime.run_until_idle()
    result.end_balance = account.balance
    result.events = log
    assert runtime.shutdown() == []
    return result


def _record_equity(result: BacktestRun, engine: MatchingEngine, account: Any, ts_ns: int) -> None:
    """The wallet's balance plus unrealised PnL (zero without a position) at ``ts_ns``."""
    exposed = any(p.size for p in account.positions.values())
    unrealized = account.unrealized(engine.marks()) if exposed else _ZERO
    result.candles += 1
    result.equity_ns.append(ts_ns)
    result.equity.append(float(account.balance + unrealized))
    result.exposed.append(exposed)


def _start_tree(
    settings: Settings,
    sims: Sequence[SimProduct],
    engine: MatchingEngine,
    log: list[Any],
    start: int,
) -> DeterministicRuntime:
    """The trading tree over ``engine`` (which outlives a restarted gateway), plus a recorder."""
    balance = settings.sim.starting_balance
    gateway = ChildSpec(
        actor_id=GATEWAY_ID,
        factory=lambda: EngineGateway(products=sims, balance=balance, engine=engine),
    )
    tree = trading_tree(
        settings, products={p.symbol: product_of(p) for p in sims}, gateway_spec=gateway
    )
    recorder = ChildSpec(actor_id="backtest-recorder", factory=lambda: _Recorder(log))
    root = supervisor("root", SupervisorSpec(children=(recorder, tree)), restart=Restart.PERMANENT)
    runtime = DeterministicRuntime(start_ns=start, seed=settings.sim.seed, trace=False)
    runtime.start_root(root)
    runtime.run_until_idle()
    return runtime


def _traded(times: np.ndarray, start_ns: int | None, end_ns: int | None) -> np.ndarray:
    """Indices of the candle times in ``[start_ns, end_ns)``; ValueError when none."""
    keep = np.ones(len(times), dtype=bool)
    if start_ns is not None:
        keep &= times >= start_ns
    if end_ns is not None:
        keep &= times < end_ns
    if not keep.any():
        raise ValueError("no candle of all the symbols falls in the traded range")
    return np.flatnonzero(keep)


def _aligned(
    candles: Mapping[str, SymbolCandles], symbols: Sequence[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    common = candles[symbols[0]].open_ns
    for s in symbols[1:]:
        common = np.intersect1d(common, candles[s].open_ns)
    rows = {s: np.searchsorted(candles[s].open_ns, common) for s in symbols}
    return common, rows


def _indicator_rows(
    settings: Settings, data: SymbolCandles, rows: np.ndarray, tf_ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, valid masks, bars seen) per aligned candle, from one batch run over all."""
    history = np.zeros(
        len(data),
        dtype=[
            ("open_time_ns", "i8"),
            ("open", "f8"),
            ("high", "f8"),
            ("low", "f8"),
            ("close", "f8"),
            ("volume", "f8"),
        ],
    )
    history["open_time_ns"] = data.open_ns
    for k, name in enumerate(("open", "high", "low", "close", "volume")):
        history[name] = data.ohlcv[:, k]
    series = IndicatorSet.from_settings(settings.strategy, candle_interval_ns=tf_ns).run(history)
    return series.values[rows], series.valid_mask[rows], series.bars_seen[rows]


def _correlations(closes: np.ndarray, window: int) -> dict[tuple[int, int], np.ndarray]:
    n = closes.shape[1]
    return {
        (a, b): rolling_correlation(closes[:, a], closes[:, b], window)
        for a in range(n)
        for b in range(a + 1, n)
    }


class _Market:
    """One symbol's intra-candle market path, sent to the gateway as ``MarketStep``s."""

    __slots__ = (
        "account",
        "funding_ns",
        "funding_rate_pct",
        "next_funding_ns",
        "pid",
        "prices",
        "rows",
        "symbol",
        "tick",
    )

    def __init__(
        self,
        product: SimProduct,
        prices: Sequence[tuple[Decimal, Decimal, Decimal, Decimal]],
        rows: list[int],
        account: Any,
        *,
        start_ns: int,
        funding_rate_pct: Decimal,
    ) -> None:
        self.symbol = product.symbol
        self.pid = product.product_id
        self.tick = product.tick_size
        self.prices = prices
        self.rows = rows
        self.account = account
        self.funding_ns = product.funding_interval_s * _NS
        self.next_funding_ns = (start_ns // self.funding_ns + 1) * self.funding_ns
        self.funding_rate_pct = funding_rate_pct

    def fund(self, runtime: DeterministicRuntime, until_ns: int) -> None:
        """Exchange funding at every funding time up to ``until_ns``, each at its time."""
        while self.next_funding_ns <= until_ns:
            runtime.run_until(self.next_funding_ns)
            runtime.inject(GATEWAY_ID, ApplyFunding(self.symbol, self.funding_rate_pct))
            runtime.run_until_idle()
            self.next_funding_ns += self.funding_ns

    def close(self, i: int) -> Decimal:
        """The close price of traded candle ``i``."""
        return self.prices[self.rows[i]][3]

    def play(self, runtime: DeterministicRuntime, i: int, open_ns: int, tf_ns: int) -> None:
        """The path of traded candle ``i`` (see the module docstring), each step delivered."""
        o, h, low, c = self.prices[self.rows[i]]
        pid, account = self.pid, self.account
        held = account.positions[pid].size
        busy = held != 0 or any(o.product_id == pid for o in account.open_orders.values())
        if not busy:
            path: tuple[Decimal, ...] = (c,)
            offsets: tuple[int, ...] = (tf_ns - 1,)
        else:
            low_first = held > 0 or (held == 0 and c >= o)
            path = (o, low, h, c) if low_first else (o, h, low, c)
            offsets = (0, tf_ns // 4, tf_ns // 2, tf_ns - 1)
        symbol, tick = self.symbol, self.tick
        for price, offset in zip(path, offsets, strict=True):
            runtime.run_until(open_ns + offset)
            runtime.inject(
                GATEWAY_ID, MarketStep(symbol, price=price, bid=price, ask=price + tick, volume=1)
            )
            runtime.run_until_idle()


class _CloseEvents:
    """What the market subtree publishes at each candle close, from the batch results."""

    def __init__(
        self,
        symbols: Sequence[str],
        indicators: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
        pairs: Mapping[tuple[int, int], np.ndarray],
        window: int,
        markets: Sequence[_Market],
    ) -> None:
        self.symbols = tuple(symbols)
        self.window = window
        self.pairs = [(a, b, series.tolist()) for (a, b), series in pairs.items()]
        columns = [OUTPUT_INDEX[name] for name in INDICATOR_FIELDS]
        self.feeds = []
        for symbol, market in zip(symbols, markets, strict=True):
            values, masks, seen = indicators[symbol]
            self.feeds.append(
                (
                    symbol,
                    f"strategy:{symbol}",
                    market,
                    values[:, columns].tolist(),
                    masks.tolist(),
                    seen.tolist(),
                )
            )
        self.valid: dict[int, tuple[str, ...]] = {}

    def _valid(self, mask: int) -> tuple[str, ...]:
        valid = self.valid.get(mask)
        if valid is None:
            valid = tuple(name for name in INDICATOR_FIELDS if mask & (1 << OUTPUT_INDEX[name]))
            self.valid[mask] = valid
        return valid

    def publish(self, runtime: DeterministicRuntime, i: int, open_ns: int, tf_ns: int) -> None:
        """Correlations to the positions, then each symbol's indicators to its strategy."""
        close_ns = UnixNanos(open_ns + tf_ns)
        if runtime.has_subscribers(CorrelationUpdated):  # positions and hedges come and go
            n = len(self.symbols)
            matrix = [[1.0] * n for _ in range(n)]
            for a, b, series in self.pairs:
                matrix[a][b] = matrix[b][a] = series[i]
            runtime.publish(
                CorrelationUpdated(
                    ts_event=close_ns,
                    ts_init=close_ns,
                    symbols=self.symbols,
                    matrix=tuple(tuple(row) for row in matrix),
                    window=self.window,
                ),
                None,
            )
        open_time = UnixNanos(open_ns)
        for symbol, target, market, values, masks, seen in self.feeds:
            runtime.inject(
                target,
                IndicatorsUpdated(
                    ts_event=close_ns,
                    ts_init=close_ns,
                    symbol=symbol,
                    open_time_ns=open_time,
                    close=market.close(i),
                    valid=self._valid(masks[i]),
                    bars_seen=seen[i],
                    **dict(zip(INDICATOR_FIELDS, values[i], strict=True)),
                ),
            )
        runtime.run_until_idle()
