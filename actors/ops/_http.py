"""/healthz and /metrics over HTTP, served from the latest snapshot on the ops board.

:class:`HealthHttpServer` is a stdlib ``http.server`` on its own thread, plus one thread per
connection (at most ``max_connections``; more get an immediate 503 and are closed). Each
connection reads with a per-read timeout, so a slow or silent client is dropped, and answers
one request (HTTP/1.0, no keep-alive). Handlers only read the immutable snapshot the metrics
actor put on the :class:`~actors.ops._board.OpsBoard`: nothing here blocks on, or calls, an
actor. :class:`HttpActor` only starts and stops the server with its incarnation.
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson

from actors._actor import Actor
from actors.ops._board import OpsBoard, Snapshot
from actors.ops._exposition import CONTENT_TYPE, Family, Sample, render
from messages import OverallHealth

_log = logging.getLogger(__name__)
_NS = 1_000_000_000
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n"
)


def healthz(snapshot: Snapshot | None, now_mono_ns: int, stale_after_ns: int) -> tuple[int, bytes]:
    """Return the /healthz status code and JSON body for ``snapshot``.

    200 only when the report says OK and the snapshot is fresh; 503 when it says DEGRADED or
    FAILED, before the first snapshot (``STARTING``) and when the metrics actor has not
    published for ``stale_after_ns`` (``STALE``: the actors may be wedged).
    """
    if snapshot is None:
        return 503, orjson.dumps({"status": "STARTING", "healthy": False, "report": None})
    age_ns = max(0, now_mono_ns - snapshot.published_mono_ns)
    status = "STALE" if age_ns > stale_after_ns else str(snapshot.report.overall)
    healthy = status == OverallHealth.OK
    body = {
        "status": status,
        "healthy": healthy,
        "snapshot_age_s": age_ns / _NS,
        "report": orjson.Fragment(snapshot.report_json),
    }
    return (200 if healthy else 503), orjson.dumps(body)


def metrics_text(snapshot: Snapshot | None, now_mono_ns: int) -> bytes:
    """Return the /metrics body: the snapshot's families plus the snapshot's own age."""
    families = () if snapshot is None else snapshot.families
    age = (
        float("nan") if snapshot is None else max(0, now_mono_ns - snapshot.published_mono_ns) / _NS
    )
    own = Family(
        "bot_metrics_snapshot_age_seconds",
        "Real time since the metrics actor last published (grows if the actors are wedged)",
        "gauge",
        (Sample((), age),),
    )
    return render((*families, own))


class _Handler(BaseHTTPRequestHandler):
    """One connection, one request. Runs in the connection's own thread."""

    server: HealthHttpServer
    protocol_version = "HTTP/1.0"
    server_version = "delta-actor-bot"
    sys_version = ""

    def setup(self) -> None:
        # StreamRequestHandler.setup applies ``timeout`` to the socket: per read, so a silent
        # client is dropped after read_timeout_s.
        self.timeout = self.server.read_timeout_s  # type: ignore[misc]
        super().setup()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        server = self.server
        now = time.monotonic_ns()
        if path == "/healthz":
            code, body = healthz(server.board.snapshot(), now, server.stale_after_ns)
            self._answer(code, "application/json", body)
        elif path == "/metrics":
            self._answer(200, CONTENT_TYPE, metrics_text(server.board.snapshot(), now))
        else:
            self._answer(404, "text/plain; charset=utf-8", b"not found: /healthz, /metrics\n")

    def _method_not_allowed(self) -> None:
        self._answer(405, "text/plain; charset=utf-8", b"only GET\n", allow=True)

    def __getattr__(self, name: str) -> Any:
        """Answer every method but GET with 405 (http.server would say 501 for most)."""
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _answer(self, code: int, content_type: str, body: bytes, *, allow: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if allow:
            self.send_header("Allow", "GET")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("http %s: " + format, self.client_address[0], *args)


class HealthHttpServer(ThreadingHTTPServer):
    """The HTTP server; binds in the constructor (raises ``OSError`` when it cannot).

    Args:
        address: ``(host, port)``; port 0 picks a free port (see :attr:`address`).
        board: Where the snapshots are read.
        stale_after_ns: Real time after which an unrefreshed snapshot makes /healthz 503.
        read_timeout_s: Each read from a client may wait this long; then it is dropped.
        max_connections: Connections served at once; more get 503 and are closed.
    """

    daemon_threads = True  # a stuck connection must not keep the process alive
    block_on_close = False
    request_queue_size = 16

    def __init__(
        self,
        address: tuple[str, int],
        *,
        board: OpsBoard,
        stale_after_ns: int,
        read_timeout_s: float = 5.0,
        max_connections: int = 8,
    ) -> None:
        self.board = board
        self.stale_after_ns = stale_after_ns
        self.read_timeout_s = read_timeout_s
        self._slots = threading.BoundedSemaphore(max_connections)
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``."""
        host, port = self.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Serve on a daemon thread until :meth:`close`."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"http:{self.address[1]}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, close the listening socket; connections in flight finish alone."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=2.0)
            self._thread = None
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a new thread if a slot is free; else answer 503 at once and close."""
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(0.2)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002 - stdlib signature
        """A connection that broke (reset, timeout) is logged at DEBUG, never printed."""
        _log.debug("http: connection from %s failed", client_address, exc_info=True)


class HttpActor(Actor):
    """Runs a :class:`HealthHttpServer` for the life of each incarnation.

    ``on_start`` binds ``host:port`` (a bind error fails the start, so the supervisor
    reports it), logs the bound address and records it on the board. A server left running
    by a failed incarnation (``on_stop`` is not called after a failure) is closed first.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        board: OpsBoard,
        stale_after_ns: int,
        read_timeout_s: float = 5.0,
        max_connections: int = 8,
    ) -> None:
        self.host, self.port = host, port
        self.board = board
        self.stale_after_ns = stale_after_ns
        self.read_timeout_s = read_timeout_s
        self.max_connections = max_connections
        self.server: HealthHttpServer | None = None

    def on_start(self) -> None:
        """Bind and start serving."""
        left = self.board.swap_server(None)
        if left is not None:
            left.close()
        self.server = HealthHttpServer(
            (self.host, self.port),
            board=self.board,
            stale_after_ns=self.stale_after_ns,
            read_timeout_s=self.read_timeout_s,
            max_connections=self.max_connections,
        )
        self.server.start()
        self.board.swap_server(self.server)
        host, port = self.server.address
        self.board.set_address((host, port))
        self.context.log.info(
            "%s: serving /healthz and /metrics on http://%s:%d", self.context.actor_id, host, port
        )

    def on_stop(self) -> None:
        """Stop serving and free the port."""
        self.board.set_address(None)
        self.board.swap_server(None)
        if self.server is not None:
            self.server.close()
            self.server = None

    def describe(self) -> dict[str, object]:
        """Where it listens."""
        return {"address": None if self.server is None else "{}:{}".format(*self.server.address)}
