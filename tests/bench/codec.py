"""Benchmark of the message codec: ns per encode, decode and round trip.

Run ``python -m tests.bench.codec [--json FILE] [--quick]``. It reports the time
of a typical ``OrderFilled`` (13 fields, two Decimals, an enum) and of a 50-level
``BookSnapshot``, and, as references measured in the same run, building the same
``OrderFilled`` with its constructor and a bare ``orjson.loads`` of its bytes.
"""

from __future__ import annotations

import dataclasses
import timeit
from collections.abc import Callable
from decimal import Decimal

import orjson

from messages import (
    BookLevel,
    BookSnapshot,
    Contracts,
    OrderFilled,
    Side,
    UnixNanos,
    decode,
    encode,
)
from tests.bench._report import parse_args, write_report


def typical_fill() -> OrderFilled:
    """Return an ``OrderFilled`` as the private stream would produce it."""
    return OrderFilled(
        ts_event=UnixNanos(1_700_000_000_000_000_000),
        ts_init=UnixNanos(1_700_000_000_000_250_000),
        fill_id="987654",
        client_order_id="p42-entry-1",
        order_id="1234567",
        symbol="BTCUSD",
        side=Side.BUY,
        price=Decimal("65000.50"),
        size=Contracts(10),
        leaves_size=Contracts(0),
        fee=Decimal("0.1950"),
        fee_asset="USD",
        is_maker=True,
    )


def book(levels: int) -> BookSnapshot:
    """Return a snapshot with ``levels`` levels a side."""
    side = tuple(
        BookLevel(price=Decimal(65000 + i) / 2, size=Contracts(i + 1)) for i in range(levels)
    )
    return BookSnapshot(
        ts_event=UnixNanos(1), ts_init=UnixNanos(2), symbol="BTCUSD", seq=9, bids=side,
        asks=side, checksum=123,
    )  # fmt: skip


def _ns(func: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1e9


def measure(*, quick: bool = False) -> dict[str, float]:
    """Return ns per operation, keyed by operation."""
    number = 2_000 if quick else 100_000
    fill = typical_fill()
    fill_wire = encode(fill)
    snapshot = book(50)
    book_wire = encode(snapshot)
    fields = {f.name: getattr(fill, f.name) for f in dataclasses.fields(fill)}
    return {
        "fill_encode_ns": _ns(lambda: encode(fill), number),
        "fill_decode_ns": _ns(lambda: decode(fill_wire), number),
        "fill_round_trip_ns": _ns(lambda: decode(encode(fill)), number),
        "fill_construct_ns": _ns(lambda: OrderFilled(**fields), number),
        "fill_orjson_loads_ns": _ns(lambda: orjson.loads(fill_wire), number),
        "book50_round_trip_ns": _ns(lambda: decode(encode(snapshot)), max(number // 50, 100)),
        "book50_bytes": float(len(book_wire)),
    }


def main() -> None:
    """Measure and print the report (and write it as JSON when asked)."""
    args = parse_args(__doc__ or "")
    metrics = measure(quick=args.quick)
    ratios = {
        "fill_round_trip_per_construct": metrics["fill_round_trip_ns"]
        / metrics["fill_construct_ns"],
    }
    write_report("codec", metrics, ratios, args.json)


if __name__ == "__main__":
    main()
