"""``python bot.py console``: a client for people without telnet, and for scripts.

With a command it connects, authenticates, runs that one command, prints the reply and exits
0 (or 1 when the reply is an error, the token is refused or the bot is unreachable).
Without one it is an interactive prompt with readline line editing and a history file.
It speaks the same line protocol as telnet would (see :mod:`actors.console._server`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import orjson

from actors.console._auth import TOKEN_FILE, ConsoleTokenError, read_token_file
from messages import BotError

__all__ = ["HISTORY_FILE", "ConsoleClient", "ConsoleClientError", "find_token", "run_client"]

HISTORY_FILE = Path("~/.bot_console_history")
"""Where the interactive prompt keeps its history."""

EXIT_OK = 0
EXIT_FAILED = 1


class ConsoleClientError(BotError):
    """Raised when the client cannot connect, has no token, or the session ends early."""


def find_token(token_file: Path | None, state_dir: Path, environ: dict[str, str]) -> str:
    """The token from ``--token-file``, else ``BOT_CONSOLE_TOKEN``, else STATE/console.token.

    Raises:
        ConsoleClientError: none of them gives a token (the message says where it looked).
        ConsoleTokenError: the token file is too open or empty.
    """
    if token_file is not None:
        try:
            return read_token_file(token_file)
        except FileNotFoundError:
            raise ConsoleClientError(f"--token-file {token_file}: no such file") from None
    if environ.get("BOT_CONSOLE_TOKEN"):
        return environ["BOT_CONSOLE_TOKEN"]
    path = state_dir / TOKEN_FILE
    try:
        return read_token_file(path)
    except FileNotFoundError:
        msg = (
            f"no console token: BOT_CONSOLE_TOKEN is unset and {path} does not exist "
            "(use --state DIR or --token-file FILE)"
        )
        raise ConsoleClientError(msg) from None


class ConsoleClient:
    """One authenticated session; :meth:`call` sends a line and returns the reply's lines."""

    def __init__(self, host: str, port: int, token: str, *, timeout_s: float = 30.0) -> None:
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as error:
            msg = (
                f"cannot connect to the console at {host}:{port}: {error.strerror or error} "
                "(is the bot running with console.enabled?)"
            )
            raise ConsoleClientError(msg) from None
        self._reader = self._sock.makefile("rb")
        greeting = self._read_reply()
        if greeting and greeting[0].startswith("error:"):  # refused: too many sessions
            self.close()
            raise ConsoleClientError(greeting[0])
        answer = self.call(f"auth {token}")
        if not answer or not answer[0].startswith("ok"):
            self.close()
            raise ConsoleClientError(answer[0] if answer else "the session ended during auth")

    def call(self, line: str) -> list[str]:
        """Send ``line`` and return its reply (without the terminating ``.``).

        Raises:
            ConsoleClientError: the server closed the session before replying.
        """
        self._sock.sendall(line.encode("utf-8") + b"\n")
        return self._read_reply()

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self._reader.close()
            self._sock.close()

    def _read_reply(self) -> list[str]:
        lines: list[str] = []
        while True:
            raw = self._reader.readline()
            if not raw:
                if lines:
                    return lines
                raise ConsoleClientError("the console closed the session")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)


def failed(reply: list[str], *, as_json: bool) -> bool:
    """Whether a reply is an error (``error:`` first line, or ``"ok": false`` in JSON)."""
    if not reply:
        return False
    if as_json:
        try:
            return not orjson.loads(reply[0]).get("ok", False)
        except orjson.JSONDecodeError:
            return reply[0].startswith("error:")
    return reply[0].startswith("error:")


def run_client(
    *,
    host: str,
    port: int,
    state_dir: Path,
    token_file: Path | None,
    command: Sequence[str],
    as_json: bool,
    environ: dict[str, str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run one command (``command`` given) or the interactive prompt; return the exit status."""
    try:
        token = find_token(token_file, state_dir, dict(os.environ if environ is None else environ))
        client = ConsoleClient(host, port, token)
    except (ConsoleClientError, ConsoleTokenError) as error:
        print(f"bot.py console: {error}", file=err)
        return EXIT_FAILED
    try:
        if command:
            line = " ".join(command) + (" --json" if as_json else "")
            reply = client.call(line)
            print("\n".join(reply), file=out)
            return EXIT_FAILED if failed(reply, as_json=as_json) else EXIT_OK
        return _interactive(client, as_json=as_json, out=out)
    except (ConsoleClientError, OSError) as error:
        print(f"bot.py console: {error}", file=err)
        return EXIT_FAILED
    finally:
        client.close()


def _interactive(client: ConsoleClient, *, as_json: bool, out: TextIO) -> int:
    history = HISTORY_FILE.expanduser()
    try:
        import readline  # line editing and history where the platform has it
    except ImportError:  # pragma: no cover - Windows without pyreadline
        readline = None  # type: ignore[assignment]
    if readline is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
        readline.set_history_length(1000)
    print("connected; `help` lists the commands, `quit` or Ctrl-D ends", file=out)
    try:
        while True:
            try:
                line = input("bot> ").strip()
            except EOFError:
                print(file=out)
                return EXIT_OK
            if not line:
                continue
            reply = client.call(line + (" --json" if as_json and "--json" not in line else ""))
            print("\n".join(reply), file=out)
            if line.split()[0].lower() == "quit":
                return EXIT_OK
    except KeyboardInterrupt:
        print(file=out)
        return EXIT_OK
    finally:
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)
