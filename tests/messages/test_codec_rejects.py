"""Every way a payload can be wrong raises CodecError, and the message names the field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest

from messages import (
    BookLevel,
    BookSnapshot,
    BotError,
    CodecError,
    IndicatorsUpdated,
    MessageError,
    OrderFilled,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
    decode,
    encode,
)
from messages._base import Event


def _fill_payload() -> dict[str, Any]:
    return {
        "type": "OrderFilled",
        "ts_init": 2,
        "ts_event": 1,
        "fill_id": "f-1",
        "client_order_id": "c-1",
        "order_id": "o-1",
        "symbol": "BTCUSD",
        "side": "BUY",
        "price": "65000.50",
        "size": 10,
        "leaves_size": 0,
        "fee": "0.0325",
        "fee_asset": "USD",
        "is_maker": True,
    }


def _book_payload() -> dict[str, Any]:
    return {
        "type": "BookSnapshot",
        "ts_init": 2,
        "ts_event": 1,
        "symbol": "BTCUSD",
        "seq": 7,
        "bids": [{"price": "100.5", "size": 3}, {"price": "100.0", "size": 4}],
        "asks": [],
        "checksum": None,
    }


def _indicators_payload() -> dict[str, Any]:
    floats = ("ema_fast", "ema_mid", "ema_slow", "ema_trend", "rsi", "atr", "adx")
    pivots = ("pivot_p", "pivot_r1", "pivot_r2", "pivot_s1", "pivot_s2")
    payload: dict[str, Any] = {
        "type": "IndicatorsUpdated",
        "ts_init": 2,
        "ts_event": 1,
        "symbol": "BTCUSD",
        "open_time_ns": 0,
        "close": "100",
        "valid": ["rsi"],
        "bars_seen": 3,
    }
    payload.update(dict.fromkeys((*floats, *pivots), 1.5))
    return payload


def _rejects(payload: Any, *needles: str) -> CodecError:
    # The stdlib writes integers beyond 64 bits, which orjson refuses to.
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    with pytest.raises(CodecError) as info:
        decode(data)
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {str(info.value)!r}"
    return info.value


def test_the_valid_payloads_decode() -> None:
    for payload in (_fill_payload(), _book_payload(), _indicators_payload()):
        decode(orjson.dumps(payload))


def test_codec_error_is_a_message_error_is_a_bot_error() -> None:
    assert issubclass(CodecError, MessageError)
    assert issubclass(MessageError, BotError)


@pytest.mark.parametrize("data", ["{}", None, 42, [b"{}"], object()])
def test_not_bytes(data: Any) -> None:
    with pytest.raises(CodecError, match="expected bytes"):
        decode(data)


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"{'type': 1}", b"NaN", b'{"a":1}x'])
def test_invalid_json(data: bytes) -> None:
    _rejects(data, "invalid JSON")


@pytest.mark.parametrize("data", [b"[]", b"1", b'"OrderFilled"', b"null", b"true"])
def test_a_payload_that_is_not_an_object(data: bytes) -> None:
    _rejects(data, "not an object")


@pytest.mark.parametrize("tag", [None, 1, ["OrderFilled"], True])
def test_a_missing_or_non_string_type_tag(tag: Any) -> None:
    payload = _fill_payload()
    if tag is None:
        del payload["type"]
    else:
        payload["type"] = tag
    _rejects(payload, '"type" tag')


@pytest.mark.parametrize("tag", ["Nope", "orderfilled", "Event", "Message", "BookLevel", ""])
def test_an_unknown_type_tag(tag: str) -> None:
    payload = _fill_payload()
    payload["type"] = tag
    _rejects(payload, "unknown type tag", repr(tag))


@pytest.mark.parametrize("field", [key for key in _fill_payload() if key != "type"])
def test_a_missing_field(field: str) -> None:
    payload = _fill_payload()
    del payload[field]
    _rejects(payload, f"OrderFilled.{field}", "missing field")


def test_an_extra_field() -> None:
    payload = _fill_payload()
    payload["bogus"] = 1
    _rejects(payload, "OrderFilled.bogus", "unexpected field")


def test_a_missing_and_an_extra_field_together() -> None:
    payload = _fill_payload()
    del payload["price"]
    payload["prize"] = "1"
    _rejects(payload, "OrderFilled.price", "missing field")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("size", True, "expected int, got bool"),
        ("size", 10.0, "expected int, got float"),
        ("size", "10", "expected int, got str"),
        ("size", None, "expected int, got NoneType"),
        ("size", 2**63, "outside the signed 64-bit range"),
        ("size", -(2**63) - 1, "expected int, got float"),  # orjson reads it as a float
        ("ts_event", 2**64, "expected int, got float"),
        ("is_maker", 1, "expected bool, got int"),
        ("is_maker", "true", "expected bool, got str"),
        ("symbol", 1, "expected str, got int"),
        ("symbol", None, "expected str, got NoneType"),
        ("symbol", ["BTCUSD"], "expected str, got list"),
        ("price", 65000.5, "expected Decimal as a JSON string, got float"),
        ("price", 65000, "expected Decimal as a JSON string, got int"),
        ("price", None, "got NoneType"),
        ("side", "buy", "invalid Side value 'buy'"),
        ("side", "", "invalid Side value"),
        ("side", 0, "expected Side as a JSON string, got int"),
    ],
)
def test_a_wrong_json_type(field: str, value: Any, expected: str) -> None:
    payload = _fill_payload()
    payload[field] = value
    _rejects(payload, f"OrderFilled.{field}", expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1.",
        ".5",
        " 1",
        "1 ",
        "1_000",
        "+1",
        "--1",
        "1e",
        "0x10",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "sNaN",
        "1,5",
        "\u0661",  # ARABIC-INDIC DIGIT ONE: Decimal accepts it, the wire does not
        "1E-99999999999999999999",  # beyond what Decimal can hold
    ],
)
def test_an_invalid_decimal_string(text: str) -> None:
    payload = _fill_payload()
    payload["fee"] = text
    _rejects(payload, "OrderFilled.fee", "invalid Decimal string")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (50, "expected float"),
        (True, "expected float"),
        ("nan", "invalid float string"),
        ("inf", "invalid float string"),
        ("1.5", "invalid float string"),
        (None, "expected float"),
    ],
)
def test_a_wrong_float(value: Any, expected: str) -> None:
    payload = _indicators_payload()
    payload["rsi"] = value
    _rejects(payload, "IndicatorsUpdated.rsi", expected)


@pytest.mark.parametrize(
    ("bids", "path", "expected"),
    [
        ({"price": "1", "size": 1}, "BookSnapshot.bids", "as a JSON array, got dict"),
        ("[]", "BookSnapshot.bids", "as a JSON array, got str"),
        (None, "BookSnapshot.bids", "got NoneType"),
        ([{"price": "1", "size": 1}, 5], "BookSnapshot.bids[1]", "as a JSON object, got int"),
        ([{"price": "1", "size": 1}, {"price": "1"}], "BookSnapshot.bids[1].size", "missing"),
        ([{"price": "1", "size": 1, "x": 0}], "BookSnapshot.bids[0].x", "unexpected field"),
        ([{"price": 1.0, "size": 1}], "BookSnapshot.bids[0].price", "Decimal as a JSON string"),
        ([{"price": "1", "size": False}], "BookSnapshot.bids[0].size", "expected int, got bool"),
    ],
)
def test_a_wrong_tuple_or_nested_value(bids: Any, path: str, expected: str) -> None:
    payload = _book_payload()
    payload["bids"] = bids
    _rejects(payload, path, expected)


def test_a_tuple_of_str_with_a_wrong_element() -> None:
    payload = _indicators_payload()
    payload["valid"] = ["rsi", 3]
    _rejects(payload, "IndicatorsUpdated.valid[1]", "expected str, got int")


def test_a_class_check_beyond_the_types() -> None:
    payload = {
        "type": "PlaceOrder",
        "ts_init": 1,
        "command_id": "cmd-1",
        "client_order_id": "x" * 33,
        "symbol": "BTCUSD",
        "side": "SELL",
        "size": 1,
        "order_type": "LIMIT",
        "limit_price": "1.5",
        "stop_price": None,
        "post_only": True,
        "reduce_only": False,
        "time_in_force": "GTC",
        "position_id": None,
    }
    _rejects(payload, "PlaceOrder.client_order_id", "1 to 32 characters")
    payload["client_order_id"] = "ok"
    payload["size"] = 0
    _rejects(payload, "PlaceOrder.size", "must be > 0")


def test_encode_refuses_what_is_not_a_registered_message() -> None:
    with pytest.raises(CodecError, match="not a registered message type"):
        encode(BookLevel(price=Decimal(1), size=1))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="not a registered message type"):
        encode("OrderFilled")  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="not a registered message type"):
        encode(Event(ts_init=1, ts_event=2))  # an abstract kind


def test_encode_refuses_a_lone_surrogate() -> None:
    book = BookSnapshot(ts_event=1, ts_init=2, symbol="\ud800", seq=1, bids=(), asks=(), checksum=0)
    with pytest.raises(CodecError, match="BookSnapshot"):
        encode(book)


def test_a_valid_payload_mutated_to_another_registered_type_is_rejected() -> None:
    payload = _fill_payload()
    payload["type"] = "PlaceOrder"
    _rejects(payload, "PlaceOrder.")


def test_the_error_carries_type_and_path() -> None:
    payload = _book_payload()
    payload["bids"][1]["size"] = "4"
    error = _rejects(payload)
    assert (error.type_name, error.path) == ("BookSnapshot", "bids[1].size")
    assert error.reason == "expected int, got str"
    assert str(error) == "BookSnapshot.bids[1].size: expected int, got str"


def test_a_valid_place_order_still_decodes_after_the_checks() -> None:
    order = PlaceOrder(
        ts_init=1,
        command_id="c",
        client_order_id="x" * 32,
        symbol="BTCUSD",
        side=Side.BUY,
        size=1,
        order_type=OrderType.LIMIT,
        limit_price=Decimal("1.5"),
        stop_price=None,
        post_only=True,
        reduce_only=False,
        time_in_force=TimeInForce.GTC,
        position_id=None,
    )
    assert decode(encode(order)) == order
    assert isinstance(decode(encode(order)), PlaceOrder)
    assert not isinstance(decode(encode(order)), OrderFilled | IndicatorsUpdated | BookSnapshot)
