"""hypothesis: malformed, mutated and truncated frames and responses give typed errors
(or are counted by the stream), never a crash."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import SimulatedClock
from exchange.delta import (
    DeltaPublicStream,
    DeltaRestClient,
    ExchangeError,
    ParseError,
    UnknownFrame,
    parse_private,
    parse_public,
    public_channels,
)
from messages.settings import ExchangeSettings, Secret
from tests.exchange.delta._data import DATA, TS_INIT, payloads

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "1.5", "-0", "1E+99999", "NaN", "buy", "t", "snapshot", "update"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)  # fmt: skip
PUBLIC = [p for name in sorted(x.stem for x in DATA.glob("ws_*.json"))
          if name not in ("ws_orders", "ws_positions", "ws_margins", "ws_v2_user_trades",
                          "ws_user_trades") for p in payloads(name)]  # fmt: skip
PRIVATE = [p for name in ("ws_orders", "ws_positions", "ws_margins", "ws_v2_user_trades",
                          "ws_user_trades") for p in payloads(name)]  # fmt: skip
SYMBOLS = {27: "BTCUSD"}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mutate(frame: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    mutated = dict(frame)
    for key in data.draw(st.lists(st.sampled_from(sorted(frame)), max_size=3)):
        if data.draw(st.booleans()):
            mutated.pop(key, None)
        else:
            mutated[key] = data.draw(JSON)
    return mutated


def _parse_any(parse: Any, frame: Any) -> None:
    with contextlib.suppress(ParseError, UnknownFrame):
        parse(frame)


@SETTINGS
@given(data=st.data())
def test_mutated_public_frames_parse_or_raise_typed_errors(data: st.DataObject) -> None:
    frame = _mutate(data.draw(st.sampled_from(PUBLIC)), data)
    _parse_any(lambda f: parse_public(f, TS_INIT), frame)


@SETTINGS
@given(data=st.data())
def test_mutated_private_frames_parse_or_raise_typed_errors(data: st.DataObject) -> None:
    frame = _mutate(data.draw(st.sampled_from(PRIVATE)), data)
    _parse_any(lambda f: parse_private(f, TS_INIT, SYMBOLS), frame)


@SETTINGS
@given(frame=st.dictionaries(st.sampled_from(["type", "sy", "action", "a", "b", "seq", "ts",
                                               "p", "s", "r", "t", "d", "result", "symbol"]),
                             JSON, max_size=8),
       kind=st.sampled_from(["ob_updates", "trades", "ticker", "l2_updates", "all_trades",
                             "candlestick_1m", "mark_price", "funding_rate", "orders",
                             "positions", "v2/user_trades", "margins"]))  # fmt: skip
def test_random_frames_of_known_types_never_crash(frame: dict[str, Any], kind: str) -> None:
    frame["type"] = kind
    _parse_any(lambda f: parse_public(f, TS_INIT), frame)
    _parse_any(lambda f: parse_private(f, TS_INIT, SYMBOLS), frame)


@SETTINGS
@given(data=st.data())
def test_truncated_and_garbled_frames_are_counted_by_the_stream(data: st.DataObject) -> None:
    stream = DeltaPublicStream(
        "ws://127.0.0.1:9",
        channels=public_channels(["BTCUSD"], compact=True),
        settings=ExchangeSettings(),
        clock=SimulatedClock(TS_INIT),
        sink=lambda _: None,
    )
    raw = orjson.dumps(data.draw(st.sampled_from(PUBLIC)))
    cut = raw[: data.draw(st.integers(0, len(raw) - 1))]
    garbled = data.draw(st.binary(max_size=40))
    mutated = json.dumps(_mutate(orjson.loads(raw), data)).encode()  # ints beyond 64 bits
    for frame in (cut, garbled, mutated):
        stream.on_frame(frame, lambda _: None)
    counted = sum(stream.counts[k] for k in ("parsed", "malformed", "unknown", "control"))
    assert counted == 3


@SETTINGS
@given(
    status=st.sampled_from([200, 400, 401, 403, 404, 429, 500, 503]),
    body=st.one_of(st.binary(max_size=30), JSON.map(lambda v: json.dumps(v).encode())),
    reset=st.one_of(st.none(), st.text(alphabet="0123456789.-einfa ", max_size=6)),
)
def test_any_rest_reply_gives_a_result_or_a_typed_error(
    status: int, body: bytes, reset: str | None
) -> None:
    headers = {} if reset is None else {"X-RATE-LIMIT-RESET": reset}

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    client = DeltaRestClient(
        "https://delta.test",
        api_key=Secret("k"),
        api_secret=Secret("s"),
        settings=ExchangeSettings(max_retries=0),
        clock=SimulatedClock(TS_INIT),
        transport=httpx.MockTransport(handler),
    )
    try:
        client.get_wallet_balances()
        client.get_order_book("BTCUSD")
    except ExchangeError:
        pass


@SETTINGS
@given(
    action=st.sampled_from(["snapshot", "update"]),
    levels=st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False).map(str),
            st.integers(0, 2**63 - 1).map(str),
        ),
        max_size=5,
    ),
    seq=st.integers(0, 2**63 - 1),
    ts=st.integers(0, 2**63 // 1000 - 1),
    cs=st.integers(0, 2**32 - 1),
)
def test_the_unchecked_fast_path_builds_exactly_what_the_checked_constructor_builds(
    action: str, levels: list[tuple[str, str]], seq: int, ts: int, cs: int
) -> None:
    from messages import decode, encode

    frame = {
        "type": "ob_updates",
        "action": action,
        "sy": "BTCUSD",
        "seq": seq,
        "ts": ts,
        "cs": cs,
        "a": [list(x) for x in levels],
        "b": [list(x) for x in levels[::-1]],
    }
    (message,) = parse_public(frame, TS_INIT)
    assert decode(encode(message)) == message  # decode re-runs every construction check
    asks = message.asks  # type: ignore[attr-defined]
    assert [str(level.price) for level in asks] == [p for p, _ in levels]
