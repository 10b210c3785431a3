"""Export and import of a whole environment as JSON lines (``bot.py snapshot export``).

One JSON object per line, written by orjson; byte strings are base64 so they come back
exactly::

    {"kind": "header", "format": "delta-bot-state", "format_version": 1,
     "schema_version": 1, "journal_first": 1, "journal_last": 1234}
    {"kind": "snapshot", "actor_id": "risk", "last_seq": 1200, "schema": 3, "state": "<b64>"}
    {"kind": "journal", "seq": 1, "event": "<b64>"}
    {"kind": "trade", "closed_ns": 1700000000000000000, "trade_id": "p42", "record": "<b64>"}
    {"kind": "end", "records": 1240}

The end line counts the records between it and the header; a file without it was cut short.
Everything comes from one read transaction, so an export is consistent while the bot writes.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lmdb
import orjson

from storage._errors import ExportFormatError
from storage._keys import (
    ClosedTrade,
    Snapshot,
    key_seq,
    pack_snapshot,
    seq_key,
    trade_key,
    unpack_snapshot,
)
from storage._schema import SCHEMA_KEY, SCHEMA_VERSION, Databases, open_databases

FORMAT = "delta-bot-state"
FORMAT_VERSION = 1
_U32 = struct.Struct(">I")


def export_env(env: lmdb.Environment, dbs: Databases, file: Path) -> int:
    """Write everything in ``env`` to ``file`` (via a temporary name); return the records.

    Runs in the caller's thread; a reader, it never blocks the writer.
    """
    partial = file.with_name(file.name + ".partial")
    count = 0
    with env.begin() as txn, partial.open("wb") as out:
        cursor = txn.cursor(db=dbs.journal)
        first = key_seq(cursor.key()) if cursor.first() else 0
        last = key_seq(cursor.key()) if cursor.last() else 0
        _line(
            out,
            kind="header",
            format=FORMAT,
            format_version=FORMAT_VERSION,
            schema_version=SCHEMA_VERSION,
            journal_first=first,
            journal_last=last,
        )
        for key, value in txn.cursor(db=dbs.snapshots):
            snap = unpack_snapshot(bytes(key).decode(), bytes(value))
            _line(
                out,
                kind="snapshot",
                actor_id=snap.actor_id,
                last_seq=snap.last_seq,
                schema=snap.schema,
                state=_b64(snap.state),
            )
            count += 1
        for key, value in txn.cursor(db=dbs.journal):
            _line(out, kind="journal", seq=key_seq(bytes(key)), event=_b64(bytes(value)))
            count += 1
        for key, value in txn.cursor(db=dbs.trades):
            raw = bytes(key)
            _line(
                out,
                kind="trade",
                closed_ns=key_seq(raw[:8]),
                trade_id=raw[8:].decode(),
                record=_b64(bytes(value)),
            )
            count += 1
        _line(out, kind="end", records=count)
        out.flush()
        os.fsync(out.fileno())
    partial.rename(file)
    return count


def load_export(file: Path, env: lmdb.Environment) -> int:
    """Load an export into an empty ``env`` in one transaction; return the records.

    Raises:
        ExportFormatError: The file is not a whole export of a known format and schema
            version, or its journal has a gap. Nothing is committed then.
    """
    with env.begin(write=True) as txn:
        dbs = open_databases(env, txn)
        count = 0
        expected_seq: int | None = None
        ended = False
        for number, row in _rows(file):
            kind = row.get("kind")
            if number == 1:
                _check_header(file, row)
                expected_seq = int(row["journal_first"]) or None
                txn.put(SCHEMA_KEY, _U32.pack(SCHEMA_VERSION), db=dbs.meta)
                continue
            if ended:
                raise ExportFormatError(f"{file}:{number}: data after the end line", path=str(file))
            try:
                if kind == "snapshot":
                    snap_value = pack_snapshot(_snapshot(row))
                    txn.put(str(row["actor_id"]).encode(), snap_value, db=dbs.snapshots)
                elif kind == "journal":
                    seq = int(row["seq"])
                    if expected_seq is not None and seq != expected_seq:
                        raise ExportFormatError(
                            f"{file}:{number}: journal gap, seq {seq} where {expected_seq} was due",
                            path=str(file),
                        )
                    expected_seq = seq + 1
                    txn.put(seq_key(seq), _unb64(row["event"]), db=dbs.journal, append=True)
                elif kind == "trade":
                    trade = ClosedTrade(
                        closed_ns=int(row["closed_ns"]),
                        trade_id=str(row["trade_id"]),
                        record=_unb64(row["record"]),
                    )
                    txn.put(trade_key(trade.closed_ns, trade.trade_id), trade.record, db=dbs.trades)
                elif kind == "end":
                    if int(row["records"]) != count:
                        raise ExportFormatError(
                            f"{file}: end line counts {row['records']} records, found {count}",
                            path=str(file),
                        )
                    ended = True
                    continue
                else:
                    raise ExportFormatError(
                        f"{file}:{number}: unknown kind {kind!r}", path=str(file)
                    )
            except (KeyError, TypeError, ValueError) as exc:
                raise ExportFormatError(
                    f"{file}:{number}: bad {kind} line ({exc})", path=str(file)
                ) from exc
            count += 1
        if not ended:
            raise ExportFormatError(f"{file} has no end line: it was cut short", path=str(file))
    return count


def _rows(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with file.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ExportFormatError(
                    f"{file}:{number}: not JSON ({exc})", path=str(file)
                ) from exc
            if not isinstance(row, dict):
                raise ExportFormatError(f"{file}:{number}: not a JSON object", path=str(file))
            yield number, row


def _check_header(file: Path, row: dict[str, Any]) -> None:
    if row.get("kind") != "header" or row.get("format") != FORMAT:
        raise ExportFormatError(
            f"{file} is not a state export: its first line is not a {FORMAT!r} header",
            path=str(file),
        )
    if row.get("format_version") != FORMAT_VERSION or row.get("schema_version") != SCHEMA_VERSION:
        raise ExportFormatError(
            f"{file} has export format {row.get('format_version')} and schema "
            f"{row.get('schema_version')}; this bot reads format {FORMAT_VERSION}, schema "
            f"{SCHEMA_VERSION}. Restore it with the bot version that wrote it.",
            path=str(file),
        )


def _snapshot(row: dict[str, Any]) -> Snapshot:
    return Snapshot(
        actor_id=str(row["actor_id"]),
        state=_unb64(row["state"]),
        last_seq=int(row["last_seq"]),
        schema=int(row["schema"]),
    )


def _line(out: Any, **fields: object) -> None:
    out.write(orjson.dumps(fields, option=orjson.OPT_APPEND_NEWLINE))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"expected base64 text, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"bad base64: {exc}") from exc
