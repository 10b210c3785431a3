"""``python bot.py backtest``: arguments, data loading, progress bar, table, JSON and chart.

Dates are UTC (``2024-01-31`` or ``2024-01-31T12:00``). ``--from`` starts trading; the
candles before it (at least ``--warmup`` of them, default 300) only warm the indicators up.
Without ``--data`` the simulator's generator makes ``--candles`` candles (seeded by
``sim.seed``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from actors.backtest._data import candles_from_files, candles_from_generator
from actors.backtest._report import metrics, svg_chart, table, to_json
from actors.backtest._run import run_backtest
from exchange.sim import default_products
from messages.settings import TIMEFRAME_SECONDS, Settings

__all__ = ["add_arguments", "command_backtest", "parse_date"]

_NS = 1_000_000_000
_GENERATOR_START_NS = 1_704_067_200 * _NS  # 2024-01-01 00:00 UTC


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The backtest's own flags (the common ones come from bot.py)."""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="candle files (the simulator's formats); default: the generator",
    )
    parser.add_argument(
        "--symbols", default=None, metavar="A,B,C", help="symbols to trade (default: bot.symbols)"
    )
    parser.add_argument(
        "--timeframe", default=None, help="candle timeframe (default: bot.timeframe)"
    )
    parser.add_argument(
        "--from",
        dest="start",
        default=None,
        metavar="DATE",
        help="first traded candle (UTC); earlier candles warm up",
    )
    parser.add_argument(
        "--to", dest="end", default=None, metavar="DATE", help="end (UTC, exclusive)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=300,
        metavar="N",
        help="candles used only to warm the indicators up (default 300)",
    )
    parser.add_argument(
        "--candles",
        type=int,
        default=5000,
        metavar="N",
        help="generator only: candles per symbol (default 5000)",
    )
    parser.add_argument(
        "--json",
        dest="json_file",
        type=Path,
        default=None,
        metavar="FILE",
        help="write metrics, trades and the equity curve as JSON",
    )
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE",
                        help="write an equity and drawdown chart (SVG)")  # fmt: skip


def parse_date(text: str, flag: str) -> int:
    """UTC date or date-time to ns; ValueError naming the flag and the expected form."""
    for form in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            parsed = datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(parsed.timestamp()) * _NS
    msg = f"{flag}: expected a UTC date like 2024-01-31 or 2024-01-31T12:00, was {text!r}"
    raise ValueError(msg)


def command_backtest(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    """Run it; 0 on success, 2 on bad arguments or data (one line on stderr)."""
    try:
        settings = _with_flags(settings, args)
        start = parse_date(args.start, "--from") if args.start else None
        end = parse_date(args.end, "--to") if args.end else None
        candles, products = _load(settings, args)
    except ValueError as error:
        print(f"bot.py backtest: {error}", file=sys.stderr)
        return 2
    first = max(int(c.open_ns[min(args.warmup, len(c) - 1)]) for c in candles.values())
    trade_from = max(start, first) if start is not None else first
    bar = _Progress(sys.stderr) if sys.stderr.isatty() else None
    began = time.perf_counter()
    try:
        run = run_backtest(
            settings, candles, products, trade_from_ns=trade_from, trade_to_ns=end,
            progress=bar.update if bar else None,
        )  # fmt: skip
    except ValueError as error:
        print(f"bot.py backtest: {error}", file=sys.stderr)
        return 2
    finally:
        if bar:
            bar.done()
    seconds = time.perf_counter() - began
    values = metrics(run)
    print(table(values), file=out)
    print(f"{run.candles} candles x {len(run.symbols)} symbols in {seconds:.2f} s", file=out)
    if args.json_file:
        args.json_file.write_bytes(to_json(run, values))
        print(f"wrote {args.json_file}", file=out)
    if args.plot:
        args.plot.write_text(svg_chart(run), encoding="utf-8")
        print(f"wrote {args.plot}", file=out)
    return 0


def _with_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    from dataclasses import replace

    bot = settings.bot
    if args.symbols:
        symbols = tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip())
        bot = replace(bot, symbols=symbols)
    if args.timeframe:
        if args.timeframe not in TIMEFRAME_SECONDS:
            known = ", ".join(TIMEFRAME_SECONDS)
            raise ValueError(f"--timeframe: expected one of {known}, was {args.timeframe!r}")
        bot = replace(bot, timeframe=args.timeframe)
    if args.warmup < 0 or args.candles < 2:
        raise ValueError("--warmup must be >= 0 and --candles >= 2")
    return replace(settings, bot=bot)


def _load(settings: Settings, args: argparse.Namespace) -> tuple[dict, list]:  # type: ignore[type-arg]
    products = list(default_products())
    known = {p.symbol: p for p in products}
    unknown = [s for s in settings.bot.symbols if s not in known]
    if unknown:
        raise ValueError(f"--symbols: no product {', '.join(unknown)} (known: {', '.join(known)})")
    tf_ms = TIMEFRAME_SECONDS[settings.bot.timeframe] * 1000
    if args.data is not None:
        candles = candles_from_files(args.data, known, settings.bot.symbols, timeframe_ms=tf_ms)
    else:
        candles = candles_from_generator(
            products, settings.bot.symbols, timeframe_ms=tf_ms, start_ns=_GENERATOR_START_NS,
            count=args.candles, seed=settings.sim.seed,
        )  # fmt: skip
    return candles, products


class _Progress:
    """A one-line progress bar on a terminal (stderr), redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0
        self.began = time.monotonic()

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = width * done // total
        rate = done / max(now - self.began, 1e-9)
        left = (total - done) / rate if rate else 0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} candles, {left:4.0f} s left"
        )
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
