"""Per-field converters between message values and orjson's values, and generated plans.

``messages._codec`` owns the wire format and the public API; this module does the work
per class and per field shape (see ``messages._schema.Shape``):

- :func:`generate_encoder` returns ``encode(obj) -> dict`` for a class: one generated
  dict display, with a converter only on the fields orjson cannot write as they are.
- :func:`make_object_decoder` returns ``build(json_object) -> instance``: generated code
  that converts each field, stores it into its slot and runs the class's check, with a
  slow path that names the failing field.

Converters raise :class:`ShapeMismatchError` (internal) with the field path so far;
``_codec`` turns it into ``CodecError``. Generated source only ever contains field names
(Python identifiers, checked by ``dataclasses``) and fixed text.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from messages._errors import InvalidFieldError, MessageDefinitionError
from messages._schema import Kind, Shape, ShapeMismatchError, fields_of

_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

Encoder = Callable[[Any], Any]
"""Turn a field value into what orjson writes; None in a plan means "as is"."""
Decoder = Callable[[Any], Any]
"""Turn a parsed JSON value into the field value; raise ShapeMismatchError when it cannot."""


def generate_encoder(
    fields: tuple[tuple[str, Shape], ...], *, tag: tuple[str, str] | None
) -> Callable[[Any], dict[str, Any]]:
    """Generate ``encode(obj) -> dict``: one dict display over the fields.

    ``tag`` is the ``(key, value)`` written first (the message's type tag), or None for a
    nested value.

    Each field is read once and converted only if orjson cannot write it as it is
    (Decimal through ``str``, floats for nan and inf, values and tuples holding those).
    Converting here, not in orjson's ``default`` hook, is about four times faster.
    """
    namespace: dict[str, Any] = {}
    items = [] if tag is None else [f"{tag[0]!r}: {tag[1]!r}"]
    for name, shape in fields:
        value = f"obj.{name}"
        encoder = _make_encoder(shape)
        if encoder is str:
            value = f"str({value})"
        elif encoder is not None:
            namespace[f"c_{name}"] = encoder
            value = f"c_{name}({value})"
        items.append(f"{name!r}: {value}")
    exec(f"def encode(obj):\n    return {{{', '.join(items)}}}", namespace)  # field names only
    encode: Callable[[Any], dict[str, Any]] = namespace["encode"]
    return encode


def _make_encoder(shape: Shape) -> Encoder | None:
    """Return the field's converter, or None when orjson writes the value as it is."""
    kind = shape.kind
    if kind is Kind.DECIMAL:
        return str
    if kind is Kind.FLOAT:
        return _encode_float
    if kind is Kind.OPTIONAL:
        assert shape.inner is not None
        present = _make_encoder(shape.inner)
        if present is None:
            return None
        return lambda value: None if value is None else present(value)
    if kind is Kind.TUPLE:
        assert shape.inner is not None
        item = _make_encoder(shape.inner)
        if item is None:
            return None
        return lambda value: [item(element) for element in value]
    if kind is Kind.VALUE:
        assert shape.cls is not None
        fields = fields_of(shape.cls)
        if all(_make_encoder(field) is None for _, field in fields):
            return None  # orjson writes a dataclass as the object of its fields
        return generate_encoder(fields, tag=None)
    return None  # str, int, bool and enums: orjson writes them natively


def _encode_float(value: float) -> float | str:
    if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


_BUILD_ERRORS = (KeyError, ShapeMismatchError, InvalidFieldError)


def make_object_decoder(cls: type) -> Callable[[dict[str, Any]], Any]:
    """Return ``build(obj)``, which makes an instance of ``cls`` from its parsed JSON object.

    ``build`` converts each field that needs it, stores it straight into the instance's
    slot, then runs the class's ``__post_init__``: what the dataclass ``__init__`` does,
    without its per-field ``object.__setattr__`` (three times faster). ``__post_init__``
    checks every type, so the result is the object the constructor would have built.

    The fast path is generated source, one line per field. When it fails, the slow path
    walks the fields one by one to say which is wrong: a :class:`ShapeMismatchError` whose
    path starts with the field name. Extra keys are the caller's check.
    """
    steps = tuple(
        (name, _slot_setter(cls, name), _make_decoder(shape)) for name, shape in fields_of(cls)
    )

    def slow_build(obj: dict[str, Any]) -> Any:
        instance: Any = object.__new__(cls)
        name = ""
        try:
            for name, setter, decoder in steps:
                value = obj[name]
                setter(instance, value if decoder is None else decoder(value))
        except KeyError:
            raise ShapeMismatchError("missing field", name) from None
        except ShapeMismatchError as problem:
            problem.path = f"{name}{problem.path}"
            raise
        try:
            instance.__post_init__()
        except InvalidFieldError as exc:
            raise ShapeMismatchError(exc.reason, exc.path) from None
        return instance

    namespace: dict[str, Any] = {
        "new": object.__new__,
        "cls": cls,
        "slow_build": slow_build,
        "ERRORS": _BUILD_ERRORS,
    }
    lines = ["def build(obj):", "    try:", "        instance = new(cls)"]
    for index, (name, setter, decoder) in enumerate(steps):
        namespace[f"s{index}"] = setter
        value = f"obj[{name!r}]"
        if decoder is not None:
            namespace[f"d{index}"] = decoder
            value = f"d{index}({value})"
        lines.append(f"        s{index}(instance, {value})")
    lines += [
        "        instance.__post_init__()",
        "        return instance",
        "    except ERRORS:",
        "        return slow_build(obj)",  # raises the precise ShapeMismatchError
    ]
    exec("\n".join(lines), namespace)  # source built from field names only
    build: Callable[[dict[str, Any]], Any] = namespace["build"]
    return build


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    descriptor = getattr(cls, name, None)
    if not isinstance(descriptor, types.MemberDescriptorType):
        raise MessageDefinitionError(f"{cls.__name__}.{name}: not a slot; declare slots=True")
    setter: Callable[[object, object], None] = descriptor.__set__
    return setter


def _make_decoder(shape: Shape) -> Decoder | None:
    """Return the field's converter, or None when the JSON value is used as it is.

    "As it is" still gets checked: the constructor refuses a wrong type.
    """
    return _DECODER_MAKERS[shape.kind](shape)


def _no_decoder(_: Shape) -> Decoder | None:
    return None


def _float_decoder(_: Shape) -> Decoder:
    def decode_float(value: Any) -> float:
        if type(value) is float:
            return value
        if type(value) is str:
            special = _NON_FINITE.get(value)
            if special is not None:
                return special
            raise ShapeMismatchError(f'invalid float string {value[:50]!r}; only "NaN", "Infinity"')
        raise ShapeMismatchError.expected(
            'float (JSON number with a fraction or exponent, or "NaN")', value
        )

    return decode_float


def _decimal_decoder(_: Shape) -> Decoder:
    fullmatch = _DECIMAL_RE.fullmatch

    def decode_decimal(value: Any) -> Decimal:
        if type(value) is not str:
            raise ShapeMismatchError.expected("Decimal as a JSON string", value)
        if fullmatch(value) is None:
            raise ShapeMismatchError(f"invalid Decimal string {value[:50]!r}")
        try:
            return Decimal(value)
        except (InvalidOperation, ValueError):  # an exponent beyond what Decimal holds
            raise ShapeMismatchError(f"invalid Decimal string {value[:50]!r}") from None

    return decode_decimal


def _enum_decoder(shape: Shape) -> Decoder:
    enum_cls = shape.cls
    assert enum_cls is not None
    members: dict[str, Any] = {member.value: member for member in enum_cls}

    def decode_enum(value: Any) -> Any:
        if type(value) is str:
            member = members.get(value)
            if member is not None:
                return member
            raise ShapeMismatchError(f"invalid {enum_cls.__name__} value {value[:50]!r}")
        raise ShapeMismatchError.expected(f"{enum_cls.__name__} as a JSON string", value)

    return decode_enum


def _optional_decoder(shape: Shape) -> Decoder | None:
    assert shape.inner is not None
    inner = _make_decoder(shape.inner)
    if inner is None:
        return None
    return lambda value: None if value is None else inner(value)


def _tuple_decoder(shape: Shape) -> Decoder:
    assert shape.inner is not None
    inner = _make_decoder(shape.inner)
    what = f"{shape.describe()} as a JSON array"

    def decode_tuple(value: Any) -> tuple[Any, ...]:
        if type(value) is not list:
            raise ShapeMismatchError.expected(what, value)
        if inner is None:
            return tuple(value)
        out = []
        index = 0
        try:
            for index, item in enumerate(value):  # noqa: B007 (read in the handler)
                out.append(inner(item))
        except ShapeMismatchError as problem:
            problem.path = f"[{index}]{problem.path}"
            raise
        return tuple(out)

    return decode_tuple


def _value_decoder(shape: Shape) -> Decoder:
    assert shape.cls is not None
    cls = shape.cls
    names = frozenset(name for name, _ in fields_of(cls))
    size = len(names)
    build = make_object_decoder(cls)

    def decode_value(value: Any) -> Any:
        if type(value) is not dict:
            raise ShapeMismatchError.expected(f"{cls.__name__} as a JSON object", value)
        try:
            result = build(value)
        except ShapeMismatchError as problem:
            problem.path = f".{problem.path}"
            raise
        if len(value) != size:
            extra = sorted(value.keys() - names)
            raise ShapeMismatchError(
                f"unexpected field(s) {', '.join(map(repr, extra))[:200]}", f".{extra[0][:100]}"
            )
        return result

    return decode_value


_DECODER_MAKERS: dict[Kind, Callable[[Shape], Decoder | None]] = {
    Kind.STR: _no_decoder,
    Kind.INT: _no_decoder,
    Kind.BOOL: _no_decoder,
    Kind.FLOAT: _float_decoder,
    Kind.DECIMAL: _decimal_decoder,
    Kind.ENUM: _enum_decoder,
    Kind.OPTIONAL: _optional_decoder,
    Kind.TUPLE: _tuple_decoder,
    Kind.VALUE: _value_decoder,
}
