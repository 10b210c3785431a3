"""Field readers shared by every parser: exact, defensive, and loud about missing data.

Rules (STYLE rule 8): a price or amount becomes ``Decimal(str(value))`` and never passes
through a float's binary value (a JSON number is read back by ``str``, which gives its
shortest decimal form); a venue time in µs becomes ns once, here; a venue enum goes through
an explicit map; a missing or null required field raises :class:`ParseError` naming the
field, and never becomes zero. Where the reference says a type varies (numbers sent as
strings, ISO or µs times), both forms are accepted.

Pure functions; any thread may call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from exchange.delta._errors import ParseError

__all__ = [
    "Raw",
    "dec",
    "enum_of",
    "int_of",
    "obj",
    "opt_dec",
    "opt_int",
    "opt_str",
    "seq",
    "str_of",
    "time_ns",
    "us_to_ns",
]

Raw = Mapping[str, Any]
"""A decoded JSON object from the wire."""

_E = TypeVar("_E")
_NS_PER_US = 1000
_MIN_US = 10**14  # 1973 in µs: smaller values are seconds or ms, not µs
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_US = _INT64_MAX // _NS_PER_US


def obj(value: object, field: str) -> Raw:
    """Return ``value`` if it is a JSON object, else raise :class:`ParseError`."""
    if isinstance(value, Mapping):
        return value
    raise ParseError(field, f"expected an object, got {type(value).__name__}")


def seq(value: object, field: str) -> list[Any]:
    """Return ``value`` if it is a JSON array, else raise :class:`ParseError`."""
    if isinstance(value, list):
        return value
    raise ParseError(field, f"expected an array, got {type(value).__name__}")


def _get(raw: Raw, key: str, where: str) -> Any:
    try:
        value = raw[key]
    except KeyError:
        raise ParseError(f"{where}.{key}", "missing") from None
    if value is None:
        raise ParseError(f"{where}.{key}", "null")
    return value


def to_dec(value: object, field: str) -> Decimal:
    """Return a finite Decimal from a JSON string, int or float (read via ``str``)."""
    if type(value) is str or type(value) is int:
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ParseError(field, f"not a decimal: {value!r:.40}") from None
    elif type(value) is float:
        result = Decimal(repr(value))
    else:
        raise ParseError(field, f"expected a decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise ParseError(field, f"not finite: {value!r:.40}")
    return result


def dec(raw: Raw, key: str, where: str) -> Decimal:
    """Return the required decimal ``raw[key]``."""
    return to_dec(_get(raw, key, where), f"{where}.{key}")


def opt_dec(raw: Raw, key: str, where: str) -> Decimal | None:
    """Return the decimal ``raw[key]``, or None when missing, null or ``""``."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    return to_dec(value, f"{where}.{key}")


def to_int(value: object, field: str) -> int:
    """Return an int in the signed 64-bit range from a JSON int, an integral float, or a
    string of digits."""
    result = _to_int(value, field)
    if not _INT64_MIN <= result <= _INT64_MAX:
        raise ParseError(field, "outside the signed 64-bit range")
    return result


def _to_int(value: object, field: str) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            pass
        try:
            exact = Decimal(value)
        except InvalidOperation:
            exact = None
        if exact is not None and exact.is_finite() and exact == exact.to_integral_value():
            return int(exact)
    raise ParseError(field, f"expected an integer, got {value!r:.40}")


def int_of(raw: Raw, key: str, where: str) -> int:
    """Return the required integer ``raw[key]`` (string or number)."""
    return to_int(_get(raw, key, where), f"{where}.{key}")


def opt_int(raw: Raw, key: str, where: str) -> int | None:
    """Return the integer ``raw[key]``, or None when missing, null or ``""``."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    return to_int(value, f"{where}.{key}")


def str_of(raw: Raw, key: str, where: str) -> str:
    """Return the required string ``raw[key]``; an integer id is turned into its text."""
    value = _get(raw, key, where)
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise ParseError(f"{where}.{key}", f"expected a string, got {type(value).__name__}")


def opt_str(raw: Raw, key: str, where: str) -> str | None:
    """Return the string ``raw[key]`` (ints as text), or None when missing, null or ``""``."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise ParseError(f"{where}.{key}", f"expected a string, got {type(value).__name__}")


def enum_of(raw: Raw, key: str, where: str, mapping: Mapping[str, _E]) -> _E:
    """Return ``mapping[raw[key]]``; an unknown spelling raises :class:`ParseError`."""
    value = _get(raw, key, where)
    try:
        return mapping[value]
    except (KeyError, TypeError):
        raise ParseError(f"{where}.{key}", f"unknown value {value!r:.40}") from None


def us_to_ns(value: object, field: str) -> int:
    """Return ns from a venue time in µs (int, float or digit string)."""
    micros = to_int(value, field)
    if not 0 <= micros <= _MAX_US:
        raise ParseError(field, f"not a µs time: {value!r:.40}")
    return micros * _NS_PER_US


def time_ns(raw: Raw, key: str, where: str) -> int:
    """Return the required time ``raw[key]`` in ns: µs (number or digits) or ISO 8601.

    Delta sends order and fill ``created_at`` as ISO text in practice and as a µs string in
    its docs; both are accepted. ISO without a zone is UTC.
    """
    value = _get(raw, key, where)
    return _any_time_ns(value, f"{where}.{key}")


def opt_time_ns(raw: Raw, key: str, where: str) -> int | None:
    """Return the time ``raw[key]`` in ns (see :func:`time_ns`), or None when absent."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    return _any_time_ns(value, f"{where}.{key}")


def _any_time_ns(value: object, field: str) -> int:
    if type(value) is str and not value.isdigit():
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ParseError(field, f"not a time: {value!r:.40}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_UTC)
        delta = moment - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    micros = to_int(value, field)
    if 0 < micros < _MIN_US or not 0 <= micros <= _MAX_US:
        raise ParseError(field, f"not a µs time: {value!r:.40}")
    return micros * _NS_PER_US


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_UTC = _EPOCH.tzinfo
