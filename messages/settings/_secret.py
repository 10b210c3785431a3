"""Secrets that never print, and the error every settings problem is reported in."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Final, NoReturn, TypeVar

from messages._errors import BotError

_T = TypeVar("_T")

SECRET_ENV_VARS: Final = ("DELTA_API_KEY", "DELTA_API_SECRET", "BOT_CONSOLE_TOKEN")
"""The only way secrets reach the bot: these environment variables."""

_SECRET_KEYS: Final = {
    "api_key": "DELTA_API_KEY",
    "delta_api_key": "DELTA_API_KEY",
    "api_secret": "DELTA_API_SECRET",
    "delta_api_secret": "DELTA_API_SECRET",
    "token": "BOT_CONSOLE_TOKEN",
    "console_token": "BOT_CONSOLE_TOKEN",
}


class SettingsError(BotError):
    """Raised when settings.toml, the ``BOT_*`` environment or ``--set`` overrides are invalid.

    Its place in the error tree (``messages._errors`` draws the rest)::

        BotError
        `- SettingsError   settings.toml, BOT_* variables or --set overrides are invalid

    Raised by :func:`load_settings` only, after every layer was read, so it lists every
    problem at once. ``str(error)`` is the operator-facing report; ``error.problems`` holds one
    line per problem. No secret value is ever part of it. The caller prints it and exits
    non-zero: there is no partial result to continue with.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        head = f"invalid settings ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n  ".join((head, *self.problems)))


class Secret:
    """A secret string: repr and str are ``Secret('***')``; only :meth:`reveal` gives the value.

    A Secret refuses to be pickled (so it cannot land in a snapshot); copying returns itself.
    Equality is constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a Secret needs a non-empty str")
        self._value = value

    def reveal(self) -> str:
        """Return the secret. Call it only where the value is used (signing, auth checks)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is never pickled or snapshotted")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self
