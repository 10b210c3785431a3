"""The trading tree on a real LMDB store: random actor kills change nothing.

One scripted run (entry, maker fill, hedge in three timed chunks, hedge profit take, second
hedge, stop) on the deterministic runtime, undisturbed and then with actors killed at random
points (fixed seeds). The final positions, orders on the engine, realised PnL, wallet and
journal must be the same, with no order placed twice and the journal gap-free. The same
holds when the writer trims the journal every second down to one entry: a restarted actor
never misses an entry it needs, and the archive plus LMDB hold every entry once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from actors._durable import Commit, decode_entry
from actors._journal_archive import read_history
from actors._storage_writer import StorageWriter
from actors.trading import GATEWAY_ID, USER_ID, position_actor_id
from actors.trading._dynamic import PositionActor
from messages import (
    HedgeClosed,
    HedgeOpened,
    KillActor,
    OrderFilled,
    PlaceOrder,
    PositionClosed,
    PositionFinished,
    PositionOpened,
    RiskDecision,
    RiskVerdict,
    UnixNanos,
)
from messages.settings import Settings
from storage import Store
from tests.actors.trading.scenario import (
    BALANCE,
    CANDLE_NS,
    START_NS,
    World,
    correlations,
    long_candle,
    short_candle,
)

_HEDGE = {"trigger_stop_fraction": 0.3, "rehedge_step_fraction": 0.2, "max_hedges_per_position": 2}


_TRIM_HARD = {"journal_keep": 1, "snapshot_interval_s": 1}
_SLOW_RESTART = {"backoff_initial_ms": 3000}
"""A restart waits over three trims: what the crashed actor had not applied must stay."""


def _world(tmp_path: Path, *, trim: bool = False) -> tuple[World, Store]:
    settings = Settings()
    settings = replace(settings, hedge=replace(settings.hedge, **_HEDGE))
    if trim:
        settings = replace(settings, storage=replace(settings.storage, **_TRIM_HARD))
        settings = replace(settings, supervision=replace(settings.supervision, **_SLOW_RESTART))
    store = Store.open(tmp_path, settings.storage)
    w = World(settings, store=store)
    for sym, bid, ask in (
        ("BTCUSD", "70000", "70000.5"),
        ("ETHUSD", "3500", "3500.05"),
        ("SOLUSD", "150", "150.01"),
    ):
        w.market(sym, bid, ask, price=bid)
    return w, store


def _position_id(w: World) -> str:
    opened = w.of(PositionOpened)
    return opened[-1].position_id if opened else ""


def _steps(w: World) -> list[Callable[[], None]]:
    """The script, one callable per step; every step ends with the same 5 s of time."""

    last = {"BTCUSD": ("70000", "70000.5"), "ETHUSD": ("3500", "3500.05")}

    def market(symbol: str, bid: str, ask: str, price: str | None = None) -> None:
        """A move of ``symbol`` after the other symbols' unchanged books are published again,
        as a live market keeps publishing them (a restarted actor relearns prices)."""
        last[symbol] = (bid, ask)
        for other, (b, a) in last.items():
            if other != symbol:
                w.market(other, b, a)
        w.market(symbol, bid, ask, price=price)

    def corr() -> None:
        pid = _position_id(w)
        if pid and w.runtime.entry(position_actor_id(pid)) is not None:
            w.correlate(correlations())

    return [
        lambda: w.candle(long_candle(START_NS)),
        lambda: market("BTCUSD", "69999", "69999.5"),  # maker fill of the entry
        corr,
        lambda: market("ETHUSD", "3500", "3500.05"),
        lambda: (corr(), market("BTCUSD", "69780", "69780.5")),  # hedge 1
        lambda: (market("ETHUSD", "3500", "3500.05"), w.advance(60)),  # chunk 2
        lambda: (market("ETHUSD", "3500", "3500.05"), w.advance(60)),  # chunk 3
        lambda: market("ETHUSD", "3460", "3460.05"),  # hedge profit
        lambda: (corr(), market("BTCUSD", "69640", "69640.5")),  # hedge 2
        lambda: market("BTCUSD", "69500", "69500.5"),
        lambda: market("BTCUSD", "69300", "69300.5", price="69300"),  # stop
    ]


def _victims(w: World) -> list[str]:
    ids = ["risk", "execution", "strategy:BTCUSD", GATEWAY_ID]
    pid = _position_id(w)
    if pid:
        ids.append(position_actor_id(pid))
    ids += [f"hedge:{h.hedge_id}" for h in w.of(HedgeOpened) if not _hedge_closed(w, h.hedge_id)]
    return [a for a in ids if w.runtime.entry(a) is not None and w.runtime.entry(a).actor]


def _hedge_closed(w: World, hedge_id: str) -> bool:
    return any(h.hedge_id == hedge_id for h in w.of(HedgeClosed))


def _run(tmp_path: Path, kill_seed: int | None, *, trim: bool = False) -> dict[str, Any]:
    w, store = _world(tmp_path, trim=trim)
    rng = random.Random(kill_seed)
    kills = 0
    try:
        for step in _steps(w):
            step()
            if kill_seed is not None and rng.random() < 0.6:
                victim = rng.choice(_victims(w))
                now = UnixNanos(w.now())
                w.send(victim, KillActor(command_id=f"k{kills}", ts_init=now, actor_id=victim))
                kills += 1
            w.advance(5)  # room for a restart's backoff, the same in every run
        return _final(w, store) | {"kills": kills, "journal_first": store.first_seq()}
    finally:
        w.close()
        store.close()


def _final(w: World, store: Store) -> dict[str, Any]:
    account = w.engine.accounts[USER_ID]
    journal = list(read_history(store))
    seqs = [seq for seq, _ in journal]
    placed = [decode_entry(data).event for _, data in journal]
    coids = [e.client_order_id for e in placed if isinstance(e, PlaceOrder)]
    closed = w.of(PositionClosed)
    return {
        "balance": account.balance,
        "positions": {pid: p.size for pid, p in account.positions.items()},
        "open_orders": sorted(account.open_by_coid),
        "closed": [(c.position_id, c.reason, c.realised_pnl, c.fees, c.funding) for c in closed],
        "hedges": sorted((h.hedge_id, h.reason, h.realised_pnl) for h in w.of(HedgeClosed)),
        "fills": sorted((f.fill_id, f.client_order_id, f.size) for f in _unique_fills(w)),
        "orders_placed": sorted(coids),
        "duplicates": len(coids) - len(set(coids)),
        "trades": sorted(t.trade_id for t in store.iter_trades()),
        "snapshots": sorted(snap.actor_id for snap in store.iter_snapshots()),
        "gap_free": seqs == list(range(1, len(seqs) + 1)),
    }


def _unique_fills(w: World) -> list[OrderFilled]:
    seen: dict[str, OrderFilled] = {}
    for fill in w.of(OrderFilled):
        seen.setdefault(fill.fill_id, fill)
    return list(seen.values())


def test_undisturbed_run_on_a_store_trades_as_in_memory(tmp_path: Path) -> None:
    result = _run(tmp_path, None)
    assert [c[1] for c in result["closed"]] == ["stop"]
    assert sorted(h[1] for h in result["hedges"]) == ["parent closed", "profit taken"]
    assert result["duplicates"] == 0 and result["gap_free"]
    position = result["closed"][0][0]
    assert result["trades"] == sorted([position, *(h[0] for h in result["hedges"])])
    ended = [position, *(h[0] for h in result["hedges"])]
    assert not any(s.endswith(tuple(ended)) for s in result["snapshots"]), result["snapshots"]
    assert {"risk", "execution", "gateway", "strategy:BTCUSD"} <= set(result["snapshots"])
    net = sum((c[2] - c[3] + c[4] for c in result["closed"]), Decimal(0))
    assert result["balance"] - BALANCE != 0 and result["open_orders"] == []
    assert net != 0


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_actor_kills_change_nothing(tmp_path: Path, seed: int) -> None:
    reference = _run(tmp_path / "reference", None)
    disturbed = _run(tmp_path / "disturbed", seed)
    assert disturbed.pop("kills") >= 3
    reference.pop("kills")
    assert disturbed == reference


@pytest.mark.parametrize("seed", [1, 3])
def test_random_kills_with_the_journal_trimmed_to_one_entry_change_nothing(
    tmp_path: Path, seed: int
) -> None:
    reference = _run(tmp_path / "reference", None)
    disturbed = _run(tmp_path / "disturbed", seed, trim=True)
    assert disturbed.pop("kills") >= 3
    reference.pop("kills")
    assert reference.pop("journal_first") == 1
    assert disturbed.pop("journal_first") > len(disturbed["orders_placed"]), "barely trimmed"
    assert disturbed == reference


def test_an_actor_that_crashes_on_an_entry_replays_it_after_trims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The position crashes while handling its entry fill, so its snapshot is older than
    the fill; the journal is trimmed to one entry every second while its restart waits.
    The fill must still be there for it to replay: the run ends as the undisturbed one."""
    reference = _run(tmp_path / "reference", None)
    handle = PositionActor.on_order_filled
    crashed: list[str] = []

    def crash_once(self: PositionActor, fill: OrderFilled) -> None:
        if not crashed:
            crashed.append(fill.fill_id)
            raise RuntimeError("injected: position crashes on its entry fill")
        handle(self, fill)

    monkeypatch.setattr(PositionActor, "on_order_filled", crash_once)
    monkeypatch.setattr(PositionActor, "_handlers", {})  # dispatch caches handlers per class
    disturbed = _run(tmp_path / "disturbed", None, trim=True)
    assert crashed, "the injected crash never ran"
    assert disturbed.pop("journal_first") > len(disturbed["orders_placed"]), "barely trimmed"
    reference.pop("journal_first")
    assert disturbed == reference


def test_a_position_is_on_disk_before_its_entry_is_placed(tmp_path: Path) -> None:
    """After a kill -9 the snapshot is what keeps the position's entries in the journal
    until it restores (actors/_journal_trim.py): it must exist before any entry of it."""
    w, store = _world(tmp_path)
    try:
        w.candle(long_candle(START_NS))
        journal = [decode_entry(data).event for _, data in store.read_journal()]
        (entry,) = [e for e in journal if isinstance(e, PlaceOrder)]
        assert w.of(OrderFilled) == []
        snap = store.get_snapshot(position_actor_id(entry.position_id))
        assert snap is not None, "the position's state was not on disk when its entry went out"
    finally:
        w.close()
        store.close()


class _LosesCommitsOf(StorageWriter):
    """A writer whose process "dies" for one actor: from ``lose`` on, that actor's commits
    never reach the disk (as when the process is killed while they wait in the queue)."""

    victim_prefix = "position:"
    losing = False

    def on_commit(self, commit: Commit) -> None:
        if type(self).losing and commit.actor_id.startswith(self.victim_prefix):
            return
        super().on_commit(commit)


def test_a_close_lost_in_a_crash_is_recorded_by_the_next_start(tmp_path: Path) -> None:
    """The stop fills and execution commits that it is flat, but the process dies before the
    position's own commit (PositionClosed) is on disk. The next start must start that
    position's actor again, which replays the fill and closes: risk frees the symbol and the
    bot trades on, instead of holding a position that no longer exists."""
    settings = Settings()
    store = Store.open(tmp_path, settings.storage)
    _LosesCommitsOf.losing = False
    first = World(settings, store=store, writer_class=_LosesCommitsOf)
    try:
        for sym, bid, ask in (("BTCUSD", "70000", "70000.5"), ("ETHUSD", "3500", "3500.05")):
            first.market(sym, bid, ask, price=bid)
        first.candle(long_candle(START_NS))
        first.market("BTCUSD", "69999", "69999.5")  # maker fill of the entry
        (opened,) = first.of(PositionOpened)
        _LosesCommitsOf.losing = True
        first.market("BTCUSD", "69300", "69300.5", price="69300")  # the stop fills
        assert first.of(PositionClosed) == [], "the position's close never reached the disk"
    finally:
        first.close()
        _LosesCommitsOf.losing = False
    assert f"position:{opened.position_id}" in {s.actor_id for s in store.iter_snapshots()}

    second = World(settings, store=store, engine=first.engine)
    try:
        (closed,) = second.of(PositionClosed)
        assert (closed.position_id, closed.reason) == (opened.position_id, "stop")
        assert [f.position_id for f in second.of(PositionFinished)] == [opened.position_id]
        risk = second.runtime.entry("risk").actor
        assert risk.manager.positions == {}
        snapshots = {s.actor_id for s in store.iter_snapshots()}
        assert f"position:{opened.position_id}" not in snapshots
        second.market("BTCUSD", "69300", "69300.5")
        second.candle(short_candle(START_NS + 4 * CANDLE_NS, close="69300"))
        (decision,) = second.of(RiskDecision)
        assert decision.decision is not RiskVerdict.REJECTED, decision.checks
    finally:
        second.close()
        store.close()
