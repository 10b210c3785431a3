"""Turning what actors and the store say into console lines and JSON documents.

Pure functions, no I/O. Secrets never get through: a :class:`~messages.settings.Secret`
value and any key that names a secret (``api_key``, ``token``, ...) show as ``"***"``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson

from messages.settings import Secret

__all__ = ["SECRET_KEY", "clean_line", "duration", "plain", "show", "table", "to_json"]

SECRET_KEY = re.compile(r"(secret|token|password|api_key|apikey|passphrase)", re.IGNORECASE)
"""Keys whose values the console never shows, whatever an actor's ``describe`` returns."""

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def plain(value: Any) -> Any:
    """Return ``value`` as JSON-ready data: Decimal as str, enums by value, secrets hidden."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Secret):
        return "***"
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {
            str(k): "***" if SECRET_KEY.search(str(k)) and v is not None else plain(v)
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def to_json(document: Any) -> str:
    """One JSON document on one line (the wire form of every ``--json`` reply)."""
    return orjson.dumps(plain(document)).decode()


def show(value: Any) -> str:
    """A value on one line for people: strings bare, structures as compact JSON."""
    data = plain(value)
    if isinstance(data, str):
        return data
    if data is None:
        return "-"
    return orjson.dumps(data).decode()


def clean_line(line: str) -> str:
    """Replace control characters, so nothing an actor says can break the line framing."""
    return _CONTROL.sub("?", line)


def duration(ns: int | None) -> str:
    """``ns`` as ``850ms``, ``12.3s``, ``4m05s``, ``2h07m`` or ``3d04h``; ``-`` for None."""
    if ns is None:
        return "-"
    s = ns / 1e9
    if s < 1:
        return f"{ns // 1_000_000}ms"
    if s < 60:
        return f"{s:.1f}s"
    whole = int(s)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Left-aligned text columns, numbers right-aligned, two spaces apart."""
    cells = [[str(c) for c in header]] + [[show(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        all(_is_number(row[i]) for row in cells[1:]) and len(cells) > 1 for i in range(len(header))
    ]
    out = []
    for row in cells:
        parts = [
            cell.rjust(width) if num else cell.ljust(width)
            for cell, width, num in zip(row, widths, numeric, strict=True)
        ]
        out.append("  ".join(parts).rstrip())
    return out


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
