"""Trimming the journal: never an entry an actor could still replay, always the rest.

The pin rules (``actors._journal_trim``) against a model on random actors and journals,
then the storage writer on a real LMDB store on the deterministic runtime: an actor that
crashes on an entry and restarts only seconds later, while the journal is trimmed to one
entry every second, still replays that entry; a quiet subscriber does not hold the
journal; the archive plus LMDB keep every entry exactly once, across a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import ChildSpec, DeterministicRuntime, SupervisorSpec, supervisor
from actors import _storage_writer as writer_module
from actors._durable import (
    STORAGE_ID,
    DurableActor,
    JournalEntry,
    encode_entry,
    entry_header,
    wanted,
)
from actors._journal_archive import (
    ARCHIVE_DIR,
    JournalArchive,
    archive_line,
    read_archive,
    read_history,
)
from actors._journal_trim import JournalPins
from actors._specs import Backoff, Restart
from actors._storage_writer import StorageWriter
from messages import PositionFinished, UnixNanos
from messages.settings import StorageSettings
from storage import Store

_NS = 1_000_000_000
START_NS = 1_700_000_000_000_000_000


def _entry(kind_key: str | None, target: str | None = None, n: int = 0) -> bytes:
    event = PositionFinished(
        ts_event=UnixNanos(n), ts_init=UnixNanos(n), position_id=f"p{n}", symbol="BTCUSD"
    )
    return encode_entry(JournalEntry(event=event, key=kind_key, target=target))


# --- the pin rules against a model ------------------------------------------------------------

_KEYS = ("a", "b", "c")
_ACTORS = ("x", "y", "z")

entries_st = st.lists(
    st.tuples(st.sampled_from((*_KEYS, None)), st.sampled_from((None, None, *_ACTORS))),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    journal=entries_st,
    first=st.integers(1, 5),
    actors=st.dictionaries(
        st.sampled_from(_ACTORS),
        st.tuples(
            st.frozensets(st.sampled_from(_KEYS), max_size=2),  # subscribed keys
            st.integers(0, 40),  # stored snapshot seq (0: none)
            st.booleans(),  # restored in this process
        ),
    ),
    limit_back=st.integers(0, 5),
)
def test_the_trim_point_keeps_every_entry_some_actor_could_replay(
    journal: list[tuple[str | None, str | None]],
    first: int,
    actors: dict[str, tuple[frozenset[str], int, bool]],
    limit_back: int,
) -> None:
    rows = [(first + i, _entry(key, target, i)) for i, (key, target) in enumerate(journal)]
    last = rows[-1][0]
    pins = JournalPins()
    pins.load({a: seq for a, (_, seq, _) in actors.items() if seq > 0})
    topics = {
        a: frozenset(("PositionFinished", k) for k in keys) for a, (keys, _, _) in actors.items()
    }
    for actor_id, (_, _, restored) in actors.items():
        if restored:
            pins.restored(actor_id, topics[actor_id])
    limit = last - limit_back
    through = pins.trim_through(rows, limit)

    def could_replay(seq: int, data: bytes) -> bool:
        kind, key, target = entry_header(data)
        for actor_id, (_, stored, restored) in actors.items():
            if not restored and stored > 0 and seq > stored:
                return True  # topics unknown: anything after its snapshot
            if (
                restored
                and seq > stored
                and wanted((kind, key, target), actor_id, topics[actor_id])
            ):
                return True
        return target is not None and not actors.get(target, (0, 0, False))[2]

    needed = [seq for seq, data in rows if could_replay(seq, data)]
    expected = min([limit, *(s - 1 for s in needed)])
    assert through == (expected if expected >= first else 0)


def test_a_quiet_subscriber_does_not_hold_the_journal() -> None:
    pins = JournalPins()
    pins.load({"strategy:SOL": 3})
    pins.restored("strategy:SOL", frozenset({("PositionFinished", "sol")}))
    rows = [(seq, _entry("btc", None, seq)) for seq in range(1, 50)]
    assert pins.trim_through(rows, 45) == 45
    assert pins.pinned_by == ""


def test_an_actor_that_has_not_restored_holds_what_follows_its_snapshot() -> None:
    pins = JournalPins()
    pins.load({"risk": 10, "execution": 4})
    rows = [(seq, _entry("btc", None, seq)) for seq in range(1, 20)]
    assert pins.trim_through(rows, 18) == 4
    assert pins.pinned_by == "execution"
    pins.restored("execution", frozenset())
    assert pins.trim_through(rows, 18) == 10
    pins.forgot("risk")
    assert pins.trim_through(rows, 18) == 18


def test_a_command_for_an_actor_that_has_not_restored_stays() -> None:
    pins = JournalPins()
    rows = [(1, _entry(None, None, 1)), (2, _entry(None, "gateway", 2)), (3, _entry("k", None, 3))]
    assert pins.trim_through(rows, 3) == 1
    assert pins.pinned_by == "gateway"


# --- the archive ------------------------------------------------------------------------------


def test_the_archive_gives_back_entries_that_decode_and_skips_what_it_has(tmp_path: Path) -> None:
    archive = JournalArchive(tmp_path)
    rows = [
        (seq, _entry("k" if seq % 2 else None, None if seq % 3 else "risk", seq))
        for seq in range(1, 8)
    ]
    archive.append(rows[:5])
    archive.append(rows[3:])  # a crash before LMDB's delete: the same entries again
    back = list(read_archive(tmp_path))
    assert [seq for seq, _ in back] == list(range(1, 8))
    assert [entry_header(d) for _, d in back] == [entry_header(d) for _, d in rows]
    assert JournalArchive(tmp_path).last_seq == 7


def test_a_line_torn_by_a_crash_is_cut_off_and_written_again(tmp_path: Path) -> None:
    archive = JournalArchive(tmp_path)
    rows = [(seq, _entry("k", None, seq)) for seq in range(1, 4)]
    archive.append(rows[:2])
    (path,) = tmp_path.glob("journal-*.jsonl")
    with path.open("ab") as out:
        out.write(b'{"seq":3,"t":"PositionFin')  # the process died mid-write
    reopened = JournalArchive(tmp_path)
    assert reopened.last_seq == 2
    reopened.append(rows)
    assert [seq for seq, _ in read_archive(tmp_path)] == [1, 2, 3]


# --- the writer on a real store ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishTick:
    """Self-timer of the publisher."""


class _Publisher(DurableActor):
    """Records one entry a second, keyed "a"."""

    state_fields = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def on_start(self) -> None:
        self.context.schedule_repeating(_NS, PublishTick())
        self.restore()

    def on_publish_tick(self, _: PublishTick) -> None:
        self.count += 1
        now = UnixNanos(self.context.now_ns())
        event = PositionFinished(
            ts_event=now, ts_init=now, position_id=f"n{self.count}", symbol="X"
        )
        self.record(event, key="a")
        self.changed()


class _Listener(DurableActor):
    """Keeps every entry keyed "a" it handled; crashes once on the third."""

    state_fields = ("seen",)
    crash_on: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_start(self) -> None:
        self.context.subscribe(PositionFinished, key="a")
        self.restore()

    def on_position_finished(self, event: PositionFinished) -> None:
        if event.position_id == type(self).crash_on and not self.replaying:
            type(self).crash_on = None
            raise RuntimeError("injected crash")
        self.seen.append(event.position_id)


class _Quiet(DurableActor):
    """Subscribes to a key nothing is ever published under."""

    state_fields = ("seen",)

    def __init__(self) -> None:
        self.seen = 0

    def on_start(self) -> None:
        self.context.subscribe(PositionFinished, key="nobody")
        self.restore()


def _runtime(store: Store, storage: StorageSettings) -> DeterministicRuntime:
    pins = JournalPins()
    slow = SupervisorSpec(
        backoff=Backoff(initial_ns=5 * _NS, max_ns=5 * _NS, jitter=0.0),
        children=(
            ChildSpec(actor_id="quiet", factory=_Quiet),
            ChildSpec(actor_id="listener", factory=_Listener),
            ChildSpec(actor_id="publisher", factory=_Publisher),
        ),
    )
    writer = ChildSpec(
        actor_id=STORAGE_ID,
        factory=lambda: StorageWriter(store=store, settings=storage, pins=pins),
    )
    root = SupervisorSpec(children=(writer, supervisor("work", slow)))
    runtime = DeterministicRuntime(start_ns=START_NS, seed=3)
    runtime.start_root(supervisor("root", root, restart=Restart.PERMANENT))
    runtime.run_until_idle()
    return runtime


def test_an_actor_restarting_late_replays_the_entry_it_crashed_on(tmp_path: Path) -> None:
    storage = replace(StorageSettings(), journal_keep=1, snapshot_interval_s=1)
    store = Store.open(tmp_path, storage)
    _Listener.crash_on = "n3"
    runtime = _runtime(store, storage)
    try:
        runtime.advance(3 * _NS + _NS // 2)  # n3 is published and crashes the listener
        assert _Listener.crash_on is None
        crashed_at = store.last_seq()
        runtime.advance(4 * _NS)  # four trims while the restart waits its 5 s
        assert store.last_seq() >= crashed_at + 4
        assert store.first_seq() <= crashed_at - 0, "the entry the listener needs was trimmed"
        runtime.advance(20 * _NS)
        listener = runtime.entry("listener").actor
        published = runtime.entry("publisher").actor.count
        assert listener.seen == [f"n{i}" for i in range(1, published + 1)]
        assert store.first_seq() >= store.last_seq() - 2, "the journal was not trimmed"
        history = [seq for seq, _ in read_history(store)]
        assert history == list(range(1, store.last_seq() + 1))
    finally:
        runtime.shutdown()
        store.close()


def test_the_journal_and_its_archive_hold_every_entry_once_across_restarts(
    tmp_path: Path,
) -> None:
    storage = replace(StorageSettings(), journal_keep=3, snapshot_interval_s=1)
    for _ in range(3):  # three processes on the same state directory
        store = Store.open(tmp_path, storage)
        runtime = _runtime(store, storage)
        try:
            runtime.advance(10 * _NS)
        finally:
            runtime.shutdown()
            store.close()
    with Store.open(tmp_path, storage) as store:
        history = [seq for seq, _ in read_history(store)]
        assert history == list(range(1, store.last_seq() + 1))
        assert store.last_seq() - store.first_seq() + 1 <= 3 + 2
    assert len(list((tmp_path / ARCHIVE_DIR).glob("journal-*.jsonl"))) == 1


def _archived_run(folder: Path, seqs: range, tag: str = "k") -> list[tuple[int, bytes]]:
    rows = [(seq, _entry(tag, None, seq)) for seq in seqs]
    JournalArchive(folder).append(rows)
    return rows


def test_an_archive_that_does_not_continue_the_journal_is_moved_aside(tmp_path: Path) -> None:
    """A restore from an older backup: LMDB's journal ends before the archive does, so the
    archive belongs to another timeline; it is kept aside and the new one starts empty."""
    folder = tmp_path / ARCHIVE_DIR
    _archived_run(folder, range(1, 19))
    with Store.open(tmp_path) as store:
        store.append([_entry("k", None, seq) for seq in range(1, 11)])
        archive = JournalArchive(folder)
        archive.align(store)
        assert archive.last_seq == 0
        (aside,) = folder.glob("replaced-*")
        assert [seq for seq, _ in read_archive(aside)] == list(range(1, 19))
        archive.append(list(store.read_journal())[:5])
        assert [seq for seq, _ in read_history(store)] == list(range(1, 11))


def test_an_archive_whose_last_entry_differs_from_the_journal_is_moved_aside(
    tmp_path: Path,
) -> None:
    """The same numbers, other entries (a new journal after the old one was set aside)."""
    folder = tmp_path / ARCHIVE_DIR
    _archived_run(folder, range(1, 4), tag="old")
    with Store.open(tmp_path) as store:
        store.append([_entry("new", None, seq) for seq in range(1, 9)])
        archive = JournalArchive(folder)
        archive.align(store)
        assert archive.last_seq == 0 and list(folder.glob("replaced-*"))


def test_an_archive_ahead_of_a_trim_that_did_not_finish_continues(tmp_path: Path) -> None:
    """Killed between the archive's fsync and LMDB's delete: the same entries are in both;
    the archive goes on and the next trim does not write them twice."""
    folder = tmp_path / ARCHIVE_DIR
    with Store.open(tmp_path) as store:
        store.append([_entry("k", None, seq) for seq in range(1, 11)])
        JournalArchive(folder).append(list(store.read_journal())[:6])
        archive = JournalArchive(folder)
        archive.align(store)
        assert archive.last_seq == 6 and not list(folder.glob("replaced-*"))
        store.trim_journal(8, archive.append)
        assert [seq for seq, _ in read_archive(folder)] == list(range(1, 9))
        assert [seq for seq, _ in read_history(store)] == list(range(1, 11))


def test_lines_longer_than_the_tail_read_and_a_later_named_file_are_handled(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ARCHIVE_DIR
    folder.mkdir()
    long_event = PositionFinished(
        ts_event=UnixNanos(1), ts_init=UnixNanos(1), position_id="p" * 200_000, symbol="X"
    )
    big = encode_entry(JournalEntry(event=long_event, key="k"))
    future = folder / "journal-2999-01-01.jsonl"  # as if the clock had stepped back since
    future.write_bytes(archive_line(1, big) + archive_line(2, big) + b'{"seq":3,"t":')
    archive = JournalArchive(folder)
    assert archive.last_seq == 2
    archive.append([(3, _entry("k", None, 3))])
    assert sorted(p.name for p in folder.glob("*.jsonl")) == [future.name]
    assert [seq for seq, _ in read_archive(folder)] == [1, 2, 3]


def test_a_snapshot_that_never_restores_holds_the_trim_and_is_named_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A removed symbol's strategy: its snapshot holds the journal after its seq; the writer
    warns once; `snapshot forget` (here: the store's) lets the trim go on."""
    storage = replace(StorageSettings(), journal_keep=1, snapshot_interval_s=1)
    with Store.open(tmp_path, storage) as store:
        store.append([_entry("k", None, seq) for seq in range(1, 6)])
        store.put_snapshot("strategy:XRPUSD", b"{}", 4, 1)
    store = Store.open(tmp_path, storage)
    runtime = _runtime(store, storage)
    try:
        with caplog.at_level(logging.WARNING):
            runtime.advance(15 * _NS)
        assert store.first_seq() == 5 and store.last_seq() > 15
        held = [r.getMessage() for r in caplog.records if "journal trim held" in r.getMessage()]
        assert len(held) == 1 and "strategy:XRPUSD" in held[0]
        assert runtime.entry(STORAGE_ID).actor.describe()["trim_pinned_by"] == "strategy:XRPUSD"
    finally:
        runtime.shutdown()
        store.close()
    with Store.open(tmp_path, storage) as store:
        store.forget_snapshot("strategy:XRPUSD")
    store = Store.open(tmp_path, storage)
    runtime = _runtime(store, storage)
    try:
        runtime.advance(3 * _NS)
        assert store.first_seq() >= store.last_seq() - 2
    finally:
        runtime.shutdown()
        store.close()


def test_a_long_journal_is_trimmed_a_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade onto a journal that was never trimmed: no one huge transaction."""
    monkeypatch.setattr(writer_module, "TRIM_CHUNK", 40)
    storage = replace(StorageSettings(), journal_keep=1, snapshot_interval_s=1)
    with Store.open(tmp_path, storage) as store:
        store.append([_entry("k", None, seq) for seq in range(1, 201)])
    store = Store.open(tmp_path, storage)
    runtime = _runtime(store, storage)
    try:
        firsts = []
        for _ in range(3):
            runtime.advance(_NS)
            firsts.append(store.first_seq())
        assert firsts == [41, 81, 121]
    finally:
        runtime.shutdown()
        store.close()
