"""Actor state to orjson bytes and back: what a snapshot stores.

A durable actor names the attributes that are its state (``state_fields``); configuration
(settings, products) is not state, the factory builds it again. Values are written as JSON
with a small tag where JSON has no type of its own, so a restored value has the exact type
it had: ``Decimal`` stays ``Decimal`` (as its string, so ``"1.50"`` stays ``"1.50"``), a
tuple stays a tuple, dict keys keep their type, a message stays that message.

=====================  =============================================================
value                  JSON
=====================  =============================================================
None, bool, int, str   themselves
float                  ``{"f": repr}`` (NaN and infinities survive)
Decimal                ``{"d": "1.50"}``
tuple / set            ``{"t": [...]}`` / ``{"s": [...]}`` (sets sorted by their JSON)
list                   ``[...]``
dict                   ``{"m": [[key, value], ...]}``
enum member            ``{"e": "module:Class", "v": value}``
message                ``{"msg": <its codec JSON>}``
dataclass / object     ``{"o": "module:Class", "a": {attribute: value}}`` (a class with
                       ``__state__`` names its attributes; a dataclass uses its fields)
=====================  =============================================================

Only classes from the project's own packages are rebuilt (a snapshot never imports
arbitrary code). Objects are rebuilt without calling ``__init__``.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson

from messages import Message, decode, encode

__all__ = ["StateError", "dump_state", "load_state", "state_from_json", "state_to_json"]

_ALLOWED_ROOTS = frozenset({"actors", "messages", "indicators", "exchange"})


class StateError(ValueError):
    """A state cannot be written (an unsupported value) or read back (bad bytes)."""


def dump_state(owner: object, fields: Iterable[str]) -> bytes:
    """The attributes ``fields`` of ``owner`` as orjson bytes (``"a.b"``: attribute b of a)."""
    return orjson.dumps({name: state_to_json(_get(owner, name)) for name in fields})


def _get(owner: object, dotted: str) -> object:
    for part in dotted.split("."):
        owner = getattr(owner, part)
    return owner


def _set(owner: object, dotted: str, value: object) -> None:
    *path, last = dotted.split(".")
    for part in path:
        owner = getattr(owner, part)
    setattr(owner, last, value)


def load_state(
    owner: object, fields: Iterable[str], data: bytes, *, added: Iterable[str] = ()
) -> None:
    """Set the attributes ``fields`` of ``owner`` from :func:`dump_state` bytes.

    ``added``: fields a later version introduced; a state written before them lacks them,
    and they keep the value the owner was built with. Every other field must be there.

    Raises:
        StateError: The bytes are not a state of these fields.
    """
    try:
        values = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise StateError(f"state is not JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise StateError("state is not a JSON object")
    wanted, optional = tuple(fields), frozenset(added)
    missing = [name for name in wanted if name not in values and name not in optional]
    if missing:
        raise StateError(f"state has no {', '.join(missing)}")
    for name in wanted:
        if name in values:
            _set(owner, name, state_from_json(values[name]))


def state_to_json(value: object) -> Any:
    """One value as JSON-ready data (see the module docstring)."""
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, Message):
        return {"msg": orjson.loads(encode(value))}
    if isinstance(value, enum.Enum):
        return {"e": _path(type(value)), "v": value.value}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"t": [state_to_json(v) for v in value]}
    if isinstance(value, list):
        return [state_to_json(v) for v in value]
    if isinstance(value, dict):
        return {"m": [[state_to_json(k), state_to_json(v)] for k, v in value.items()]}
    if isinstance(value, set | frozenset):
        items = [state_to_json(v) for v in value]
        return {"s": sorted(items, key=orjson.dumps)}
    names = _attributes(value)
    if names is None:
        raise StateError(f"cannot store a {type(value).__name__} in a snapshot")
    return {"o": _path(type(value)), "a": {n: state_to_json(getattr(value, n)) for n in names}}


def state_from_json(data: Any) -> Any:
    """Rebuild a value written by :func:`state_to_json`."""
    if data is None or type(data) in (bool, int, str):
        return data
    if isinstance(data, list):
        return [state_from_json(v) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise StateError(f"unexpected state value {str(data)[:80]}")
    if "d" in data:
        return Decimal(data["d"])
    if "t" in data:
        return tuple(state_from_json(v) for v in data["t"])
    if "m" in data:
        return {_hashable(state_from_json(k)): state_from_json(v) for k, v in data["m"]}
    if "s" in data:
        return {_hashable(state_from_json(v)) for v in data["s"]}
    if "f" in data:
        return float(data["f"])
    if "msg" in data:
        return decode(orjson.dumps(data["msg"]))
    if "e" in data:
        return _class(data["e"])(data["v"])
    if "o" in data:
        cls = _class(data["o"])
        obj: Any = object.__new__(cls)
        for name, raw in data["a"].items():
            object.__setattr__(obj, name, state_from_json(raw))
        return obj
    raise StateError(f"unknown state tag in {str(data)[:80]}")


def _attributes(value: object) -> tuple[str, ...] | None:
    names = getattr(type(value), "__state__", None)
    if names is not None:
        return tuple(names)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(f.name for f in dataclasses.fields(value))
    return None


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(path: str) -> type:
    module, _, name = path.partition(":")
    if module.split(".")[0] not in _ALLOWED_ROOTS:
        raise StateError(f"refusing to rebuild {path}: not a class of this project")
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise StateError(f"state names {path}, which does not exist: {exc}") from exc
    if not isinstance(found, type):
        raise StateError(f"state names {path}, which is not a class")
    return found
