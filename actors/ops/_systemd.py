"""systemd service notifications (sd_notify) with the standard library only.

:class:`SystemdNotifier` sends ``READY=1``, ``STATUS=...``, ``WATCHDOG=1`` and ``STOPPING=1``
as datagrams to the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` names the
abstract namespace). Without ``NOTIFY_SOCKET`` every call does nothing, so the bot runs the
same outside systemd. :class:`SystemdActor` sends STATUS on each health report and WATCHDOG
at half of ``$WATCHDOG_USEC``, each only while the health report says the root supervisor
is RUNNING: a tree that gave up, or a root stuck in a handler (UNRESPONSIVE), stops the
pings, and systemd restarts the process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from actors._actor import Actor
from actors._health import summarize
from messages import ActorState, HealthReport

_log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends sd_notify messages; thread-safe; never raises.

    Args:
        address: ``$NOTIFY_SOCKET``: a path, or ``@name`` for the abstract namespace;
            None or empty disables every call.
        watchdog_usec: ``$WATCHDOG_USEC``, µs, or None when the unit has no watchdog.
    """

    def __init__(self, address: str | None, *, watchdog_usec: int | None = None) -> None:
        self.address = address or None
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._ready_sent = False
        self._last_error: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
        """Build from ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``.

        The watchdog applies only when ``WATCHDOG_PID`` is unset or is this process (as
        ``sd_watchdog_enabled`` rules); a malformed ``WATCHDOG_USEC`` disables it with a
        WARNING.
        """
        env = os.environ if environ is None else environ
        usec: int | None = None
        raw = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        if raw and (not pid or pid == str(os.getpid())):
            try:
                usec = int(raw)
            except ValueError:
                _log.warning("systemd: WATCHDOG_USEC=%r is not an integer; no watchdog", raw)
        return cls(env.get("NOTIFY_SOCKET"), watchdog_usec=usec)

    @property
    def enabled(self) -> bool:
        """True when running under systemd with ``Type=notify`` (NOTIFY_SOCKET set)."""
        return self.address is not None

    @property
    def watchdog_interval_ns(self) -> int | None:
        """Real time between WATCHDOG pings (half of WATCHDOG_USEC), ns; None: no watchdog."""
        if not self.enabled or self.watchdog_usec is None:
            return None
        return self.watchdog_usec * 1_000 // 2

    def ready(self) -> bool:
        """Tell systemd start-up is complete (once; later calls do nothing)."""
        with self._lock:
            if self._ready_sent:
                return True
            self._ready_sent = self._send_locked(f"READY=1\nMAINPID={os.getpid()}")
            return self._ready_sent

    def status(self, text: str) -> bool:
        """Set the one-line status ``systemctl status`` shows."""
        return self.notify("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> bool:
        """Ping the service watchdog."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Tell systemd an orderly stop has begun."""
        return self.notify("STOPPING=1")

    def notify(self, message: str) -> bool:
        """Send one raw sd_notify message; False when disabled or the send failed."""
        with self._lock:
            return self._send_locked(message)

    def close(self) -> None:
        """Close the socket (a later call opens a new one)."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def _send_locked(self, message: str) -> bool:
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
            self._socket.sendto(message.encode(), target)
        except OSError as error:
            text = f"{type(error).__name__}: {error}"
            if text != self._last_error:
                _log.warning("systemd: cannot notify %s: %s", self.address, text)
            self._last_error = text
            return False
        self._last_error = None
        return True


@dataclass(frozen=True, slots=True)
class WatchdogDue:
    """Timer message: time to ping the systemd watchdog (if the root is running)."""


def root_running(report: HealthReport) -> bool:
    """True when the report's root actor (no parent) is RUNNING."""
    return any(a.parent is None and a.state is ActorState.RUNNING for a in report.actors)


class SystemdActor(Actor):
    """Forwards health to systemd: STATUS per health report, WATCHDOG on a timer.

    Args:
        notifier: The process's notifier (shared with ``bot.py``, which sends READY and
            STOPPING).
        watchdog_ns: WATCHDOG period on the runtime clock, ns, or None for no watchdog.
    """

    def __init__(self, *, notifier: SystemdNotifier, watchdog_ns: int | None) -> None:
        self.notifier = notifier
        self.watchdog_ns = watchdog_ns
        self.pings = 0
        self.statuses = 0

    def on_start(self) -> None:
        """Subscribe to health reports and start the watchdog timer."""
        self.context.subscribe(HealthReport)
        if self.watchdog_ns is not None:
            self.context.schedule_repeating(self.watchdog_ns, WatchdogDue())

    def on_health_report(self, report: HealthReport) -> None:
        """STATUS=<summary>, while the root runs."""
        if root_running(report) and self.notifier.status(summarize(report)):
            self.statuses += 1

    def on_watchdog_due(self, _: WatchdogDue) -> None:
        """WATCHDOG=1, while the root runs (checked on the runtime's report right now)."""
        if root_running(self.context.health_report()) and self.notifier.watchdog():
            self.pings += 1

    def describe(self) -> dict[str, object]:
        """Where it notifies and how often it did."""
        return {
            "notify_socket": self.notifier.address,
            "watchdog_ns": self.watchdog_ns,
            "pings": self.pings,
            "statuses": self.statuses,
        }
