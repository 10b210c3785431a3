"""The journal's archive: entries trimmed from LMDB, kept as JSON lines under STATE/journal/.

The live journal only needs the entries some actor may still replay; the rest would grow
the LMDB file (and the bot's resident memory, which maps it) for as long as the bot runs.
The storage writer moves them here first, so the audit record (every signal, risk
decision, order and fill) stays complete, in files that cost no memory: one per UTC day,
``journal-YYYY-MM-DD.jsonl``, one entry per line::

    {"seq": 1041, "t": "OrderFilled", "k": "p1f3...", "to": null, "event": {...}}

``t``, ``k`` and ``to`` are the entry's header (type, publish key, command target) and
``event`` the message as ``messages.encode`` writes it, so ``jq`` reads it and
:func:`read_archive` gives back bytes that :func:`actors._durable.decode_entry` decodes.

Lines are fsync'd before LMDB deletes their entries. A crash between the two archives the
same entries again on the next trim, so :meth:`JournalArchive.append` skips what the
archive already holds (it reads its own last line at start), and a line torn by a crash is
cut off before the next append.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from storage import Store, fsync_dir

__all__ = ["ARCHIVE_DIR", "JournalArchive", "archive_line", "read_archive", "read_history"]

ARCHIVE_DIR = "journal"
"""Folder of the archive, under the state directory."""

_GLOB = "journal-*.jsonl"
_TAIL_BYTES = 1 << 16


def archive_line(seq: int, data: bytes) -> bytes:
    """One archive line for the journal entry ``data`` (header line, then event bytes)."""
    cut = data.index(b"\n")
    header = data[:cut].strip()
    fields = header[1:-1]
    return b'{"seq":%d,%s,"event":%s}\n' % (seq, fields, data[cut + 1 :])


def entry_bytes(line: bytes) -> tuple[int, bytes]:
    """The (seq, entry bytes) of an :func:`archive_line`."""
    row = orjson.loads(line)
    header = orjson.dumps({"t": row["t"], "k": row["k"], "to": row["to"]})
    return int(row["seq"]), header + b"\n" + orjson.dumps(row["event"])


class JournalArchive:
    """Appends trimmed entries to the day's file (plain class; the writer's thread only)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last_seq = _last_archived(folder)
        self.lines = 0

    def append(self, entries: list[tuple[int, bytes]]) -> None:
        """Write the entries not archived yet to today's file and fsync it."""
        fresh = [(seq, data) for seq, data in entries if seq > self.last_seq]
        if not fresh:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        day = time.strftime("%Y-%m-%d", time.gmtime())
        path = self.folder / f"journal-{day}.jsonl"
        created = not path.exists()
        with path.open("ab") as out:
            out.write(b"".join(archive_line(seq, data) for seq, data in fresh))
            out.flush()
            os.fsync(out.fileno())
        if created:
            fsync_dir(self.folder)
        self.last_seq = fresh[-1][0]
        self.lines += len(fresh)


def read_archive(folder: Path, after_seq: int = 0) -> Iterator[tuple[int, bytes]]:
    """Yield ``(seq, entry bytes)`` of every archived entry after ``after_seq``, in order."""
    for path in sorted(folder.glob(_GLOB)):
        with path.open("rb") as lines:
            for line in lines:
                if not line.endswith(b"\n"):
                    return  # torn by a crash; the next append cuts it off
                seq, data = entry_bytes(line)
                if seq > after_seq:
                    yield seq, data


def read_history(store: Store, after_seq: int = 0) -> Iterator[tuple[int, bytes]]:
    """Every journal entry after ``after_seq``: the archived ones, then those in LMDB."""
    last = after_seq
    for seq, data in read_archive(store.state_dir / ARCHIVE_DIR, after_seq):
        last = seq
        yield seq, data
    yield from store.read_journal(last)


def _last_archived(folder: Path) -> int:
    """The last seq the archive holds; a torn last line is cut off first."""
    files = sorted(folder.glob(_GLOB))
    for path in reversed(files):
        size = path.stat().st_size
        with path.open("r+b") as file:
            file.seek(max(0, size - _TAIL_BYTES))
            tail = file.read()
            end = tail.rfind(b"\n")
            if end + 1 < len(tail):  # a torn line after the last newline
                file.truncate(size - len(tail) + end + 1)
                os.fsync(file.fileno())
            if end < 0:
                continue
            start = tail.rfind(b"\n", 0, end) + 1
            if start == 0 and size > len(tail):  # one line longer than the tail read
                file.seek(0)
                whole = file.read(size - len(tail) + end + 1)
                start = whole.rfind(b"\n", 0, len(whole) - 1) + 1
                return entry_bytes(whole[start:])[0]
            return entry_bytes(tail[start : end + 1])[0]
    return 0
