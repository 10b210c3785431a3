"""A small running bot for console tests: a supervised tree on a ThreadedRuntime, a real
LMDB store in tmp_path, the console on 127.0.0.1 port 0, and a raw line-protocol client."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from actors import Actor, ChildSpec, Strategy, SupervisorSpec, ThreadedRuntime, supervisor
from actors._storage_writer import StorageWriter
from actors.console import ThreadedView, console_spec
from messages import (
    Flatten,
    PauseEntries,
    PositionClosed,
    ResetKillSwitch,
    ResumeEntries,
    UnixNanos,
    encode,
)
from messages.settings import ConsoleSettings, Secret, Secrets, Settings, StorageSettings
from storage import ClosedTrade, Store

TIMEOUT_MS = 200


@dataclass(frozen=True, slots=True)
class Block:
    """Blocks the handler until released: a stuck actor."""

    release: threading.Event = field(compare=False, repr=False)


class FakeRisk(Actor):
    """Answers describe like the risk actor and records the control commands it gets."""

    def __init__(self, got: list[object]) -> None:
        self.got = got

    def describe(self) -> dict[str, object]:
        return {
            "equity": Decimal("9500"),
            "peak": Decimal("10000"),
            "killed": False,
            "paused": any(isinstance(m, PauseEntries) for m in self.got),
            "open": 1,
        }

    def on_pause_entries(self, cmd: PauseEntries) -> None:
        self.got.append(cmd)

    def on_resume_entries(self, cmd: ResumeEntries) -> None:
        self.got.append(cmd)

    def on_flatten(self, cmd: Flatten) -> None:
        self.got.append(cmd)

    def on_reset_kill_switch(self, cmd: ResetKillSwitch) -> None:
        self.got.append(cmd)


class FakeGateway(Actor):
    """Its describe carries a secret, which the console must never show."""

    def describe(self) -> dict[str, object]:
        return {"open_orders": 2, "api_key": "sim-demo-key", "signer": Secret("hunter2")}


class FakePosition(Actor):
    def describe(self) -> dict[str, object]:
        return {
            "symbol": "BTCUSD",
            "size": 3,
            "entry": Decimal("42000.5"),
            "realised": Decimal("0"),
            "fees": Decimal("1.25"),
            "hedges": 0,
        }


class Slow(Actor):
    def on_block(self, block: Block) -> None:
        block.release.wait(10.0)


def closed(position_id: str, realised: str, fees: str, funding: str, ts: int) -> ClosedTrade:
    event = PositionClosed(
        position_id=position_id,
        symbol="BTCUSD",
        entry_price=Decimal(42000),
        exit_price=Decimal(42100),
        realised_pnl=Decimal(realised),
        fees=Decimal(fees),
        funding=Decimal(funding),
        reason="target",
        ts_event=UnixNanos(ts),
        ts_init=UnixNanos(ts),
    )
    return ClosedTrade(closed_ns=ts, trade_id=position_id, record=encode(event))


@dataclass
class Bot:
    runtime: ThreadedRuntime
    store: Store
    state_dir: Path
    risk_got: list[object]
    release: threading.Event

    @property
    def port(self) -> int:
        entry = self.runtime.entry("console")
        assert entry is not None and entry.actor is not None
        port = entry.actor.port  # type: ignore[attr-defined]
        assert isinstance(port, int)
        return port


@contextmanager
def running_bot(tmp_path: Path, *, token: str | None = None, **console: object) -> Iterator[Bot]:
    """Start the tree; yield it; stop it (and release any blocked actor) afterwards."""
    state_dir = tmp_path / "state"
    state_dir.mkdir(exist_ok=True)
    options: dict[str, object] = {
        "port": 0,
        "command_timeout_ms": TIMEOUT_MS,
        "max_sessions": 3,
        "max_line_bytes": 256,
    }
    options.update(console)
    settings = Settings(
        console=dataclasses.replace(ConsoleSettings(), **options),  # type: ignore[arg-type]
        secrets=Secrets(console_token=None if token is None else Secret(token)),
    )
    store = Store.open(state_dir, StorageSettings())
    store.put_trade(closed("p1", "100", "2.5", "-0.5", 1_700_000_000_000_000_000))
    store.put_trade(closed("p2", "-40", "1.5", "0", 1_700_000_100_000_000_000))
    runtime = ThreadedRuntime()
    got: list[object] = []
    release = threading.Event()
    view = ThreadedView(runtime)
    ops = supervisor(
        "ops",
        SupervisorSpec(
            children=(console_spec(settings, view=view, store=store, state_dir=state_dir),)
        ),
    )
    root = supervisor(
        "root",
        SupervisorSpec(
            strategy=Strategy.ONE_FOR_ONE,
            max_restarts=10,
            children=(
                ops,
                ChildSpec(
                    actor_id="storage",
                    factory=lambda: StorageWriter(store=store, settings=StorageSettings()),
                ),
                ChildSpec(actor_id="risk", factory=lambda: FakeRisk(got)),
                ChildSpec(actor_id="gateway", factory=FakeGateway),
                ChildSpec(actor_id="position:p3", factory=FakePosition),
                ChildSpec(actor_id="slow", factory=Slow, shutdown_timeout_ns=200_000_000),
            ),
        ),
    )
    runtime.start_root(root)
    try:
        yield Bot(runtime, store, state_dir, got, release)
    finally:
        release.set()
        runtime.shutdown(timeout_s=10)
        view.close()
        store.close()


class Session:
    """A raw line-protocol client: what telnet or nc would see."""

    def __init__(self, port: int, *, timeout_s: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.reader = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, line: str) -> list[str]:
        self.sock.sendall(line.encode() + b"\n")
        return self.reply()

    def reply(self) -> list[str]:
        """The next reply's lines; raises EOFError if the server closed first."""
        lines = []
        while True:
            raw = self.reader.readline()
            if not raw:
                raise EOFError(lines)
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)

    def closed(self) -> bool:
        """Whether the server has closed the connection (reads EOF within the timeout)."""
        return self.reader.read() == b""

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def token_of(bot: Bot) -> str:
    return (bot.state_dir / "console.token").read_text().strip()


def authed(bot: Bot) -> Session:
    session = Session(bot.port)
    assert session.call(f"auth {token_of(bot)}")[0].startswith("ok: authenticated")
    return session
