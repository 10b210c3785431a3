"""No input makes decode raise anything but CodecError (hypothesis fuzzing).

Three sources of bad input: arbitrary bytes, arbitrary JSON documents, and valid payloads
with one part changed (a value replaced, a key removed or added, the tag swapped, bytes
flipped). Whatever decode returns must itself round-trip. Set ``MESSAGES_FUZZ_EXAMPLES``
to run longer than the default 300 examples per test.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages import CodecError, Message, all_message_types, decode, encode
from tests.messages.strategies import any_message

# MESSAGES_FUZZ_EXAMPLES=20000 for a long hunt; the default keeps the suite fast.
FUZZ = settings(
    max_examples=int(os.environ.get("MESSAGES_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.sampled_from(["NaN", "Infinity", "1.50", "BUY", "OrderFilled", "", "-0", "1E+2"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
TAGS = st.sampled_from([cls.__name__ for cls in all_message_types()])


def _decode_or_codec_error(data: Any) -> Message | None:
    """Decode; a CodecError is fine, any other exception fails the test."""
    try:
        msg = decode(data)
    except CodecError:
        return None
    assert decode(encode(msg)) is not msg  # decoding builds a new object every time
    assert encode(decode(encode(msg))) == encode(msg)
    return msg


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    _decode_or_codec_error(data)


@FUZZ
@given(JSON_VALUES, TAGS, st.booleans())
def test_arbitrary_json_with_or_without_a_known_tag(value: Any, tag: str, tagged: bool) -> None:
    if tagged and isinstance(value, dict):
        value["type"] = tag
    _decode_or_codec_error(orjson.dumps(value))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a part of a JSON document, the document itself included."""
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _paths(item, (*prefix, index))
    return paths


def _container(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@FUZZ
@given(any_message(), st.data())
def test_a_valid_payload_with_one_part_replaced_removed_or_added(
    msg: Message, data: st.DataObject
) -> None:
    document = orjson.loads(encode(msg))
    path = data.draw(st.sampled_from([p for p in _paths(document) if p]))
    container = _container(document, path)
    action = data.draw(st.sampled_from(["replace", "remove", "add", "retag"]))
    if action == "replace":
        container[path[-1]] = data.draw(JSON_VALUES)
    elif action == "remove":
        del container[path[-1]]
    elif action == "add" and isinstance(container, dict):
        container[data.draw(st.text(max_size=8))] = data.draw(JSON_VALUES)
    elif action == "add":
        container.append(data.draw(JSON_VALUES))
    else:
        document["type"] = data.draw(TAGS)
    _decode_or_codec_error(orjson.dumps(document))


@FUZZ
@given(any_message(), st.data())
def test_a_valid_payload_with_bytes_changed(msg: Message, data: st.DataObject) -> None:
    wire = bytearray(encode(msg))
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(wire) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        byte = data.draw(st.integers(0, 255))
        if action == "flip":
            wire[index] ^= byte or 1
        elif action == "delete" and len(wire) > 1:
            del wire[index]
        else:
            wire.insert(index, byte)
    _decode_or_codec_error(bytes(wire))
