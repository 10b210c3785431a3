"""The console's TCP line protocol: an accept thread and one bounded thread per session.

Protocol (plain telnet or nc can speak it): the server greets; every line the client sends
gets one reply; a reply is zero or more lines followed by a line holding a single ``.``
(a reply line that starts with ``.`` is sent with one more ``.`` in front, as in SMTP).
The first line of a session must be ``auth TOKEN``. Errors are a first line starting with
``error:``; with ``--json`` the reply is one JSON document on one line.

Bad input never stops the console: an unknown command or text that is not UTF-8 gets an
error line; a line longer than ``max_line_bytes`` gets an error and the session is closed;
so does a session idle longer than ``idle_timeout_s`` (half-open connections free their
slot); beyond ``max_sessions`` a new connection gets a refusal line and is closed. Every
thread here is a daemon and none of them touches actor state: commands go through
:mod:`actors.console._commands`, whose queries are asks with timeouts.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from actors.console._auth import AuthThrottle, token_matches
from actors.console._commands import Env, Reply, render, run_line
from actors.console._format import clean_line

__all__ = ["ConsoleServer", "ServerLimits"]

_log = logging.getLogger(__name__)
GREETING = "delta-actor-bot console: send `auth TOKEN` first; `help` lists the commands"
MAX_AUTH_FAILURES = 3
"""Wrong tokens in one session before it is closed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerLimits:
    """Bounds that keep bad clients from hurting the console.

    Attributes:
        max_sessions: Concurrent sessions; more are refused with one line.
        max_line_bytes: Longest input line, bytes (without its newline).
        idle_timeout_s: A session that sends nothing for this long is closed, s.
    """

    max_sessions: int
    max_line_bytes: int
    idle_timeout_s: float


class ConsoleServer:
    """Serves console sessions on ``host:port`` (port 0: a free one, see :attr:`port`).

    Built and started by the console actor's ``on_start`` and stopped by its ``on_stop``
    (or by the next incarnation after a crash). ``start`` raises ``OSError`` when the address
    cannot be bound; nothing else here raises into the actor.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        token: str,
        env: Env,
        limits: ServerLimits,
        throttle: AuthThrottle | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._token = token
        self._env = env
        self._limits = limits
        self._throttle = throttle or AuthThrottle()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sessions: dict[int, tuple[socket.socket, threading.Thread]] = {}
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._next_id = 0
        self.counters = {
            "sessions_total": 0,
            "sessions_refused": 0,
            "commands": 0,
            "errors": 0,
            "oversized_lines": 0,
            "bad_input": 0,
        }
        env.stats = self.stats

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> int:
        """Bind and start accepting; return the bound port (the real one when 0 was asked)."""
        family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.create_server((self.host, self.port), family=family)
        listener.settimeout(0.2)  # the accept loop polls the stop flag this often
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"console-accept-{self.port}", daemon=True
        )
        self._acceptor.start()
        return self.port

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop accepting, close every session, and wait (bounded) for their threads."""
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout_s)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            sessions = list(self._sessions.values())
        for sock, _ in sessions:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading
        for _, thread in sessions:
            thread.join(timeout_s)

    def stats(self) -> dict[str, int]:
        """Counters for ``metrics`` and ``describe`` (never the token)."""
        with self._lock:
            active = len(self._sessions)
            counters = dict(self.counters)
        return {"sessions_active": active, **counters, "auth_failures": self._throttle.failures}

    def _count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    # -- accepting -------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if not self._stop.is_set():
                    _log.exception("console: accept failed; the console stops accepting")
                return
            self._admit(sock, f"{addr[0]}:{addr[1]}")

    def _admit(self, sock: socket.socket, peer: str) -> None:
        with self._lock:
            full = len(self._sessions) >= self._limits.max_sessions
            if not full:
                self._next_id += 1
                session_id = self._next_id
                thread = threading.Thread(
                    target=self._session,
                    args=(session_id, sock, peer),
                    name=f"console-session-{session_id}",
                    daemon=True,
                )
                self._sessions[session_id] = (sock, thread)
                self.counters["sessions_total"] += 1
        if full:
            self._count("sessions_refused")
            _log.warning(
                "console: refused %s: %d sessions already", peer, self._limits.max_sessions
            )
            with contextlib.suppress(OSError):
                sock.settimeout(1.0)
                text = f"too many sessions (max {self._limits.max_sessions}); try again later"
                self._send(sock, [f"error: {text}"])
            sock.close()
            return
        thread.start()

    # -- one session -----------------------------------------------------------------------

    def _session(self, session_id: int, sock: socket.socket, peer: str) -> None:
        _log.info("console: session %d from %s", session_id, peer)
        try:
            sock.settimeout(self._limits.idle_timeout_s)
            reader = sock.makefile("rb")
            self._send(sock, [GREETING])
            self._serve(sock, reader.readline, peer)
        except TimeoutError:
            with contextlib.suppress(OSError):
                self._send(sock, [f"error: idle for {self._limits.idle_timeout_s:g} s; closing"])
        except OSError:
            pass  # the peer went away, or stop() shut the socket
        except Exception:
            _log.exception("console: session %d failed", session_id)
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._sessions.pop(session_id, None)
            _log.info("console: session %d from %s closed", session_id, peer)

    def _serve(self, sock: socket.socket, readline: Callable[[int], bytes], peer: str) -> None:
        limit = self._limits.max_line_bytes
        authed = False
        failures = 0
        while not self._stop.is_set():
            raw = readline(limit + 2)  # room for "\r\n" after a line of exactly ``limit``
            if not raw:
                return
            line_bytes = raw.rstrip(b"\r\n")
            if len(line_bytes) > limit or (not raw.endswith(b"\n") and len(raw) > limit):
                self._count("oversized_lines")
                self._send(sock, [f"error: line longer than {limit} bytes; closing"])
                return
            line = self._decode(line_bytes)
            if line is None:
                self._count("bad_input")
                self._send(sock, ["error: input is not UTF-8 text without control characters"])
                continue
            if not authed:
                authed, failures = self._authenticate(sock, line, failures, peer)
                if failures >= MAX_AUTH_FAILURES:
                    self._send(sock, ["error: too many wrong tokens; closing"])
                    return
                continue
            reply = self._command(sock, line)
            if reply.close:
                return

    def _authenticate(
        self, sock: socket.socket, line: str, failures: int, peer: str
    ) -> tuple[bool, int]:
        words = line.split()
        if not words:
            self._send(sock, [])
            return False, failures
        if words[0].lower() == "quit":
            self._send(sock, ["bye"])
            raise ConnectionAbortedError
        if words[0].lower() != "auth" or len(words) != 2:
            self._send(sock, ["error: not authenticated: the first line must be `auth TOKEN`"])
            return False, failures
        if token_matches(words[1], self._token):
            self._throttle.succeeded()
            mode = "control commands allowed" if self._env.allow_control else "read-only"
            self._send(sock, [f"ok: authenticated ({mode})"])
            return True, 0
        delay = self._throttle.failed()
        _log.warning(
            "console: wrong token from %s (%d wrong tokens so far); answering in %g s",
            peer,
            self._throttle.failures,
            delay,
        )
        self._stop.wait(delay)  # only this session waits
        self._send(sock, ["error: wrong token"])
        return False, failures + 1

    def _command(self, sock: socket.socket, line: str) -> Reply:
        reply, as_json, name = run_line(self._env, line)
        if name:
            self._count("commands")
            if not reply.ok:
                self._count("errors")
        self._send(sock, render(reply, as_json=as_json, command=name))
        return reply

    # -- wire ------------------------------------------------------------------------------

    @staticmethod
    def _decode(data: bytes) -> str | None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if clean_line(text) != text:  # NUL, ESC, ... (a tab is fine)
            return None
        return text

    def _send(self, sock: socket.socket, lines: list[str]) -> None:
        """Send one framed reply; the token is masked in case anything ever echoed it."""
        out = []
        for line in lines:
            safe = line.replace(self._token, "***") if self._token else line
            out.append("." + safe if safe.startswith(".") else safe)
        out.append(".")
        sock.sendall(("\n".join(out) + "\n").encode("utf-8"))
