"""Metrics logic and text format, checked by parsing the output with prometheus_client's
own parser; the metrics actor under both runtimes."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from actors import ChildSpec, SupervisorSpec, supervisor
from actors._actor import Journaled
from actors.ops import (
    EVENTS,
    Family,
    Metrics,
    MetricsActor,
    OpsBoard,
    RefreshDue,
    Sample,
    render,
)
from tests.actors.harness import Harness
from tests.actors.ops.events import T0, market_events, trading_events

parser = pytest.importorskip("prometheus_client.parser")

_S = 1_000_000_000


def parse(text: bytes) -> dict[str, Any]:
    """Families by name, each with its type, help and {labels: value}."""
    out = {}
    for fam in parser.text_string_to_metric_families(text.decode()):
        samples = {tuple(sorted(s.labels.items())): s.value for s in fam.samples}
        out[fam.name] = {"type": fam.type, "help": fam.documentation, "samples": samples}
    return out


def test_render_escapes_labels_and_help_and_spells_special_values() -> None:
    family = Family(
        "x_total",
        'help with \\ and\nnewline and "quotes"',
        "counter",
        (
            Sample((("k", 'a"b\\c\nd'),), 3),
            Sample((("k", "nan"),), float("nan")),
            Sample((("k", "inf"),), float("inf")),
            Sample((("k", "dec"),), Decimal("1E+2")),
        ),
    )
    text = render([family])
    assert b'k="a\\"b\\\\c\\nd"' in text
    assert b'x_total{k="dec"} 100\n' in text
    parsed = parse(text)["x"]  # the parser drops _total from counter family names
    assert parsed["help"] == 'help with \\ and\nnewline and "quotes"'
    values = parsed["samples"]
    assert values[(("k", 'a"b\\c\nd'),)] == 3
    assert math.isnan(values[(("k", "nan"),)])
    assert values[(("k", "inf"),)] == math.inf
    assert values[(("k", "dec"),)] == 100


def test_metrics_count_trading_and_market_events() -> None:
    metrics = Metrics()
    for event in trading_events() + market_events():
        getattr(metrics, _handler(event))(event)
    parsed = parse(render(metrics.families(now_ns=T0 + 5 * _S)))
    btc = (("symbol", "BTCUSD"),)
    assert parsed["bot_orders_accepted"]["samples"] == {btc: 1, (("symbol", "ETHUSD"),): 1}
    rejected = parsed["bot_orders_rejected"]["samples"]
    assert rejected == {(("reason", 'weird "code"\\x\n'), ("symbol", "BTCUSD")): 1}
    assert parsed["bot_orders_cancelled"]["samples"] == {(("symbol", "ETHUSD"),): 1}
    fills = parsed["bot_fills"]["samples"]
    assert fills[(("liquidity", "maker"), ("side", "BUY"), ("symbol", "BTCUSD"))] == 2
    assert fills[(("liquidity", "taker"), ("side", "SELL"), ("symbol", "BTCUSD"))] == 1
    assert parsed["bot_filled_contracts"]["samples"] == {btc: 10}
    assert parsed["bot_fill_fees"]["samples"] == {(("asset", "USD"),): pytest.approx(0.65)}
    assert parsed["bot_realised_pnl"]["samples"] == {
        (("source", "hedge"),): 4,
        (("source", "position"),): 50,
    }
    assert parsed["bot_net_pnl"]["samples"] == {(): pytest.approx(54 - 1.65 - 0.35)}
    assert parsed["bot_open_positions"]["samples"] == {(): 0}
    assert parsed["bot_open_hedges"]["samples"] == {(): 0}
    usd = (("asset", "USD"),)
    assert parsed["bot_equity"]["samples"] == {usd: 950}
    assert parsed["bot_equity_peak"]["samples"] == {usd: 1000}
    assert parsed["bot_drawdown_ratio"]["samples"] == {usd: pytest.approx(0.05)}
    assert parsed["bot_kill_switch_active"]["samples"] == {(): 1}
    assert parsed["bot_kill_switch_triggered"]["type"] == "counter"
    # The feed was 30 s old when measured, 5 s ago: 35 s now.
    assert parsed["bot_feed_age_seconds"]["samples"] == {btc: 35.0}
    assert parsed["bot_feed_stale"]["samples"] == {btc: 1}
    assert parsed["bot_book_resyncs"]["samples"] == {btc: 2}
    assert parsed["bot_book_resyncs"]["type"] == "counter"


def test_every_family_has_help_and_type_before_any_event() -> None:
    text = render(Metrics().families(now_ns=T0))
    names = [line.split()[2] for line in text.decode().splitlines() if line.startswith("# TYPE")]
    helps = [line.split()[2] for line in text.decode().splitlines() if line.startswith("# HELP")]
    assert names == helps
    assert len(names) == len(set(names)) >= 40
    parse(text)


def _handler(event: object) -> str:
    from actors import handler_name

    return handler_name(type(event))


def test_metrics_actor_publishes_snapshots_under_both_runtimes(runtime: Harness) -> None:
    board = OpsBoard()
    metrics = ChildSpec(
        actor_id="metrics", factory=lambda: MetricsActor(board=board, refresh_ns=_S)
    )
    runtime.start(supervisor("root", SupervisorSpec(children=(metrics,))))
    runtime.wait_until(lambda: board.snapshot() is not None)
    events = trading_events() + market_events()
    assert {type(e) for e in events} <= set(EVENTS)
    for seq, event in enumerate(events, 1):
        # Journaled money events come from the storage writer; the actor unwraps them.
        runtime.tell("metrics", Journaled(seq, None, event) if seq % 2 else event)
    runtime.tell("metrics", RefreshDue())  # poll the health report now the tree is up

    def filled() -> bool:
        snapshot = board.snapshot()
        assert snapshot is not None
        text = render(snapshot.families)
        return (
            b'bot_book_updates_total{symbol="BTCUSD"} 40' in text
            and b'bot_actor_state{actor="root",state="RUNNING"} 1' in text
        )

    runtime.wait_until(filled)
    snapshot = board.snapshot()
    assert snapshot is not None
    parsed = parse(render(snapshot.families))
    assert parsed["bot_filled_contracts"]["samples"] == {(("symbol", "BTCUSD"),): 10}
    states = parsed["bot_actor_state"]["samples"]
    assert states[(("actor", "metrics"), ("state", "RUNNING"))] == 1
    assert states[(("actor", "root"), ("state", "RUNNING"))] == 1
    assert parsed["bot_health"]["samples"][(("status", "OK"),)] == 1
    assert parsed["bot_supervisor_max_restarts"]["samples"] == {(("supervisor", "root"),): 3}
