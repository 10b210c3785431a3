"""Real TCP sessions against a running tree: every command and every refusal path."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from actors.console import AuthThrottle, ConsoleTokenError, load_or_create_token
from messages import Flatten, PauseEntries, ResetKillSwitch, ResumeEntries
from tests.actors.console.harness import (
    TIMEOUT_MS,
    Block,
    Bot,
    Session,
    authed,
    running_bot,
    token_of,
)


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    with running_bot(tmp_path) as running:
        yield running


@pytest.fixture
def control_bot(tmp_path: Path) -> Iterator[Bot]:
    with running_bot(tmp_path, allow_control=True) as running:
        yield running


def wait_for(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


# --- token -----------------------------------------------------------------------------------


def test_token_file_is_generated_0600_and_reused(tmp_path: Path) -> None:
    token, source = load_or_create_token(tmp_path, None)
    path = tmp_path / "console.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "generated" in source and len(token) >= 32
    assert load_or_create_token(tmp_path, None) == (token, str(path))
    assert load_or_create_token(tmp_path, "from-env") == ("from-env", "BOT_CONSOLE_TOKEN")


def test_a_token_file_others_can_read_is_refused_without_showing_the_token(
    tmp_path: Path,
) -> None:
    path = tmp_path / "console.token"
    path.write_text("sekrit-token-value\n")
    os.chmod(path, 0o644)
    with pytest.raises(ConsoleTokenError, match="chmod 600") as caught:
        load_or_create_token(tmp_path, None)
    assert "0644" in str(caught.value) and "sekrit" not in str(caught.value)


def test_the_running_console_generates_its_token_0600(bot: Bot) -> None:
    assert stat.S_IMODE((bot.state_dir / "console.token").stat().st_mode) == 0o600


def test_throttle_doubles_to_a_bound_and_resets_on_success() -> None:
    throttle = AuthThrottle(base_s=0.5, max_s=4.0)
    assert [throttle.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    throttle.succeeded()
    assert throttle.failed() == 0.5 and throttle.failures == 6


# --- auth ------------------------------------------------------------------------------------


def test_commands_before_auth_are_refused(bot: Bot) -> None:
    session = Session(bot.port)
    assert "auth TOKEN" in session.greeting[0]
    assert session.call("ps")[0].startswith("error: not authenticated")
    assert session.call("auth")[0].startswith("error: not authenticated")
    assert session.call(f"auth {token_of(bot)}") == ["ok: authenticated (read-only)"]
    assert session.call("ps")[0].startswith("ID")
    session.close()


def test_wrong_token_is_delayed_counted_and_blocks_no_one(bot: Bot, caplog: object) -> None:
    bad = Session(bot.port)
    started = time.monotonic()
    bad.sock.sendall(b"auth nope\n")
    other = authed(bot)  # meanwhile another session is served at once
    quick = time.monotonic()
    assert other.call("ps")[0].startswith("ID")
    assert time.monotonic() - quick < 0.4
    assert bad.reply() == ["error: wrong token"]
    assert time.monotonic() - started >= 0.45
    metrics = orjson.loads(other.call("metrics --json")[0])
    assert metrics["data"]["console"]["auth_failures"] == 1
    assert token_of(bot) not in caplog.text  # type: ignore[attr-defined]
    bad.close()
    other.close()


def test_three_wrong_tokens_close_the_session(tmp_path: Path) -> None:
    with running_bot(tmp_path) as bot:
        entry = bot.runtime.entry("console")
        assert entry is not None
        entry.actor.holder.throttle.base_s = 0.01  # type: ignore[union-attr]
        session = Session(bot.port)
        for _ in range(2):
            assert session.call("auth x") == ["error: wrong token"]
        session.sock.sendall(b"auth y\n")
        assert session.reply() == ["error: wrong token"]
        assert session.reply() == ["error: too many wrong tokens; closing"]
        assert session.closed()
        authed(bot).close()  # and the console still serves


def test_env_token_is_used_and_never_shown(tmp_path: Path) -> None:
    with running_bot(tmp_path, token="env-token-123456") as bot:
        session = Session(bot.port)
        assert session.call("auth env-token-123456")[0].startswith("ok")
        assert not (bot.state_dir / "console.token").exists()
        text = "\n".join(session.call("inspect console") + session.call("metrics --json"))
        assert "env-token-123456" not in text
        assert "BOT_CONSOLE_TOKEN" in text  # the token's source, not the token
        session.close()


# --- read-only commands ----------------------------------------------------------------------


def test_ps_tree_health_metrics_help(bot: Bot) -> None:
    s = authed(bot)
    ps = s.call("ps")
    assert ps[0].split() == ["ID", "CLASS", "STATE", "RESTARTS", "INBOX", "UPTIME"]
    assert any(line.split()[:3] == ["risk", "FakeRisk", "RUNNING"] for line in ps)
    assert ps[-1].endswith("overall OK")
    tree = s.call("tree")
    assert tree[0].startswith("root  Supervisor RUNNING")
    assert "|  `- console  ConsoleActor RUNNING" in tree
    assert s.call("health")[0].startswith("health OK:")
    assert any(line.startswith("dead_letters:") for line in s.call("metrics"))
    help_lines = s.call("help")
    assert any("[control: disabled]" in line for line in help_lines)
    s.close()


def test_every_command_has_one_json_document(bot: Bot) -> None:
    s = authed(bot)
    for command in (
        "ps",
        "tree",
        "health",
        "metrics",
        "help",
        "positions",
        "orders",
        "trades",
        "pnl",
        "inspect risk",
        "where risk",
        "nosuch",
        "pause",
    ):
        reply = s.call(f"{command} --json")
        assert len(reply) == 1, (command, reply)
        doc = orjson.loads(reply[0])
        assert doc["command"] == command.split()[0]
        assert doc["ok"] is (command not in ("nosuch", "pause")), doc
    tree = orjson.loads(s.call("--json tree")[0])["data"]
    assert tree[0]["id"] == "root" and tree[0]["children"][0]["id"] == "ops"
    s.close()


def test_inspect_shows_runtime_and_describe_without_secrets(bot: Bot) -> None:
    s = authed(bot)
    lines = s.call("inspect gateway")
    text = "\n".join(lines)
    assert lines[0] == "gateway" and "class: FakeGateway" in text and "open_orders: 2" in text
    assert "sim-demo-key" not in text and "hunter2" not in text
    assert "api_key: ***" in text and "signer: ***" in text
    doc = orjson.loads(s.call("inspect risk --json")[0])["data"]
    assert doc["describe"]["equity"] == "9500" and doc["state"] == "RUNNING"
    s.close()


def test_unknown_actor_ids_name_the_closest(bot: Bot) -> None:
    s = authed(bot)
    assert s.call("inspect rsik") == ["error: no actor 'rsik'; did you mean risk?"]
    assert s.call("where nobody")[0].startswith("error: no actor 'nobody'")
    s.close()


def test_a_blocked_actor_times_out_and_blocks_nothing_else(bot: Bot) -> None:
    bot.runtime.send("slow", Block(bot.release))
    s = authed(bot)
    started = time.monotonic()
    assert s.call("inspect slow") == [f"error: inspect slow: timeout after {TIMEOUT_MS} ms"]
    assert time.monotonic() - started < 1.5
    where = "\n".join(s.call("where slow"))
    assert "on_block" in where and "release.wait" in where
    assert s.call("inspect risk")[0] == "risk"  # others still answer
    bot.release.set()
    s.close()


def test_positions_orders_trades_pnl(bot: Bot) -> None:
    s = authed(bot)
    positions = s.call("positions")
    assert positions[0].split() == ["ID", "SYMBOL", "SIZE", "ENTRY", "REALISED", "FEES", "HEDGES"]
    assert positions[1].split()[:4] == ["position:p3", "BTCUSD", "3", "42000.5"]
    assert positions[-1].startswith("risk: equity 9500")
    orders = s.call("orders")
    assert orders[0] == "gateway:" and "  open_orders: 2" in orders
    trades = s.call("trades")
    assert trades[0].split()[:3] == ["CLOSED_NS", "ID", "KIND"]
    assert [line.split()[1] for line in trades[1:3]] == ["p1", "p2"]
    assert trades[-1] == "2 of 2 closed trades"
    assert s.call("trades 1")[-1] == "1 of 2 closed trades"
    assert s.call("trades x")[0].startswith("error: trades: N must be")
    pnl = orjson.loads(s.call("pnl --json")[0])["data"]
    # (100 - 2.5 - 0.5) + (-40 - 1.5 + 0) = 55.5
    assert pnl["closed"]["net"] == "55.5" and pnl["closed"]["trades"] == 2
    assert pnl["equity"] == "9500" and pnl["drawdown_pct"] == "5.00"
    s.close()


# --- control ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "pause",
        "resume",
        "flatten",
        "kill-switch reset",
        "restart risk",
        "kill risk",
        "snapshot",
        "loglevel DEBUG",
    ],
)
def test_control_is_refused_unless_allowed(bot: Bot, command: str) -> None:
    s = authed(bot)
    reply = s.call(command)
    assert reply == [
        f"error: {command.split(maxsplit=1)[0]} is a control command and "
        "console.allow_control is false"
    ]
    assert bot.risk_got == []
    s.close()


def test_control_commands_reach_their_actors(control_bot: Bot) -> None:
    bot = control_bot
    s = authed(bot)
    assert not any("[control: disabled]" in line for line in s.call("help"))
    for line in ("pause maintenance", "resume", "flatten btcusd", "kill-switch reset checked"):
        reply = s.call(line)
        assert reply[0].startswith("ok: sent") and "command_id console-" in reply[0]
    wait_for(lambda: len(bot.risk_got) == 4)
    kinds = [type(m) for m in bot.risk_got]
    assert kinds == [PauseEntries, ResumeEntries, Flatten, ResetKillSwitch]
    assert bot.risk_got[0].reason == "maintenance"  # type: ignore[attr-defined]
    assert bot.risk_got[2].symbol == "BTCUSD"  # type: ignore[attr-defined]
    assert s.call("kill-switch on")[0] == "error: usage: kill-switch reset [REASON...]"
    s.close()


def test_restart_and_kill_go_through_supervision(control_bot: Bot) -> None:
    bot = control_bot
    s = authed(bot)
    assert s.call("restart gateway")[0] == "ok: sent RestartChild to root"
    wait_for(lambda: bot.runtime.entry("gateway").restarts == 1)  # type: ignore[union-attr]
    assert s.call("kill position:p3")[0].startswith("ok: sent KillActor to position:p3")
    wait_for(lambda: bot.runtime.entry("position:p3").restarts == 1)  # type: ignore[union-attr]
    assert s.call("kill root")[0].startswith("error: root is the root")
    assert s.call("restart root")[0].startswith("error: root is the root")
    assert s.call("kill ghost")[0].startswith("error: no actor 'ghost'")
    s.close()


def test_kill_console_restarts_it_on_the_same_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running_bot(tmp_path, allow_control=True, port=port) as bot:
        s = authed(bot)
        assert s.call("kill console")[0].startswith("ok: sent KillActor")
        wait_for(lambda: bot.runtime.entry("console").restarts == 1)  # type: ignore[union-attr]
        wait_for(lambda: bot.runtime.entry("console").state.value == "RUNNING")  # type: ignore[union-attr]
        assert bot.port == port
        authed(bot).close()


def test_snapshot_and_loglevel(control_bot: Bot) -> None:
    import logging

    s = authed(control_bot)
    assert s.call("snapshot")[0] == "ok: sent BackupNow to storage"
    wait_for(lambda: any((control_bot.state_dir / "backups").glob("*.mdb")))
    old = logging.getLogger("actors.console.test").level
    assert s.call("loglevel debug actors.console.test") == [
        "ok: logger actors.console.test set to DEBUG"
    ]
    assert logging.getLogger("actors.console.test").level == logging.DEBUG
    logging.getLogger("actors.console.test").setLevel(old)
    assert s.call("loglevel LOUD")[0].startswith("error: unknown level 'LOUD'")
    s.close()


# --- bad input -------------------------------------------------------------------------------


def test_unknown_commands_and_garbage_get_error_lines(bot: Bot) -> None:
    s = authed(bot)
    assert s.call("psx") == ["error: unknown command 'psx' (did you mean 'ps'?)"]
    assert s.call("inspect") == ["error: usage: inspect ID"]
    s.send_raw(b"\xff\xfe\x00garbage\n")
    assert s.reply() == ["error: input is not UTF-8 text without control characters"]
    s.send_raw(b"ps\x1b[A\n")
    assert s.reply()[0].startswith("error: input is not UTF-8")
    assert s.call("") == []
    assert s.call("ps")[0].startswith("ID")  # still served
    s.close()


def test_an_over_long_line_closes_the_session(bot: Bot) -> None:
    s = authed(bot)
    s.send_raw(b"x" * 300 + b"\n")
    assert s.reply() == ["error: line longer than 256 bytes; closing"]
    assert s.closed()
    authed(bot).close()


def test_too_many_sessions_are_refused_and_slots_come_back(bot: Bot) -> None:
    sessions = [Session(bot.port) for _ in range(3)]  # half-open: never authenticate
    extra = Session(bot.port)
    assert extra.greeting == ["error: too many sessions (max 3); try again later"]
    assert extra.closed()
    sessions.pop().close()
    wait_for(lambda: _can_auth(bot))
    for session in sessions:
        session.close()


def _can_auth(bot: Bot) -> bool:
    session = Session(bot.port)
    try:
        return session.greeting[0].startswith("delta-actor-bot") and session.call(
            f"auth {token_of(bot)}"
        )[0].startswith("ok")
    finally:
        session.close()


def test_idle_sessions_are_closed(tmp_path: Path) -> None:
    with running_bot(tmp_path, idle_timeout_s=1) as bot:
        s = Session(bot.port)
        assert s.reply() == ["error: idle for 1 s; closing"]
        assert s.closed()


def test_quit_ends_the_session(bot: Bot) -> None:
    s = authed(bot)
    assert s.call("quit") == ["bye"]
    assert s.closed()


def test_the_session_survives_the_actor_being_stopped(bot: Bot) -> None:
    s = authed(bot)
    assert bot.runtime.stop_actor("position:p3", 1_000_000_000)
    reply = s.call("inspect position:p3")
    assert reply[0].startswith("error: inspect position:p3:"), reply
    s.close()
