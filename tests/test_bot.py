"""The command line as a user runs it: real processes, bounded by timeouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import orjson
import pytest

import bot
from actors import ChildSpec, SupervisorSpec, ThreadedRuntime, supervisor
from messages.settings import Settings
from storage import Store
from tests.actors.harness import Recorder
from tests.actors.probes import Crash, probe

REPO = Path(__file__).resolve().parent.parent


def _bot(
    *args: str, cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bot.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )


def test_run_for_a_duration_exits_zero_with_health_reports(tmp_path: Path) -> None:
    result = _bot(
        "--duration",
        "3",
        "--state",
        str(tmp_path / "state"),
        "--log-format",
        "json",
        "--set",
        "health.report_interval_s=1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [orjson.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    reports = [line["data"] for line in lines if line["logger"] == "health"]
    assert reports, result.stderr
    assert all(report["overall"] == "OK" for report in reports)
    # Reports come while the tree starts, runs and stops: one of them shows it all running.
    wanted = {"root", "ops", "health", "market", "trading", "gateway", "risk"}
    wanted |= {f"book:{s}" for s in ("BTCUSD", "ETHUSD", "SOLUSD")}
    states = [{a["actor_id"]: a["state"] for a in report["actors"]} for report in reports]
    assert any(wanted <= set(s) and set(s.values()) == {"RUNNING"} for s in states), states
    assert (tmp_path / "state").is_dir()


def test_explicit_run_subcommand_is_the_default() -> None:
    args = bot.parse_args(["--duration", "1"])
    assert args.command == "run"
    assert args.duration == 1.0
    assert bot.parse_args(["run", "--duration", "1"]).duration == 1.0


def test_backtest_on_the_generator_writes_metrics_json_and_chart(tmp_path: Path) -> None:
    report, chart = tmp_path / "bt.json", tmp_path / "bt.svg"
    args = ("backtest", "--candles", "700", "--json", str(report), "--plot", str(chart))
    first = _bot(*args, cwd=tmp_path, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "total_return_pct" in first.stdout and "trade_hash" in first.stdout
    doc = orjson.loads(report.read_bytes())
    assert {"metrics", "trades", "equity"} <= set(doc) and len(doc["equity"]) == 400
    assert chart.read_text().startswith("<svg")
    again = _bot(*args, cwd=tmp_path, timeout=120)
    assert (
        orjson.loads(report.read_bytes())["metrics"]["trade_hash"] == doc["metrics"]["trade_hash"]
    )
    assert again.returncode == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--from", "31/01/2024"), "--from: expected a UTC date like 2024-01-31"),
        (("--timeframe", "7m"), "--timeframe: expected one of"),
        (("--symbols", "DOGEUSD"), "--symbols: no product DOGEUSD"),
        (("--data", "no-such-dir"), "--data no-such-dir: no such directory"),
    ],
)
def test_backtest_bad_arguments_name_the_flag(
    flags: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    result = _bot("backtest", *flags, cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_invalid_settings_name_every_problem_and_exit_2(tmp_path: Path) -> None:
    result = _bot(
        "--duration",
        "1",
        "--set",
        "risk.max_leverage=500",
        "--set",
        "nosuch.key=1",
        cwd=tmp_path,
        timeout=30,
        BOT_HEALTH__REPORT_INTERVAL_S="0",
    )
    assert result.returncode == 2
    assert "risk.max_leverage" in result.stderr
    assert "500" in result.stderr
    assert "nosuch" in result.stderr
    assert "BOT_HEALTH__REPORT_INTERVAL_S" in result.stderr


def test_paper_mode_with_an_unreachable_exchange_says_so_and_exits_1(tmp_path: Path) -> None:
    result = _bot(
        "--mode", "paper", "--duration", "5", "--set", "exchange.rest_url=http://127.0.0.1:9",
        "--set", "exchange.max_retries=0", cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "cannot start against http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_gracefully_with_exit_zero(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "bot.py"), "--state", str(tmp_path), "--log-format", "json"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:  # wait until the tree is up, bounded by the process timeout
            if '"starting:' in line or "starting:" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopping gracefully" in err


def test_root_giving_up_exits_non_zero_in_a_real_process() -> None:
    code = textwrap.dedent(
        f"""
        import sys, threading
        sys.path.insert(0, {str(REPO)!r})
        import bot
        from actors import SupervisorSpec, ThreadedRuntime, supervisor
        from tests.actors.harness import Recorder
        from tests.actors.probes import Crash, probe

        spec = SupervisorSpec(max_restarts=1, within_ns=60 * 10**9,
                              children=(probe("x", Recorder()),))
        rt = ThreadedRuntime()
        stop = threading.Event()
        def crash_twice():
            for _ in range(2):
                while rt.entry("x") is None or rt.entry("x").state.value != "RUNNING":
                    if rt.root_done.wait(0.001):
                        return
                rt.send("x", Crash())
        threading.Thread(target=crash_twice, daemon=True).start()
        sys.exit(bot.run_tree(rt, supervisor("root", spec), duration_s=30, stop=stop))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1, result.stderr
    assert "root supervisor gave up" in result.stderr


def test_run_tree_returns_zero_on_a_stop_request() -> None:
    rec = Recorder()
    stop = threading.Event()
    stop.set()
    code = bot.run_tree(
        ThreadedRuntime(),
        supervisor("root", SupervisorSpec(children=(probe("a", rec),))),
        duration_s=None,
        stop=stop,
    )
    assert code == 0
    assert rec.of("stop") == [("a", 1)]


def test_run_tree_reports_a_start_failure_as_exit_one() -> None:
    failing = ChildSpec(actor_id="bad", factory=lambda: (_ for _ in ()).throw(ValueError("no")))
    code = bot.run_tree(
        ThreadedRuntime(),
        supervisor("root", SupervisorSpec(children=(failing,))),
        duration_s=1,
        stop=threading.Event(),
    )
    assert code == 1


def test_crash_is_logged_with_the_actor_id(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder()
    with ThreadedRuntime() as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=(probe("a", rec),))))
        rt.send("a", Crash())
        for _ in range(1000):
            if ("a", 2) in rec.of("start"):
                break
            threading.Event().wait(0.002)
    assert any("a: failed on Crash" in r.getMessage() for r in caplog.records)


def test_sim_subcommand_prints_its_urls_and_stops_after_the_duration(tmp_path: Path) -> None:
    result = _bot("sim", "--duration", "1", "--state", str(tmp_path), cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "http://127.0.0.1:" in output
    assert "ws://127.0.0.1:" in output


def test_a_damaged_state_is_refused_before_anything_trades(tmp_path: Path) -> None:
    """A truncated data file: the bot says what is wrong and how to restore, exit 1."""
    state = tmp_path / "state"
    with Store.open(state, Settings().storage) as store:
        store.append([b"an event"])
        store.backup()
    data = state / "data.mdb"
    data.write_bytes(data.read_bytes()[: 4096 * 3])
    venue = tmp_path / "venue.json"
    urls = {"rest_url": "http://127.0.0.1:9", "ws_url": "ws://127.0.0.1:9"}
    doc = {**urls, "public_ws_url": "ws://127.0.0.1:9", "speed": 1.0, "clock_ns": 1, "wall_ns": 1}
    venue.write_bytes(orjson.dumps(doc))
    result = _bot("run", "--venue", str(venue), "--state", str(state), cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "damaged" in result.stderr and "backup" in result.stderr, result.stderr
    assert data.stat().st_size == 4096 * 3, "the damaged file is left as it was"
