"""The REST gateway's StreamTranslator: bounded memory of ended orders, fills booked once."""

from __future__ import annotations

from decimal import Decimal

from actors._state import dump_state, load_state
from actors.trading._orders import place_order
from actors.trading._rest_gateway import RestGateway, StreamTranslator
from messages import (
    Contracts,
    Fill,
    FillReported,
    OrderFilled,
    OrderType,
    Side,
    UnixNanos,
)

T0 = 1_700_000_000_000_000_000


def _place(t: StreamTranslator, n: int) -> str:
    coid = f"p{n}-E0"
    cmd = place_order(
        coid=coid,
        owner=f"p{n}",
        symbol="BTCUSD",
        side=Side.BUY,
        size=2,
        kind=OrderType.LIMIT,
        limit=Decimal(70000),
        stop=None,
        now_ns=T0 + n,
    )
    t.placing(cmd)
    return coid


def _fill(coid: str, fill_id: str, size: int = 2) -> FillReported:
    fill = Fill(
        fill_id=fill_id,
        order_id=f"o-{coid}",
        client_order_id=coid,
        symbol="BTCUSD",
        side=Side.BUY,
        price=Decimal(70000),
        size=Contracts(size),
        is_maker=True,
        fee=Decimal("0.01"),
        fee_asset="USD",
        fill_type="normal",
        ts_event_ns=UnixNanos(T0),
    )
    now = UnixNanos(T0)
    return FillReported(ts_event=now, ts_init=now, fill=fill, seq=None, position_size_after=None)


def test_ended_orders_are_forgotten_beyond_the_bound_and_open_ones_never() -> None:
    t = StreamTranslator()
    resting = _place(t, 0)  # stays open through everything
    total = StreamTranslator.ENDED_KEPT + 300
    for n in range(1, total + 1):
        coid = _place(t, n)
        if n % 2:
            assert isinstance(t.on_fill(_fill(coid, f"f{n}")), OrderFilled)
        else:
            assert t.cancelled(coid, "o", "BTCUSD", "cancelled", T0, filled=0) is not None
    assert len(t.ended) == StreamTranslator.ENDED_KEPT
    assert len(t.owner) == StreamTranslator.ENDED_KEPT + 1 and resting in t.owner
    assert len(t.fills) == len([c for c in t.ended if int(c[1:].split("-")[0]) % 2])
    assert t.net["BTCUSD"] == 2 * ((total + 1) // 2)  # the net position forgets nothing
    assert t.open == {resting}


def test_a_late_fill_of_a_recently_ended_order_is_booked_once() -> None:
    t = StreamTranslator()
    coid = _place(t, 1)
    assert t.cancelled(coid, "o", "BTCUSD", "cancelled", T0, filled=0) is not None
    for n in range(2, 50):  # later orders end too, far fewer than the bound
        t.on_fill(_fill(_place(t, n), f"f{n}"))
    late = t.on_fill(_fill(coid, "late", size=1))  # raced the cancel
    assert late is not None and late.size == 1
    assert t.on_fill(_fill(coid, "late", size=1)) is None  # replayed after a reconnect
    assert t.ended.count(coid) == 1


def test_the_bounded_state_survives_a_snapshot_and_loads_from_an_older_one() -> None:
    gw = RestGateway.__new__(RestGateway)
    gw.translator = StreamTranslator()
    for n in range(1, 5):
        gw.translator.on_fill(_fill(_place(gw.translator, n), f"f{n}"))
    data = dump_state(gw, RestGateway.state_fields)
    restored = RestGateway.__new__(RestGateway)
    restored.translator = StreamTranslator()
    load_state(restored, RestGateway.state_fields, data, added=RestGateway.state_added)
    assert restored.translator.ended == gw.translator.ended
    assert restored.translator.fills_of == gw.translator.fills_of
    older = dump_state(gw, tuple(f"translator.{n}" for n in StreamTranslator.STATE[:-2]))
    upgraded = RestGateway.__new__(RestGateway)
    upgraded.translator = StreamTranslator()
    load_state(upgraded, RestGateway.state_fields, older, added=RestGateway.state_added)
    assert upgraded.translator.ended == [] and upgraded.translator.owner == gw.translator.owner
