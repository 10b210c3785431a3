"""The key and value codecs: exact round trips, and byte order equals number order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import SEQ_MAX, Snapshot, key_seq, seq_key
from storage._keys import (
    SNAPSHOT_HEADER_SIZE,
    pack_snapshot,
    snapshot_last_seq,
    trade_key,
    unpack_snapshot,
)

seqs = st.integers(min_value=0, max_value=SEQ_MAX)


@given(seqs)
def test_seq_key_round_trips(seq: int) -> None:
    key = seq_key(seq)
    assert len(key) == 8
    assert key_seq(key) == seq


@given(seqs, seqs)
def test_seq_keys_sort_like_numbers(a: int, b: int) -> None:
    assert (seq_key(a) < seq_key(b)) == (a < b)


@given(seqs, st.text(min_size=1), seqs, st.text(min_size=1))
def test_trade_keys_sort_by_close_time_first(t1: int, id1: str, t2: int, id2: str) -> None:
    if t1 != t2:
        assert (trade_key(t1, id1) < trade_key(t2, id2)) == (t1 < t2)


@given(
    st.text(),
    st.one_of(st.binary(), st.binary(min_size=2000, max_size=6000)),
    seqs,
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_snapshot_value_round_trips(
    actor_id: str, state: bytes, last_seq: int, schema: int
) -> None:
    snap = Snapshot(actor_id=actor_id, state=state, last_seq=last_seq, schema=schema)
    value = pack_snapshot(snap)
    assert unpack_snapshot(actor_id, value) == snap
    assert snapshot_last_seq(actor_id, value[:SNAPSHOT_HEADER_SIZE]) == last_seq


@pytest.mark.parametrize("seq", [-1, SEQ_MAX + 1])
def test_seq_key_refuses_out_of_range(seq: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        seq_key(seq)


def test_key_seq_refuses_wrong_length() -> None:
    with pytest.raises(ValueError, match="8 bytes"):
        key_seq(b"\x00" * 7)


def test_a_long_state_is_stored_compressed_and_a_damaged_one_is_refused() -> None:
    state = b'{"orders":[' + b",".join(b'["c%d","p1",3]' % i for i in range(4000)) + b"]}"
    value = pack_snapshot(Snapshot(actor_id="gateway", state=state, last_seq=9, schema=1))
    assert len(value) < len(state) // 4
    assert unpack_snapshot("gateway", value).state == state
    damaged = value[:20] + bytes(b ^ 0xFF for b in value[20:40]) + value[40:]
    with pytest.raises(ValueError, match="does not decompress"):
        unpack_snapshot("gateway", damaged)


def test_unpack_refuses_short_or_unknown_header() -> None:
    with pytest.raises(ValueError, match="shorter"):
        unpack_snapshot("a", b"\x01")
    with pytest.raises(ValueError, match="format byte"):
        unpack_snapshot("a", b"\x09" + b"\x00" * 12)
