"""Hypothesis strategies for every message type, built by walking the type hints.

The walker is written here, independently of ``messages._schema``, so the tests do not
trust the code they test. Reusable by other suites (the storage journal, the console):
``message_strategy(OrderFilled)`` or ``any_message()``.

Values are chosen to stress exactness: Decimals with every kind of exponent ("1.50",
"1E+2", "-0", "0E-8"), floats including nan, ±inf, -0.0 and subnormals, ints at the
signed 64-bit bounds, any Unicode text that JSON can carry (no lone surrogates).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from messages import CLIENT_ORDER_ID_MAX_LEN, Message, PlaceOrder, Value, all_message_types

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)

DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, digits, exponent)),
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=40).map(tuple),
        st.integers(-40, 40),
    ),
    st.sampled_from(
        [Decimal(text) for text in ("1.50", "-0", "0E-8", "1E+2", "65000.5", "0.0001", "-1E-30")]
    ),
)

FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)

# Fields whose class adds a check beyond its type.
OVERRIDES: dict[tuple[type, str], st.SearchStrategy[Any]] = {
    (PlaceOrder, "client_order_id"): st.text(min_size=1, max_size=CLIENT_ORDER_ID_MAX_LEN),
    (PlaceOrder, "size"): st.integers(min_value=1, max_value=2**63 - 1),
}


def strategy_for_hint(hint: Any) -> st.SearchStrategy[Any]:
    """Return a strategy for one resolved field type hint."""
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # NewType
        return strategy_for_hint(supertype)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return INT64
    if hint is float:
        return FLOATS
    if hint is str:
        return st.text(max_size=20)
    if hint is Decimal:
        return DECIMALS
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in args if arg is not type(None)]
        return st.none() | strategy_for_hint(inner)
    if origin is tuple:
        return st.lists(strategy_for_hint(args[0]), max_size=4).map(tuple)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and issubclass(hint, Value):
        return value_strategy(hint)
    raise TypeError(f"no strategy for {hint!r}")


@functools.cache
def value_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Return a strategy for any frozen value or message class, field by field."""
    hints = typing.get_type_hints(cls)
    fields = {
        field.name: OVERRIDES[cls, field.name]
        if (cls, field.name) in OVERRIDES
        else strategy_for_hint(hints[field.name])
        for field in dataclasses.fields(cls)
    }
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


def message_strategy(cls: type[Message]) -> st.SearchStrategy[Message]:
    """Return a strategy for one message class."""
    return value_strategy(cls)


def any_message() -> st.SearchStrategy[Message]:
    """Return a strategy for a message of any registered type."""
    return st.one_of([message_strategy(cls) for cls in all_message_types()])


def assert_exactly_equal(actual: object, expected: object, path: str = "") -> None:
    """Assert two messages are equal field by field, exactly.

    Stricter than ``==``: types must be identical, a Decimal keeps its exponent
    (``Decimal("1.50") == Decimal("1.5")`` but not here), a float keeps the sign of zero,
    and nan equals nan.
    """
    assert type(actual) is type(expected), f"{path}: {type(actual)} is not {type(expected)}"
    if dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            assert_exactly_equal(
                getattr(actual, field.name), getattr(expected, field.name), f"{path}.{field.name}"
            )
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple)
        assert len(actual) == len(expected), f"{path}: length"
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_exactly_equal(left, right, f"{path}[{index}]")
    elif isinstance(expected, float):
        assert isinstance(actual, float)
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual} is not nan"
        else:
            assert actual == expected, f"{path}: {actual} != {expected}"
            assert str(actual) == str(expected), f"{path}: sign of zero lost"
    elif isinstance(expected, Decimal):
        assert isinstance(actual, Decimal)
        assert actual.as_tuple() == expected.as_tuple(), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def contains_nan(value: object) -> bool:
    """Return True when a float nan appears anywhere in a message or value."""
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, tuple):
        return any(contains_nan(item) for item in value)
    if dataclasses.is_dataclass(value):
        return any(contains_nan(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False
