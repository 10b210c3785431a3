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
cut off before the next append. An archive that does not continue the LMDB journal (the
environment was restored from a backup or an export, or set aside for a new simulator)
is moved aside whole into ``replaced-<UTC>/`` at start (:meth:`JournalArchive.align`), so
two timelines never mix under the same numbers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from actors._durable import encode_header, entry_header
from storage import Store, fsync_dir

__all__ = ["ARCHIVE_DIR", "JournalArchive", "archive_line", "read_archive", "read_history"]

ARCHIVE_DIR = "journal"
"""Folder of the archive, under the state directory."""

log = logging.getLogger(__name__)

_GLOB = "journal-*.jsonl"
_TAIL_BYTES = 1 << 16


def archive_line(seq: int, data: bytes) -> bytes:
    """One archive line for the journal entry ``data`` (header line, then event bytes)."""
    cut = data.index(b"\n")
    fields = data[:cut].strip()[1:-1]
    return b'{"seq":%d,%s,"event":%s}\n' % (seq, fields, data[cut + 1 :])


def entry_bytes(line: bytes) -> tuple[int, bytes]:
    """The (seq, entry bytes) of an :func:`archive_line`."""
    row = orjson.loads(line)
    header = encode_header(row["t"], row["k"], row["to"])
    return int(row["seq"]), header + b"\n" + orjson.dumps(row["event"])


def same_entry(one: bytes, other: bytes) -> bool:
    """Whether two entries' bytes hold the same header and event (archived bytes are
    re-serialised, so they are compared as JSON, not byte for byte)."""
    if entry_header(one) != entry_header(other):
        return False
    return bool(
        orjson.loads(one[one.index(b"\n") + 1 :]) == orjson.loads(other[other.index(b"\n") + 1 :])
    )


class JournalArchive:
    """Appends trimmed entries to the day's file (plain class; the writer's thread only)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last_seq, self._last_entry, self._day = _last_archived(folder)

    def align(self, store: Store) -> None:
        """Move the archive aside when it does not continue ``store``'s journal: it ends
        after the journal's last entry, or its last entry differs from the journal's."""
        if self.last_seq == 0:
            return
        last = store.last_seq()
        ours = next(iter(store.read_journal(self.last_seq - 1)), None)
        continues = self.last_seq <= last and (
            ours is None  # trimmed past it already: nothing to compare
            or ours[0] != self.last_seq
            or same_entry(ours[1], self._last_entry)
        )
        if continues:
            return
        aside = self.folder / time.strftime("replaced-%Y%m%dT%H%M%SZ", time.gmtime())
        aside.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.folder.glob(_GLOB)):
            path.rename(aside / path.name)
        fsync_dir(self.folder)
        log.warning(
            "journal archive: it ends at seq %d but the journal in LMDB (to seq %d) is another "
            "one (restored or new); the old archive was moved to %s",
            self.last_seq,
            last,
            aside,
        )
        self.last_seq, self._last_entry, self._day = 0, b"", ""

    def append(self, entries: list[tuple[int, bytes]]) -> None:
        """Write the entries not archived yet to today's file and fsync it."""
        fresh = [(seq, data) for seq, data in entries if seq > self.last_seq]
        if not fresh:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # never a file named before the newest one (a clock stepped back): files stay in order
        self._day = max(self._day, time.strftime("%Y-%m-%d", time.gmtime()))
        path = self.folder / f"journal-{self._day}.jsonl"
        created = not path.exists()
        with path.open("ab") as out:
            out.write(b"".join(archive_line(seq, data) for seq, data in fresh))
            out.flush()
            os.fsync(out.fileno())
        if created:
            fsync_dir(self.folder)
        self.last_seq, self._last_entry = fresh[-1]


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


def _last_archived(folder: Path) -> tuple[int, bytes, str]:
    """The archive's last seq, that entry's bytes and its file's day; a torn last line is
    cut off first. (0, b"", "") for an empty archive."""
    for path in sorted(folder.glob(_GLOB), reverse=True):
        line = _last_line(path)
        if line:
            seq, data = entry_bytes(line)
            return seq, data, path.name[len("journal-") : -len(".jsonl")]
    return 0, b"", ""


def _last_line(path: Path) -> bytes:
    """The file's last complete line (b"" if none), after cutting off a torn one."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        read = min(size, _TAIL_BYTES)
        while True:
            file.seek(size - read)
            tail = file.read(read)
            end = tail.rfind(b"\n")
            start = tail.rfind(b"\n", 0, end) + 1 if end >= 0 else 0
            if read == size or start > 0:
                break
            read = min(size, read * 4)  # a line longer than the tail read so far
        if end + 1 < len(tail):  # a torn line after the last newline
            file.truncate(size - len(tail) + end + 1)
            os.fsync(file.fileno())
        return tail[start : end + 1] if end >= 0 else b""
