"""Byte layouts of keys and values in the LMDB databases.

Keys sort as LMDB compares them (bytewise), so numbers are big-endian:

- journal key: the sequence number as an unsigned 64-bit big-endian integer (8 bytes);
- trade key: the close time (ns, u64 big-endian) then the trade id in UTF-8;
- snapshot key: the stable actor id in UTF-8;
- snapshot value: a format byte, the last applied journal sequence (u64), the actor's
  snapshot schema version (u32), all big-endian, then the state bytes (orjson): as they
  are (format 1) or, for a state of 2 KiB and more, zlib-compressed (format 2);
- series key: the series name in UTF-8, a zero byte, then the row's index (u64
  big-endian), so one series' rows are contiguous and sorted by index.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SEQ_MAX = 2**64 - 1
"""Largest journal sequence number a key can carry."""

_SEQ = struct.Struct(">Q")
_SNAPSHOT_HEADER = struct.Struct(">BQI")
_PLAIN = 1
_ZLIB = 2
_COMPRESS_FROM = 2048
"""States this long and longer are compressed. LMDB keeps a value over ~2 KiB on its own
run of contiguous pages, found anew at each rewrite: the gateway's ~80 kB snapshot,
rewritten on every money event, needed 21 and grew the file with the free space it left
between; compressed (~15 kB, ~0.8 ms) it needs 4."""
SNAPSHOT_HEADER_SIZE = _SNAPSHOT_HEADER.size
"""Bytes before a snapshot's state: format, last_seq, schema."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """One actor's stored state.

    Attributes:
        actor_id: Stable actor id (``"position:p42"``).
        state: The actor's state as orjson bytes; the store never parses it.
        last_seq: Last journal sequence the state includes; replay starts after it.
        schema: Version of the actor's own state layout (the actor migrates it).
    """

    actor_id: str
    state: bytes
    last_seq: int
    schema: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedTrade:
    """One closed trade record.

    Attributes:
        closed_ns: When the trade closed, ns since the UNIX epoch; the iteration order.
        trade_id: Stable id of the trade; with ``closed_ns`` it makes the key, so writing
            the same trade twice (a replay) stores it once.
        record: The trade as orjson bytes.
    """

    closed_ns: int
    trade_id: str
    record: bytes


def seq_key(seq: int) -> bytes:
    """Encode a journal sequence number (0 to 2**64-1) as its 8-byte key."""
    if not 0 <= seq <= SEQ_MAX:
        raise ValueError(f"journal sequence out of range: {seq}")
    return _SEQ.pack(seq)


def key_seq(key: bytes) -> int:
    """Decode an 8-byte journal key back into its sequence number."""
    if len(key) != _SEQ.size:
        raise ValueError(f"journal key must be 8 bytes, was {len(key)}")
    value: int = _SEQ.unpack(key)[0]
    return value


def trade_key(closed_ns: int, trade_id: str) -> bytes:
    """Encode a closed trade's key: close time then id, so iteration is by close time."""
    return seq_key(closed_ns) + trade_id.encode()


def pack_snapshot(snapshot: Snapshot) -> bytes:
    """Encode a snapshot's value (header then the state bytes, compressed when long)."""
    state, fmt = snapshot.state, _PLAIN
    if len(state) >= _COMPRESS_FROM:
        state, fmt = zlib.compress(state, 1), _ZLIB
    return _SNAPSHOT_HEADER.pack(fmt, snapshot.last_seq, snapshot.schema) + state


def snapshot_last_seq(actor_id: str, value: bytes) -> int:
    """The ``last_seq`` of a snapshot value, from its header only (the state is not read)."""
    if len(value) < _SNAPSHOT_HEADER.size:
        raise ValueError(f"snapshot of {actor_id!r} is {len(value)} bytes, shorter than header")
    fmt, last_seq, _ = _SNAPSHOT_HEADER.unpack_from(value)
    if fmt not in (_PLAIN, _ZLIB):
        raise ValueError(f"snapshot of {actor_id!r} has unknown format byte {fmt}")
    return int(last_seq)


def unpack_snapshot(actor_id: str, value: bytes) -> Snapshot:
    """Decode a snapshot value; ``ValueError`` when the header is short or unknown."""
    if len(value) < _SNAPSHOT_HEADER.size:
        raise ValueError(f"snapshot of {actor_id!r} is {len(value)} bytes, shorter than header")
    fmt, last_seq, schema = _SNAPSHOT_HEADER.unpack_from(value)
    state = bytes(value[_SNAPSHOT_HEADER.size :])
    if fmt == _ZLIB:
        try:
            state = zlib.decompress(state)
        except zlib.error as exc:
            raise ValueError(f"snapshot of {actor_id!r} does not decompress: {exc}") from None
    elif fmt != _PLAIN:
        raise ValueError(f"snapshot of {actor_id!r} has unknown format byte {fmt}")
    return Snapshot(actor_id=actor_id, state=state, last_seq=last_seq, schema=schema)


def series_prefix(name: str) -> bytes:
    """The key prefix of every row of series ``name`` (its UTF-8 bytes and a zero byte)."""
    raw = name.encode()
    if not raw or b"\x00" in raw:
        raise ValueError(f"bad series name: {name!r}")
    return raw + b"\x00"


def series_key(name: str, index: int) -> bytes:
    """Encode a series row's key: the name's prefix then the index (0 to 2**64-1)."""
    return series_prefix(name) + seq_key(index)
