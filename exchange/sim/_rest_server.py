"""The REST socket layer: a stdlib ThreadingHTTPServer (HTTP/1.1 keep-alive) on 127.0.0.1.

Thin: it reads the raw request target, headers and exact body bytes and hands them to
:class:`RestApp`; it writes back status, JSON body and headers. HTTP-level garbage (bad
request line, bad Content-Length) is answered with a JSON ``bad_request`` envelope instead
of the stdlib's HTML page. Each connection runs on its own daemon thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from exchange.sim._rest_app import RestApp

__all__ = ["RestServer"]

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: RestApp


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, a small reply waits for
    # the client's delayed ACK (~40 ms on Linux).
    disable_nagle_algorithm = True
    server: _Server
    server_version = "delta-sim"
    sys_version = ""

    def _serve(self) -> None:
        raw_length = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw_length)
            if not 0 <= length <= MAX_BODY:
                raise ValueError(raw_length)
        except ValueError:
            self._send(400, _bad_request("bad Content-Length"), {})
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, extra = self.server.app.handle(
            self.command, self.path, headers, body, self.client_address[0]
        )
        self._send(status, payload, extra)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815 - stdlib names

    def _send(self, status: int, payload: bytes, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer protocol errors (bad request line, unsupported method) with JSON."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # always a status line, even for HTTP/0.9 garbage
        with contextlib.suppress(OSError):
            self._send(code, _bad_request(message or explain or "bad request"), {})

    def log_message(self, format: str, *args: object) -> None:
        log.debug("sim rest: " + format, *args)


def _bad_request(message: str) -> bytes:
    error = {"code": "bad_request", "context": {"message": message}}
    return orjson.dumps({"success": False, "error": error})


class RestServer:
    """Owns the HTTP server thread. :meth:`start` binds; :meth:`stop` is idempotent."""

    def __init__(self, app: RestApp, *, host: str, port: int) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.app = app
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sim-rest",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
