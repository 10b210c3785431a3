"""The client (`python bot.py console`) and random input, against a running console."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.console import run_client
from tests.actors.console.harness import Bot, Session, authed, running_bot, token_of

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    with running_bot(tmp_path) as running:
        yield running


def client(bot: Bot, *command: str, as_json: bool = False, **env: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_client(
        host="127.0.0.1",
        port=bot.port,
        state_dir=bot.state_dir,
        token_file=None,
        command=command,
        as_json=as_json,
        environ=env,
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_one_command_prints_its_reply_and_exits_0(bot: Bot) -> None:
    code, out, _ = client(bot, "ps")
    assert code == 0 and out.startswith("ID ") and "console" in out
    code, out, _ = client(bot, "inspect", "risk", as_json=True)
    assert code == 0 and orjson.loads(out)["data"]["describe"]["equity"] == "9500"


def test_an_error_reply_exits_1(bot: Bot) -> None:
    assert client(bot, "inspect", "nobody")[0] == 1
    code, out, _ = client(bot, "pause", as_json=True)
    assert code == 1 and orjson.loads(out)["ok"] is False


def test_wrong_token_no_token_or_no_bot_exit_1(bot: Bot, tmp_path: Path) -> None:
    code, _, err = client(bot, "ps", BOT_CONSOLE_TOKEN="wrong")
    assert code == 1 and "wrong token" in err
    (bot.state_dir / "console.token").chmod(0o644)
    code, _, err = client(bot, "ps")
    assert code == 1 and "chmod 600" in err and token_of(bot) not in err
    (bot.state_dir / "console.token").chmod(0o600)
    out, err_io = io.StringIO(), io.StringIO()
    code = run_client(
        host="127.0.0.1",
        port=bot.port,
        state_dir=tmp_path / "none",
        token_file=None,
        command=["ps"],
        as_json=False,
        environ={},
        out=out,
        err=err_io,
    )
    assert code == 1 and "no console token" in err_io.getvalue()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code = run_client(
        host="127.0.0.1",
        port=port,
        state_dir=bot.state_dir,
        token_file=None,
        command=["ps"],
        as_json=False,
        environ={},
        out=out,
        err=err_io,
    )
    assert code == 1 and "cannot connect" in err_io.getvalue()


def test_bot_py_console_runs_one_command(bot: Bot, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_CONSOLE_TOKEN"}
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bot.py"),
            "console",
            "--port",
            str(bot.port),
            "--state",
            str(bot.state_dir),
            "--json",
            "health",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["data"]["overall"] == "OK"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.lists(st.binary(min_size=0, max_size=400), min_size=1, max_size=4))
def test_random_bytes_get_answers_or_a_close_and_the_console_keeps_serving(
    bot: Bot, data: list[bytes]
) -> None:
    session = authed(bot)
    session.send_raw(b"\n".join(data) + b"\n")
    session.sock.shutdown(socket.SHUT_WR)  # end of input: the server answers, then closes
    rest = session.reader.read()  # bounded by the socket timeout: never hangs
    lines = rest.split(b"\n")
    assert lines[-1] == b""  # whole lines only
    # every reply is framed (ends with a lone "."); the last one may be an "error:" close
    assert rest == b"" or lines[-2] == b"."
    assert session.reader.read() == b""  # and then the server closed the session
    session.close()
    fresh = Session(bot.port)
    assert fresh.call(f"auth {token_of(bot)}")[0].startswith("ok")
    assert fresh.call("ps")[0].startswith("ID")
    fresh.close()


def test_docs_list_every_command() -> None:
    from actors.console import COMMANDS

    text = (REPO / "docs" / "console.md").read_text()
    for command in COMMANDS.values():
        assert f"| `{command.usage}` |" in text, command.usage
