"""Parity: the same candles replayed through ``python bot.py run`` trade as the backtest does.

The built-in generator's candles are written as candle files; the bot runs on them as a real
process (embedded simulator with ``sim.candle_path = "backtest"``, the backtest's own
intra-candle path, on a fast clock), and ``run_backtest`` runs on the same candles, shifted
to the times the simulator played them at (read back from the bot's feed snapshot). Every
fill (symbol, side, size, price, fee, and the path step it happened in) and every closed
position and hedge (prices, PnL, fees, reason) must be the same, and its funding within 1 %
(a ledger books funding at the last mark it heard: live, a periodic frame).

The settings make the strategy trade often (short EMAs, wide RSI bands, no trend filter)
and leave room in margin for simultaneous entries: which of two entries on the same candle
reaches risk first is a race in a live bot, and with 1x leverage the second one would be
sized on what the first left. The entry timeout is not a multiple of the path's step, so no
timer falls on a step (in a live bot, a timer and a price step at the same instant race).
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from actors._durable import decode_entry
from actors._journal_archive import read_history
from actors.backtest import SymbolCandles, candles_from_files, candles_from_generator, run_backtest
from actors.market import kept_candles
from exchange.sim import default_products
from exchange.sim._barpath import STEPS, step_offsets
from messages import HedgeClosed, OrderFilled, PositionClosed, encode
from messages.settings import Settings, load_settings
from storage import Store
from tests.test_crash_recovery import TRADE_OFTEN

REPO = Path(__file__).resolve().parents[1]
SYMBOLS = ("BTCUSD", "ETHUSD", "SOLUSD")
TIMEFRAME_NS = 900 * 1_000_000_000
HISTORY = 200  # candles the simulator plays as history, the bot's warm-up
LIVE = 32  # candles played live (the last one never closes)
SPEED = 0.5  # candles per real second: a path step every 0.5 s
SEED = 11
SETS = (
    *TRADE_OFTEN,
    "risk.max_leverage=5",
    f"exchange.history_candles={HISTORY}",
    "hedge.correlation_window_days=1",
    "execution.entry_timeout_s=800",
    "sim.candle_path=backtest",
    "console.enabled=false",
    "health.http_port=0",
)


def _write_candles(data: Path, products: list[Any]) -> dict[str, SymbolCandles]:
    """The generator's candles as one CSV per symbol (the simulator's file format)."""
    start = 1_750_000_000_000_000_000 // TIMEFRAME_NS * TIMEFRAME_NS
    candles = candles_from_generator(
        products, SYMBOLS, timeframe_ms=900_000, start_ns=start, count=HISTORY + LIVE, seed=SEED
    )
    data.mkdir()
    for symbol, series in candles.items():
        lines = ["open_time_ms,open,high,low,close,volume"]
        for t, (o, h, low, c), v in zip(
            series.open_ns.tolist(), series.prices, series.ohlcv[:, 4].tolist(), strict=True
        ):
            lines.append(f"{t // 1_000_000},{o},{h},{low},{c},{v:.4f}")
        (data / f"{symbol}-15m.csv").write_text("\n".join(lines) + "\n")
    return candles


def _run_bot(data: Path, state: Path, log: Path) -> None:
    duration = (LIVE + 1) / SPEED
    args = [sys.executable, str(REPO / "bot.py"), "run", "--data", str(data), "--state", str(state)]
    args += ["--duration", str(duration), "--speed", str(SPEED), "--log-format", "json"]
    for item in SETS:
        args += ["--set", item]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    with log.open("wb") as out:
        done = subprocess.run(
            args,
            check=False,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=duration + 120,
        )
    assert done.returncode == 0, log.read_text()[-3000:]


def _shift_ns(state: Path, settings: Settings, files: dict[str, SymbolCandles]) -> int:
    """How far the simulator moved the files in time: its oldest candle the bot kept, found
    in the file by its prices."""
    with Store.open(state, settings.storage) as store:
        kept = kept_candles(store, "BTCUSD", TIMEFRAME_NS)
    assert kept, "the bot kept its candles"
    first = (kept[0].open, kept[0].high, kept[0].low, kept[0].close)
    index = files["BTCUSD"].prices.index(first)
    return int(kept[0].open_time_ns) - int(files["BTCUSD"].open_ns[index])


def _step(ts_ns: int, anchor_ns: int) -> int:
    """The path step a time falls in (a taker fill comes a little after its step)."""
    first = anchor_ns + step_offsets(TIMEFRAME_NS)[0]
    return (ts_ns - first) // (TIMEFRAME_NS // STEPS)


def _fills(events: list[Any], anchor_ns: int) -> list[tuple[Any, ...]]:
    return sorted(
        (_step(e.ts_event, anchor_ns), e.symbol, e.side.value, e.size, e.price, e.fee)
        for e in events
        if isinstance(e, OrderFilled)
    )


def _closed(events: list[Any], anchor_ns: int) -> list[tuple[Any, ...]]:
    """Closed positions and hedges without their ids, times as path steps; funding apart
    (see :func:`_funding_agrees`)."""
    out = []
    for event in events:
        if isinstance(event, PositionClosed | HedgeClosed):
            fields = orjson.loads(encode(event))
            step = _step(fields.pop("ts_event"), anchor_ns)
            for name in ("ts_init", "position_id", "hedge_id", "parent_position_id", "funding"):
                fields.pop(name, None)
            out.append((step, sorted((k, str(v)) for k, v in fields.items()), event.funding))
    return sorted(out, key=lambda row: (row[0], row[1]))


def _funding_agrees(live: Decimal, test: Decimal) -> bool:
    """A ledger books funding at the last mark its position heard: in the backtest the mark
    of the step before it, live the venue's periodic mark frame (the wallet's own funding is
    exact both ways, being the engine's). Same sign, within 1 %."""
    return live == test or (live * test > 0 and abs(live - test) <= abs(test) / 100)


def test_bot_run_on_replayed_candles_trades_as_the_backtest(tmp_path: Path) -> None:
    settings = load_settings(REPO / "settings.toml", environ={}, overrides=list(SETS))
    products = list(default_products())
    data, state = tmp_path / "data", tmp_path / "state"
    _write_candles(data, products)
    _run_bot(data, state, tmp_path / "bot.log")

    by_symbol = {p.symbol: p for p in products}
    files = candles_from_files(data, by_symbol, SYMBOLS, timeframe_ms=900_000)
    shift = _shift_ns(state, settings, files)
    shifted = {
        s: SymbolCandles(c.symbol, c.open_ns + shift, c.ohlcv, c.prices) for s, c in files.items()
    }
    anchor = int(files["BTCUSD"].open_ns[HISTORY]) + shift
    backtest = run_backtest(settings, shifted, products, trade_from_ns=anchor)

    with Store.open(state, settings.storage) as store:
        journal = [decode_entry(data).event for _, data in read_history(store)]
    live_fills, test_fills = _fills(journal, anchor), _fills(backtest.events, anchor)
    live_closed, test_closed = _closed(journal, anchor), _closed(backtest.events, anchor)
    kinds = [dict(fields)["type"] for _, fields, _ in test_closed]
    assert kinds.count("PositionClosed") >= 4 and "HedgeClosed" in kinds, "something to compare"
    assert live_fills == test_fills
    assert [row[:2] for row in live_closed] == [row[:2] for row in test_closed]
    for live_row, test_row in zip(live_closed, test_closed, strict=True):
        assert _funding_agrees(live_row[2], test_row[2]), (live_row, test_row)
