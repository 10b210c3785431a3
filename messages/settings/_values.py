"""Key descriptions, and settings values as text (env, --set) and as TOML."""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, get_type_hints

from messages.settings._schema import (
    SECTIONS,
    KeyRules,
    _fields,
)

# --- schema -----------------------------------------------------------------------------------

_KINDS: Final[Mapping[object, str]] = {
    bool: "bool", int: "int", float: "float", str: "str", Decimal: "Decimal",
    tuple[str, ...]: "tuple[str, ...]", tuple[int, ...]: "tuple[int, ...]",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySpec:
    """One settings key as documented: the single source for settings.toml and docs/settings.md.

    Attributes:
        section: Section name, e.g. ``"risk"``.
        key: Key name inside the section, e.g. ``"max_leverage"``.
        type: The field's type: ``int``, ``float``, ``bool``, ``str``, ``Decimal``,
            ``tuple[str, ...]`` or ``tuple[int, ...]``.
        kind: The type's name as written in the docs, e.g. ``"tuple[str, ...]"``.
        default: The default value, as in code.
        unit: Unit of the value (``"ms"``, ``"% of equity"``, ``"flag"``, ``"choice"``, ...).
        doc: One-line meaning.
        rules: Bounds, choices and patterns beyond the type.
        expected: What the loader accepts, worded as in error messages.
    """

    section: str
    key: str
    type: object
    kind: str
    default: object
    unit: str
    doc: str
    rules: KeyRules
    expected: str

    @property
    def name(self) -> str:
        """``section.key``, as used by ``--set`` and in error messages."""
        return f"{self.section}.{self.key}"

    @property
    def env_var(self) -> str:
        """The environment variable that overrides this key: ``BOT_<SECTION>__<KEY>``."""
        return f"BOT_{self.section.upper()}__{self.key.upper()}"


def _expected(tp: object, rules: KeyRules) -> str:
    """Word what a key accepts, for error messages and the docs' "Allowed" column."""
    if tp is bool:
        return "true or false"
    if tp is str:
        if rules.choices:
            return "one of " + ", ".join(json.dumps(choice) for choice in rules.choices)
        return rules.what or ("a non-empty string" if rules.nonempty else "a string")
    if tp in (tuple[str, ...], tuple[int, ...]):
        items = rules.what or ("strings" if tp == tuple[str, ...] else "integers")
        shape = ("non-empty " if rules.nonempty else "") + "list of "
        return "a " + shape + ("unique " if rules.unique else "") + items
    noun = {int: "an integer", float: "a number", Decimal: "a decimal number"}[tp]  # type: ignore[index]  # tp: a number type
    if rules.ge is not None and rules.le is not None:
        return f"{noun} from {rules.ge} to {rules.le}"
    low = f"at least {rules.ge}" if rules.ge is not None else ""
    low = f"greater than {rules.gt}" if rules.gt is not None else low
    high = f"at most {rules.le}" if rules.le is not None else ""
    return " ".join((noun, " and ".join(part for part in (low, high) if part))).strip()


def _build_specs() -> dict[str, dict[str, KeySpec]]:
    specs: dict[str, dict[str, KeySpec]] = {}
    for section, cls in SECTIONS.items():
        hints = get_type_hints(cls)
        specs[section] = {}
        for f in _fields(cls):
            tp = hints[f.name]
            if tp not in _KINDS:
                raise TypeError(f"{section}.{f.name}: unsupported settings type {tp!r}")
            rules = f.metadata["rules"]
            specs[section][f.name] = KeySpec(
                section=section, key=f.name, type=tp, kind=_KINDS[tp], default=f.default,
                unit=f.metadata["unit"], doc=f.metadata["doc"], rules=rules,
                expected=_expected(tp, rules),
            )  # fmt: skip
    return specs


_SPECS: Final = _build_specs()


def describe() -> tuple[KeySpec, ...]:
    """Return every key of every section, in file order: the source for settings.toml and docs."""
    return tuple(spec for section in _SPECS.values() for spec in section.values())


# --- values as text and as TOML ---------------------------------------------------------------

_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


def parse_value(text: str, tp: object) -> Any:
    """Parse override text (an env var or ``--set`` value) as a value of type ``tp``.

    bool takes true/false/1/0/yes/no (any case); int, float and Decimal their Python literals
    (finite only); str is taken verbatim; tuples are comma-separated, items stripped, and ``""``
    is the empty tuple.

    Raises:
        ValueError: ``text`` is not a ``tp``; the message never repeats ``text``.
    """
    if tp in (tuple[str, ...], tuple[int, ...]):
        if not text.strip():
            return ()
        item_tp = str if tp == tuple[str, ...] else int
        return tuple(parse_value(item.strip(), item_tp) for item in text.split(","))
    if tp is str:
        return text
    if tp is bool:
        word = text.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("not a boolean")
    try:
        value: int | float | Decimal = (
            int(text) if tp is int else float(text) if tp is float else Decimal(text)
        )
    except (ValueError, InvalidOperation):
        raise ValueError(f"not a {_KINDS.get(tp, tp)}") from None
    if not _finite(value):
        raise ValueError("not finite")
    return value


def format_value(value: object) -> str:
    """Render a settings value as override text; :func:`parse_value` reads it back unchanged."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(format_value(item) for item in value)
    return repr(value) if isinstance(value, float) else str(value)


def toml_value(value: object) -> str:
    """Render a settings value as a TOML literal, as it appears in settings.toml and the docs."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Decimal) and not value.is_finite():
        return "nan" if value.is_nan() else "inf" if value > 0 else "-inf"
    return repr(value) if isinstance(value, float) else str(value)


def _finite(value: object) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return not isinstance(value, float) or math.isfinite(value)


class _WrongTypeError(Exception):
    """A TOML value of the wrong type; ``args[0]`` describes it, e.g. ``the string "60"``."""


def _typed(value: object) -> str:
    """Name a TOML value with its type, e.g. ``the string "60"``, for wrong-type messages."""
    if isinstance(value, dict):
        return "a table"
    words: dict[type, str] = {bool: "the boolean", int: "the integer", str: "the string"}
    word = "the float" if isinstance(value, Decimal | float) else words.get(type(value), "the")
    return f"{'the array' if isinstance(value, list) else word} {_show(value)}"


def _from_toml(value: object, tp: object) -> Any:
    """Convert a TOML value (floats parsed as Decimal) to ``tp``; raise _WrongTypeError if not."""
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and number and isinstance(value, int):
        return value
    if tp is float and number:
        return float(value)  # type: ignore[arg-type]  # number: int or Decimal
    if tp is Decimal and number:
        return Decimal(value)  # type: ignore[arg-type]  # number: int or Decimal
    if tp is str and isinstance(value, str):
        return value
    if tp in (tuple[str, ...], tuple[int, ...]) and isinstance(value, list):
        item_tp = str if tp == tuple[str, ...] else int
        for index, item in enumerate(value, 1):
            with contextlib.suppress(_WrongTypeError):
                _from_toml(item, item_tp)
                continue
            raise _WrongTypeError(f"{_show(value)}, whose item {index} is {_typed(item)}")
        return tuple(value)
    raise _WrongTypeError(_typed(value))


def _satisfies(value: object, rules: KeyRules) -> bool:
    if isinstance(value, tuple):
        if (rules.nonempty and not value) or (rules.unique and len(set(value)) != len(value)):
            return False
        return all(_item_ok(item, rules) for item in value)
    return not (rules.nonempty and value == "") and _item_ok(value, rules)


def _item_ok(value: object, rules: KeyRules) -> bool:
    if isinstance(value, str):
        return (not rules.choices or value in rules.choices) and (
            rules.pattern is None or re.fullmatch(rules.pattern, value) is not None
        )
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return True
    if not _finite(value):
        return False

    def bound(b: float) -> int | float | Decimal:
        return Decimal(str(b)) if isinstance(value, Decimal) else b

    return not (
        (rules.ge is not None and value < bound(rules.ge))
        or (rules.gt is not None and value <= bound(rules.gt))
        or (rules.le is not None and value > bound(rules.le))
    )


def _show(value: object, limit: int = 80) -> str:
    text = "a table" if isinstance(value, dict) else (
        "[" + ", ".join(_show(item) for item in value) + "]" if isinstance(value, list | tuple)
        else toml_value(value)
    )  # fmt: skip
    return text if len(text) <= limit else text[: limit - 3] + "..."
