"""Every registered message type survives encode -> decode exactly (hypothesis)."""

from __future__ import annotations

import math
from decimal import Decimal

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages import (
    BookLevel,
    BookSnapshot,
    CorrelationUpdated,
    Message,
    OrderFilled,
    Side,
    all_message_types,
    decode,
    encode,
)
from tests.messages.strategies import assert_exactly_equal, contains_nan, message_strategy

ALL_TYPES = all_message_types()


def test_the_round_trip_covers_every_registered_type() -> None:
    covered = {cls for cls in ALL_TYPES if message_strategy(cls) is not None}
    assert covered == set(all_message_types())
    assert len(covered) == len({cls.__name__ for cls in covered})


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_is_exact(cls: type[Message], data: st.DataObject) -> None:
    msg = data.draw(message_strategy(cls))
    wire = encode(msg)
    back = decode(wire)
    assert type(back) is cls
    assert_exactly_equal(back, msg)
    if not contains_nan(msg):
        assert back == msg
    assert encode(back) == wire


def _fill(**changes: object) -> OrderFilled:
    fields: dict[str, object] = {
        "ts_init": 1_700_000_000_000_000_001,
        "ts_event": 1_700_000_000_000_000_000,
        "fill_id": "f-1",
        "client_order_id": "pos42-entry",
        "order_id": "o-9",
        "symbol": "BTCUSD",
        "side": Side.BUY,
        "price": Decimal("65000.50"),
        "size": 10,
        "leaves_size": 0,
        "fee": Decimal("0.0325"),
        "fee_asset": "USD",
        "is_maker": True,
    }
    fields.update(changes)
    return OrderFilled(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1.50", "1.5", "1E+2", "100", "-0", "0E-8", "0.000", "1e-7"])
def test_a_decimal_keeps_its_exponent(text: str) -> None:
    msg = _fill(price=Decimal(text))
    back = decode(encode(msg))
    assert isinstance(back, OrderFilled)
    assert back.price.as_tuple() == Decimal(text).as_tuple()
    assert orjson.loads(encode(msg))["price"] == str(Decimal(text))


def test_non_finite_floats_are_tagged_strings() -> None:
    msg = CorrelationUpdated(
        ts_event=1,
        ts_init=2,
        symbols=("BTCUSD", "ETHUSD"),
        matrix=((1.0, math.nan), (math.inf, -math.inf)),
        window=-0,
    )
    wire = encode(msg)
    assert orjson.loads(wire)["matrix"] == [[1.0, "NaN"], ["Infinity", "-Infinity"]]
    back = decode(wire)
    assert isinstance(back, CorrelationUpdated)
    assert math.isnan(back.matrix[0][1])
    assert back.matrix[1] == (math.inf, -math.inf)


def test_integers_at_the_64_bit_bounds_round_trip() -> None:
    for value in (-(2**63), 2**63 - 1, 0):
        assert decode(encode(_fill(ts_init=value))) == _fill(ts_init=value)


def test_the_wire_form_is_a_flat_tagged_object_in_field_order() -> None:
    snapshot = BookSnapshot(
        ts_event=5,
        ts_init=6,
        symbol="BTCUSD",
        seq=7,
        bids=(BookLevel(price=Decimal("65000.0"), size=3),),
        asks=(),
        checksum=None,
    )
    assert encode(snapshot) == (
        b'{"type":"BookSnapshot","ts_init":6,"ts_event":5,"symbol":"BTCUSD","seq":7,'
        b'"bids":[{"price":"65000.0","size":3}],"asks":[],"checksum":null}'
    )


def test_bytearray_and_memoryview_decode_too() -> None:
    wire = encode(_fill())
    assert decode(bytearray(wire)) == decode(memoryview(wire)) == _fill()
