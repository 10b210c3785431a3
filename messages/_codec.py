"""The one codec: every message to and from orjson bytes, with a ``"type"`` tag.

Wire format: one JSON object per message. ``"type"`` is the class name; the other keys
are the dataclass fields in declaration order, each written by its type hint:

=====================  ===================================================================
field type             JSON
=====================  ===================================================================
``str``                string
``int`` (NewTypes)     integer, signed 64-bit (construction refuses anything larger)
``bool``               ``true`` / ``false`` (never confused with an integer)
``float``              number (shortest exact repr); ``nan``, ``inf``, ``-inf`` as the
                       strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
``Decimal``            string, ``str(d)``: keeps the exponent, so ``"1.50"`` stays
                       ``"1.50"`` and ``"1E+2"`` stays ``"1E+2"``
``StrEnum``            string, the member's value
``X | None``           ``null`` or X
``tuple[X, ...]``      array of X
a ``Value`` class      object of its fields, without a ``"type"`` tag (the hint says which)
=====================  ===================================================================

Decoding is strict: the exact key set (no missing, no extra), JSON types as above (an
integer is not a float, ``true`` is not an integer, a JSON number is never a ``Decimal``),
decimal strings matching ``-?digits[.digits][E[+-]digits]``, enum values by exact
spelling. Then the class's constructor runs its own type checks. Anything wrong raises
:class:`CodecError` naming the type and the field path; no other exception escapes
:func:`decode`, whatever the bytes.

Each class's plan is compiled once, on first use, from ``messages._schema.fields_of``, and
cached. ``import messages`` compiles every registered class (:func:`prepare_all`) so
that a bad declaration fails at import. Which thread calls: any; the plans are built
under the GIL and only ever added, so concurrent first use at worst builds one twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from messages._base import Message, all_message_types, message_type
from messages._convert import generate_encoder, make_object_decoder
from messages._errors import CodecError, MessageDefinitionError
from messages._schema import Shape, ShapeMismatchError, fields_of

TYPE_KEY = "type"
"""The JSON key holding the message's class name."""

_BYTES_TYPES = (bytes, bytearray, memoryview)


def encode(msg: Message) -> bytes:
    """Encode one message as compact JSON bytes (see the module docstring for the format).

    Raises:
        CodecError: ``msg`` is not an instance of a registered message class, or a string
            holds a lone surrogate, which JSON cannot carry.
    """
    cls = type(msg)
    plan = _MESSAGE_ENCODERS.get(cls) or _compile_message_encoder(cls)
    try:
        return orjson.dumps(plan(msg))
    except orjson.JSONEncodeError as exc:
        raise CodecError(f"cannot encode: {exc}", type_name=cls.__name__) from None


def decode(data: bytes | bytearray | memoryview) -> Message:
    """Decode bytes written by :func:`encode` back into an equal message.

    Raises:
        CodecError: For any input that is not exactly such a payload. No other
            exception type escapes for any input. (A message class declared wrongly and
            registered after ``import messages`` raises ``MessageDefinitionError`` on its
            first use: a bug in the class, not in the input.)
    """
    if not isinstance(data, _BYTES_TYPES):
        raise CodecError(f"expected bytes, got {type(data).__name__}")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CodecError(f"invalid JSON: {exc}") from None
    if type(obj) is not dict:
        raise CodecError(f"payload is a JSON {type(obj).__name__}, not an object")
    tag = obj.get(TYPE_KEY)
    if type(tag) is not str:
        raise CodecError(f'missing or non-string "{TYPE_KEY}" tag: {tag!r}'[:200])
    plan = _MESSAGE_DECODERS.get(tag) or _compile_message_decoder(tag)
    return plan(obj)


def prepare_all() -> None:
    """Compile the encoder and decoder of every registered message class now.

    Raises:
        MessageDefinitionError: A class is declared wrongly or has an unsupported field.
    """
    for cls in all_message_types():
        _compile_message_encoder(cls)
        _compile_message_decoder(cls.__name__)


# -- encoding ---------------------------------------------------------------------------

_MESSAGE_ENCODERS: dict[type, Callable[[Message], dict[str, Any]]] = {}


def _compile_message_encoder(cls: type) -> Callable[[Message], dict[str, Any]]:
    if not isinstance(cls, type) or message_type(cls.__name__) is not cls:
        raise CodecError(f"not a registered message type: {cls!r}")
    encode_message = generate_encoder(_message_fields(cls), tag=(TYPE_KEY, cls.__name__))
    _MESSAGE_ENCODERS[cls] = encode_message
    return encode_message


def _message_fields(cls: type) -> tuple[tuple[str, Shape], ...]:
    fields = fields_of(cls)
    if any(name == TYPE_KEY for name, _ in fields):
        raise MessageDefinitionError(f"{cls.__name__}: no field may be named {TYPE_KEY!r}")
    return fields


# -- decoding ---------------------------------------------------------------------------

_MESSAGE_DECODERS: dict[str, Callable[[dict[str, Any]], Message]] = {}


def _compile_message_decoder(tag: str) -> Callable[[dict[str, Any]], Message]:
    cls = message_type(tag)
    if cls is None:
        raise CodecError(f"unknown type tag {tag[:100]!r}")
    names = frozenset(name for name, _ in _message_fields(cls))
    size = len(names) + 1  # the fields and the type tag
    build: Callable[[dict[str, Any]], Message] = make_object_decoder(cls)

    def decode_message(obj: dict[str, Any]) -> Message:
        if len(obj) != size:
            extra = sorted(key for key in obj if key != TYPE_KEY and key not in names)
            if extra:
                raise CodecError(
                    f"unexpected field(s) {', '.join(map(repr, extra))[:200]}",
                    type_name=tag,
                    path=extra[0][:100],
                )
        try:
            return build(obj)
        except ShapeMismatchError as problem:
            raise CodecError(problem.reason, type_name=tag, path=problem.path) from None

    _MESSAGE_DECODERS[tag] = decode_message
    return decode_message
