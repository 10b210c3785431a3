"""kill -9 of the whole bot, five times, against one simulator that outlives it.

The simulator runs in this test process (so the exchange's own books can be read); the bot
is a real process started with ``--venue`` and the same ``--state`` each time. Each kill
comes once the exchange has seen a few more of the bot's orders (a seeded random count), so
it lands while orders are in flight. After a final graceful run: no client order id was
placed twice on the exchange, every fill the exchange made for the bot is in the journal
exactly once, the journal is gap-free, and the exchange's positions equal the bot's fills.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from actors._durable import decode_entry
from actors._journal_archive import read_history
from exchange.sim import SimExchange, sim_clock, simulator_for, write_venue_file
from messages import OrderFilled, PlaceOrder, Side
from messages.settings import Settings, load_settings
from storage import Store

REPO = Path(__file__).resolve().parents[1]
TRADE_OFTEN = (  # a strategy that signals every few candles, for tests that need trades
    "strategy.ema_fast=3",
    "strategy.ema_mid=5",
    "strategy.ema_slow=8",
    "strategy.ema_trend=13",
    "strategy.trend_filter=false",
    "strategy.rsi_long_min=50",
    "strategy.rsi_long_max=100",
    "strategy.rsi_short_max=50",
    "strategy.rsi_short_min=0",
    "strategy.pivot_buffer_pct=0",
)
SETS = (
    "bot.timeframe=1m",
    "sim.speed=2",
    # 1m candles with the default 30-day correlation window would load 43,201 candles a
    # symbol at every start (the simulator has 31 days); a day's window is 1,441
    "hedge.correlation_window_days=1",
    # the journal trimmed to its last entry every (scaled) second: a kill between a trim
    # and an actor's replay would lose what it needs
    "storage.journal_keep=1",
    "storage.snapshot_interval_s=1",
    *TRADE_OFTEN,
    "console.enabled=false",
    "health.http_port=0",
)
USER = 1


@pytest.fixture
def settings() -> Settings:
    return load_settings(REPO / "settings.toml", environ={}, overrides=list(SETS))


@pytest.fixture
def venue(tmp_path: Path, settings: Settings) -> Iterator[tuple[SimExchange, Path]]:
    sim = simulator_for(settings, sim_clock(settings)).start()
    path = tmp_path / "venue.json"
    write_venue_file(path, sim)
    try:
        yield sim, path
    finally:
        sim.stop()


def _start_bot(venue_file: Path, state: Path, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(REPO / "bot.py"), "run", "--venue", str(venue_file)]
    args += ["--state", str(state), "--duration", "120", "--log-format", "json"]
    for item in SETS:
        args += ["--set", item]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)


def _orders_seen(sim: SimExchange) -> int:
    with sim.engine.locked() as core:
        account = core.accounts[USER]
        return len(account.open_orders) + len(account.closed)


def _wait(condition: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        assert proc.poll() is None, f"the bot exited ({proc.returncode}) while waiting: {what}"
        assert time.monotonic() < deadline, f"not within 90 s: {what}"
        time.sleep(0.05)  # a poll interval of a bounded wait


def test_kill_9_five_times_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, venue: tuple[SimExchange, Path]
) -> None:
    sim, venue_file = venue
    state, log = tmp_path / "state", tmp_path / "bot.log"
    rng = random.Random(20261122)
    for _ in range(5):
        proc = _start_bot(venue_file, state, log)
        target = _orders_seen(sim) + rng.randint(1, 4)
        _wait(lambda t=target: _orders_seen(sim) >= t, f"{target} orders on the exchange", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    proc = _start_bot(venue_file, state, log)
    target = _orders_seen(sim) + 2
    _wait(lambda: _orders_seen(sim) >= target, "orders after the last restart", proc)
    sim.market.stop()  # the market freezes: no candle, no price move, so no fill from now on
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    # A fill the exchange made as the bot stopped is booked by the next start's reconcile.
    proc = _start_bot(venue_file, state, log)
    done = log.read_text().count("reconciled with the exchange") + 1
    _wait(lambda: log.read_text().count("reconciled with the exchange") >= done, "reconcile", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]

    with sim.engine.locked() as core:
        account = core.accounts[USER]
        orders = [*account.closed, *account.open_orders.values()]
        coids = Counter(o.client_order_id for o in orders if o.client_order_id)
        fills = {f.id: f for f in account.fills}
        positions = {core.products[pid].symbol: p.size for pid, p in account.positions.items()}
    assert coids, "the bot placed orders"
    assert [c for c, n in coids.items() if n > 1] == [], "a client order id placed twice"

    with Store.open(state, Settings().storage) as store:
        journal = list(read_history(store))
        assert store.first_seq() > 1, "the journal was trimmed as it went"
    seqs = [seq for seq, _ in journal]
    assert seqs == list(range(1, len(seqs) + 1)), "journal gap-free"
    events = [decode_entry(data).event for _, data in journal]
    booked = Counter(e.fill_id for e in events if isinstance(e, OrderFilled))
    ours = {fid for fid, f in fills.items() if f.client_order_id in coids}
    assert ours and set(booked) == ours, "every exchange fill booked"
    assert all(n == 1 for n in booked.values()), "no fill booked twice"
    placed = {e.client_order_id for e in events if isinstance(e, PlaceOrder)}
    assert set(coids) <= placed, "every order on the exchange came from the journal"
    net: Counter[str] = Counter()
    for event in events:
        if isinstance(event, OrderFilled):
            net[event.symbol] += event.size if event.side is Side.BUY else -event.size
    assert {s: n for s, n in positions.items() if n} == {s: n for s, n in net.items() if n}
