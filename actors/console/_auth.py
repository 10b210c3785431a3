"""The console's token: where it comes from, how it is checked, how failures are slowed.

The token is ``BOT_CONSOLE_TOKEN`` (``settings.secrets.console_token``) when set, else the
contents of ``STATE/console.token``, generated at the first start with mode 0600 and reused
afterwards. A token file that others may read is refused rather than trusted: anyone who
could read it could take control of the bot. The token is never logged, and no error
message here contains it.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
import threading
from pathlib import Path

from messages import BotError

__all__ = [
    "TOKEN_FILE",
    "AuthThrottle",
    "ConsoleTokenError",
    "load_or_create_token",
    "read_token_file",
    "token_matches",
]

TOKEN_FILE = "console.token"
"""File name of the generated token under the state directory."""


class ConsoleTokenError(BotError):
    """Raised when the console token file is unusable: too open, empty or unreadable.

    The message names the file and the fix; it never contains the token.
    """


def read_token_file(path: Path) -> str:
    """Return the token stored in ``path``.

    Raises:
        ConsoleTokenError: the file is readable or writable by group or others (the message
            says to ``chmod 600`` it), empty, not text, or cannot be read.
        FileNotFoundError: there is no such file.
    """
    info = path.stat()
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        mode = f"{stat.S_IMODE(info.st_mode):04o}"
        msg = (
            f"console token file {path} has mode {mode}: it must be readable by its owner "
            f"only; run `chmod 600 {path}` (or delete it to generate a new token)"
        )
        raise ConsoleTokenError(msg)
    try:
        token = path.read_bytes().decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        msg = f"console token file {path} cannot be read as text: {type(error).__name__}"
        raise ConsoleTokenError(msg) from None
    if not token:
        msg = f"console token file {path} is empty; delete it to generate a new token"
        raise ConsoleTokenError(msg)
    return token


def load_or_create_token(state_dir: Path, env_token: str | None) -> tuple[str, str]:
    """Return the console token and where it came from (for the start-up log line).

    ``env_token`` (the revealed ``BOT_CONSOLE_TOKEN``) wins. Otherwise the token file is read,
    or created with ``O_EXCL`` and mode 0600 (so a concurrent creator cannot be overwritten
    and the token is never, even briefly, readable by others).

    Raises:
        ConsoleTokenError: see :func:`read_token_file`.
    """
    if env_token:
        return env_token, "BOT_CONSOLE_TOKEN"
    path = state_dir / TOKEN_FILE
    try:
        return read_token_file(path), str(path)
    except FileNotFoundError:
        pass
    state_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created meanwhile by someone else: use theirs
        return read_token_file(path), str(path)
    try:
        os.fchmod(fd, 0o600)  # the umask may have narrowed it further, never widened it
        os.write(fd, token.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return token, f"{path} (generated)"


def token_matches(given: str, token: str) -> bool:
    """Compare in constant time, so the reply time reveals nothing about the token."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


class AuthThrottle:
    """Counts wrong tokens and says how long to delay the reply to the next one.

    The delay doubles with each consecutive failure, across all sessions (a guesser opening
    new connections gains nothing), from ``base_s`` up to ``max_s``; a success resets it.
    The caller sleeps in its own session thread, so other sessions are never slowed.
    Thread-safe.
    """

    def __init__(self, *, base_s: float = 0.5, max_s: float = 4.0) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self.failures = 0
        self._consecutive = 0
        self._lock = threading.Lock()

    def failed(self) -> float:
        """Count a wrong token; return the delay before answering it, seconds."""
        with self._lock:
            self.failures += 1
            self._consecutive += 1
            return float(min(self.max_s, self.base_s * 2.0 ** (self._consecutive - 1)))

    def succeeded(self) -> None:
        """A right token: the next wrong one starts from ``base_s`` again."""
        with self._lock:
            self._consecutive = 0
