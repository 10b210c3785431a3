"""Paper and live modes, up to the network edge: the bot pointed at a simulator's URLs.

Paper uses the venue's public market data and matches its orders in the local engine:
orders are placed and filled in the journal while the venue's account sees none. Live
trades on the venue with the keys from the environment, and refuses to start without them
or without --confirm-live.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors._durable import decode_entry
from actors._journal_archive import read_history
from exchange.sim import SimExchange, sim_clock, simulator_for
from messages import OrderFilled, PlaceOrder
from messages.settings import Settings, load_settings
from storage import Store
from tests.test_crash_recovery import SETS

REPO = Path(__file__).resolve().parents[1]
USER = 1


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    settings = load_settings(REPO / "settings.toml", environ={}, overrides=list(SETS))
    exchange = simulator_for(settings, sim_clock(settings)).start()
    try:
        yield exchange
    finally:
        exchange.stop()


def _args(sim: SimExchange, mode: str, state: Path, *extra: str) -> list[str]:
    args = [sys.executable, str(REPO / "bot.py"), "run", "--mode", mode, "--state", str(state)]
    args += ["--duration", "120", "--log-format", "json", *extra]
    for item in (
        *SETS,
        f"exchange.rest_url={sim.rest_url}",
        f"exchange.ws_url={sim.ws_url}",
        f"exchange.public_ws_url={sim.public_ws_url}",
    ):
        args += ["--set", item]
    return args


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DELTA_"))}
    return {**env, **extra}


def _journal(state: Path) -> list[object]:
    with Store.open(state, Settings().storage) as store:
        return [decode_entry(data).event for _, data in read_history(store)]


def _venue_orders(sim: SimExchange) -> list[str]:
    with sim.engine.locked() as core:
        account = core.accounts[USER]
        orders = [*account.closed, *account.open_orders.values()]
        return [o.client_order_id for o in orders if o.client_order_id]


def _run_until(args: list[str], env: dict[str, str], log: Path, done: object) -> None:
    """Run the bot until ``done()`` holds (bounded, 100 s), then stop it gracefully."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 100
        while not done():  # type: ignore[operator]
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "not within 100 s: " + log.read_text()[-2000:]
            time.sleep(0.2)  # a poll interval of a bounded wait
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def _count(log: Path, text: str) -> int:
    return log.read_text().count(text) if log.exists() else 0


def test_paper_trades_on_public_data_without_sending_an_order(
    sim: SimExchange, tmp_path: Path
) -> None:
    state, log = tmp_path / "state", tmp_path / "bot.log"
    args = _args(sim, "paper", state, "--set", "health.http_port=0")
    _run_until(args, _env(), log, lambda: _count(log, '"fill ') >= 1)
    events = _journal(state)
    assert any(isinstance(e, PlaceOrder) for e in events)
    assert any(isinstance(e, OrderFilled) for e in events)
    assert _venue_orders(sim) == [], "paper mode sent an order to the exchange"


def test_live_trades_on_the_venue_with_the_environment_keys(
    sim: SimExchange, tmp_path: Path
) -> None:
    state, log = tmp_path / "state", tmp_path / "bot.log"
    args = _args(sim, "live", state, "--confirm-live", "--set", "health.http_port=0")
    env = _env(DELTA_API_KEY=sim.api_key, DELTA_API_SECRET=sim.api_secret)
    _run_until(args, env, log, lambda: len(_venue_orders(sim)) >= 1)
    placed = {e.client_order_id for e in _journal(state) if isinstance(e, PlaceOrder)}
    assert set(_venue_orders(sim)) <= placed and placed
    assert sim.api_secret not in log.read_text(), "a secret reached the log"


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        (("--confirm-live",), {}, "needs DELTA_API_KEY and DELTA_API_SECRET"),
        ((), {"DELTA_API_KEY": "k", "DELTA_API_SECRET": "s"}, "bot.live_confirm: expected true"),
    ],
)
def test_live_refuses_without_keys_or_confirmation(
    sim: SimExchange, tmp_path: Path, extra: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    args = _args(sim, "live", tmp_path / "state", *extra)
    result = subprocess.run(
        args, cwd=REPO, capture_output=True, text=True, timeout=60, env=_env(**env), check=False
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert _venue_orders(sim) == []
