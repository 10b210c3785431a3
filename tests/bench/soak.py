"""Soak: the real bot on the simulator at high speed for a bounded time; memory and health.

``python -m tests.bench.soak --json FILE [--quick | --long] [--duration S] [--speed X]``.
Two processes, as an operator runs them: the simulator (``bot.py sim --venue-file F``) and
the bot (``bot.py run --venue F --state DIR``), both with the same ``--set`` flags (the
simulator's speed, ephemeral console and HTTP ports, a 5 s health report, JSON logs). The
bot runs ``--duration`` real seconds (quick 20 s, default 120 s, ``--long`` 1,800 s); then
both get SIGTERM, bounded waits, and a kill if they do not stop.

Sampled every second: the bot process's RSS (psutil) and ``/metrics`` (the port the http
actor logs). Read from the bot's JSON log: every health report (logger ``health``).
"After warm-up" is the first sample after the first health report in which every actor is
RUNNING (the history is loaded, the indicator kernels are loaded or compiled). Metrics:

- ``rss_warm_mb``, ``rss_end_mb``, ``rss_max_mb``, ``rss_growth_pct`` (end over warm-up; a
  shrink counts as 0), ``rss_start_mb`` (the first sample, ~1 s after the process started),
  ``rss_half_mb`` and ``rss_growth_second_half_pct`` (end over the middle sample: whether
  the growth levels off as the bounded tables fill, or goes on);
- ``restarts`` (sum of ``bot_actor_restarts_total`` at the end) and ``restarts_max_seen``;
- ``inbox_high_water`` (largest ``bot_actor_inbox_size`` of any actor in any sample; the
  actor is printed), ``orders_accepted``, ``orders_rejected``, ``fills``;
- ``health_reports``, ``health_ok_throughout`` (1 when every report and every /metrics sample
  said OK), ``threads_max``, ``bot_exit_code``, ``warmup_s``, ``run_s``;
- where the RSS is, from ``/proc/PID/smaps`` at warm-up and at the end (Linux; absent
  elsewhere): ``smaps_{kind}_warm_mb`` / ``_end_mb`` for ``anon`` (the heap, malloc arenas,
  Python's object arenas, thread stacks), ``lmdb`` (the pages of ``data.mdb`` mapped in),
  ``llvm`` (llvmlite's library) and ``files`` (every other file mapping), and
  ``data_mdb_end_mb``, the file's size: so a growth can be told apart as native or Python
  heap, the LMDB map, or code.

Also ``rss_floor_mb``: the RSS of a process that only imports what the bot imports and loads
its indicator kernels as the bot does (``tests/bench/_rss_floor.py``, run after the bot, on
the same machine), with ``rss_floor_jit`` (1 when the kernels ran on numba's JIT, which
costs ~150 MB, instead of the ahead-of-time module) and ``rss_own_end_mb`` (the bot's end
RSS above that floor).

Goals (issue 10): RSS growth under 5 % after warm-up, no unexplained restarts, health OK
throughout, under 150 MB RSS with 3 symbols. Ratios: ``rss_growth_vs_goal_5pct`` (growth
/ 5 %) and ``rss_end_vs_goal_150mb`` (end RSS / 150 MB); under 1 meets the goal. Nothing is
asserted here: the figures belong in docs/operations.md ("Soak").
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psutil

from tests.bench._report import write_report

REPO = Path(__file__).resolve().parent.parent.parent
MB = 1024 * 1024
GOAL_GROWTH_PCT = 5.0
GOAL_RSS_MB = 150.0
_SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_SERVING = re.compile(r"serving /healthz and /metrics on (http://[\d.]+:\d+)")


def parse_args() -> argparse.Namespace:
    """The shared flags (``--json``, ``--quick``) plus ``--long``, ``--duration``, ``--speed``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write {name, metrics, ratios} to this file")
    parser.add_argument("--quick", action="store_true", help="a 20 s smoke run (test suite)")
    parser.add_argument("--long", action="store_true", help="a 30 min soak")
    parser.add_argument("--duration", type=float, help="bot run time in s (overrides the size)")
    parser.add_argument("--speed", type=float, default=5.0, help="candles per second (sim.speed)")
    return parser.parse_args()


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format -> {family: [(labels, value)]} (comments skipped)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if line.startswith("#") or match is None:
            continue
        name, labels, value = match.groups()
        out.setdefault(name, []).append((dict(_LABEL.findall(labels or "")), float(value)))
    return out


@dataclass
class LogWatch:
    """Reads the bot's JSON log lines on a thread: the /metrics URL and every health report."""

    url: str | None = None
    reports: int = 0
    not_ok: list[str] = field(default_factory=list)
    warm_event: threading.Event = field(default_factory=threading.Event)
    restarts_seen: int = 0
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))

    def follow(self, stream: object) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            self.tail.append(raw.rstrip()[:400])
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(doc, dict):
                continue
            found = _SERVING.search(str(doc.get("msg", "")))
            if found:
                self.url = found.group(1)
            if doc.get("logger") == "health" and isinstance(doc.get("data"), dict):
                self._on_report(doc["data"])

    def _on_report(self, report: dict[str, object]) -> None:
        self.reports += 1
        actors = report.get("actors") or []
        if report.get("overall") != "OK":
            self.not_ok.append(f"report {self.reports}: {report.get('overall')}")
        self.restarts_seen = max(
            self.restarts_seen,
            sum(int(a.get("restarts", 0)) for a in actors),  # type: ignore[union-attr]
        )
        if actors and all(a.get("state") == "RUNNING" for a in actors):  # type: ignore[union-attr]
            self.warm_event.set()


SMAPS_KINDS = ("anon", "lmdb", "llvm", "files")


def smaps_by_kind(pid: int) -> dict[str, float] | None:
    """The process's resident MB per kind of mapping (see the module docstring), or None
    where ``/proc/PID/smaps`` cannot be read."""
    out = dict.fromkeys(SMAPS_KINDS, 0.0)
    kind = "anon"
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as smaps:
            for line in smaps:
                head = line.split(maxsplit=5)
                if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                    name = head[5].strip() if len(head) > 5 else ""
                    if not name or name.startswith("["):
                        kind = "anon"
                    elif name.endswith("/data.mdb"):
                        kind = "lmdb"
                    elif "llvmlite" in name:
                        kind = "llvm"
                    else:
                        kind = "files"
                elif head and head[0] == "Rss:":
                    out[kind] += int(head[1]) / 1024
    except OSError:
        return None
    return out


@dataclass
class Samples:
    """What the 1 Hz sampler saw."""

    rss: list[float] = field(default_factory=list)
    smaps_warm: dict[str, float] | None = None
    smaps_end: dict[str, float] | None = None
    data_mdb_mb: float | None = None
    rss_warm: float | None = None
    warm_at: float | None = None
    threads_max: int = 0
    inbox_max: float = 0.0
    inbox_actor: str = "-"
    restarts: float = 0.0
    restarts_max: float = 0.0
    orders_accepted: float = 0.0
    orders_rejected: float = 0.0
    fills: float = 0.0
    metrics_samples: int = 0
    not_ok: list[str] = field(default_factory=list)

    def take_metrics(self, families: dict[str, list[tuple[dict[str, str], float]]]) -> None:
        self.metrics_samples += 1
        for labels, value in families.get("bot_actor_inbox_size", []):
            if value > self.inbox_max:
                self.inbox_max, self.inbox_actor = value, labels.get("actor", "?")
        self.restarts = sum(v for _, v in families.get("bot_actor_restarts_total", []))
        self.restarts_max = max(self.restarts_max, self.restarts)
        self.orders_accepted = sum(v for _, v in families.get("bot_orders_accepted_total", []))
        self.orders_rejected = sum(v for _, v in families.get("bot_orders_rejected_total", []))
        self.fills = sum(v for _, v in families.get("bot_fills_total", []))
        status = [labels["status"] for labels, v in families.get("bot_health", []) if v == 1]
        if status and status != ["OK"] and self.warm_at is not None:
            self.not_ok.append(f"/metrics sample {self.metrics_samples}: {status}")


def _python(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "bot.py"), *args]


def _stop(process: subprocess.Popen[str], name: str, timeout_s: float) -> int:
    """SIGTERM, wait ``timeout_s``, then SIGKILL; return the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            print(f"soak: {name} ignored SIGTERM for {timeout_s:g} s: killed", file=sys.stderr)
            process.kill()
            return process.wait(10)
    return process.returncode


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=2) as answer:
            return answer.read().decode()
    except OSError:
        return None


def _sample(bot: psutil.Process, watch: LogWatch, samples: Samples, start: float) -> None:
    with bot.oneshot():
        samples.rss.append(bot.memory_info().rss / MB)
        samples.threads_max = max(samples.threads_max, bot.num_threads())
    if samples.rss_warm is None and watch.warm_event.is_set():
        samples.rss_warm, samples.warm_at = samples.rss[-1], time.monotonic() - start
        samples.smaps_warm = smaps_by_kind(bot.pid)
    if watch.url is not None:
        text = _fetch(watch.url)
        if text is not None:
            samples.take_metrics(parse_metrics(text))


def soak(duration_s: float, speed: float) -> tuple[Samples, LogWatch, int, float]:
    """Run the simulator and the bot for ``duration_s``; return what was seen, the bot's exit
    status and the run time. Raises SystemExit when either process fails to come up."""
    sets = [
        f"sim.speed={speed:g}",
        "console.port=0",
        "health.http_port=0",
        "health.report_interval_s=5",
    ]
    flags = [arg for s in sets for arg in ("--set", s)]
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        venue = Path(tmp) / "venue.json"
        sim_cmd = _python("sim", "--venue-file", str(venue), "--state", f"{tmp}/sim", *flags)
        sim_log = Path(tmp) / "sim.log"
        with sim_log.open("w") as log:  # a file, not a pipe nobody reads (it could fill)
            sim = subprocess.Popen(sim_cmd, cwd=REPO, stdout=log, stderr=log, text=True)
        try:
            deadline = time.monotonic() + 30
            while not venue.exists():
                if sim.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"soak: no simulator: {sim_log.read_text()[-3000:]}")
                time.sleep(0.1)
            return _run_bot(Path(tmp), venue, flags, duration_s)
        finally:
            _stop(sim, "simulator", 15)


def _run_bot(
    tmp: Path, venue: Path, flags: list[str], duration_s: float
) -> tuple[Samples, LogWatch, int, float]:
    cmd = _python("run", "--venue", str(venue), "--state", str(tmp / "state"), *flags)
    bot = subprocess.Popen(
        [*cmd, "--log-format", "json"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watch, samples = LogWatch(), Samples()
    reader = threading.Thread(target=watch.follow, args=(bot.stderr,), daemon=True)
    reader.start()
    start = time.monotonic()
    try:
        proc = psutil.Process(bot.pid)
        while time.monotonic() - start < duration_s:
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start) % 1.0))
            if bot.poll() is not None:
                break
            with contextlib.suppress(psutil.NoSuchProcess):
                _sample(proc, watch, samples, start)
        samples.smaps_end = smaps_by_kind(bot.pid)
        data_mdb = tmp / "state" / "data.mdb"
        if data_mdb.exists():
            samples.data_mdb_mb = data_mdb.stat().st_size / MB
    finally:
        run_s = time.monotonic() - start
        code = _stop(bot, "bot", 30)
        reader.join(5)
    if code != 0 or not samples.rss:
        tail = "\n".join(watch.tail)
        raise SystemExit(f"soak: the bot exited with status {code}:\n{tail}")
    return samples, watch, code, run_s


def rss_floor() -> dict[str, float]:
    """The floor (``tests.bench._rss_floor``): a process with the bot's imports and its
    indicator kernels loaded, nothing else; measured here, beside the bot, on this machine."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench._rss_floor"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return orjson.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the soak and write the report."""
    args = parse_args()
    duration = args.duration or (20.0 if args.quick else 1800.0 if args.long else 120.0)
    samples, watch, code, run_s = soak(duration, args.speed)
    floor = rss_floor()  # after the bot: its kernels are built and cached, as at a restart
    warm = samples.rss_warm if samples.rss_warm is not None else samples.rss[0]
    end = samples.rss[-1]
    growth = max(0.0, (end - warm) / warm * 100.0)
    half = samples.rss[len(samples.rss) // 2]
    ok = not watch.not_ok and not samples.not_ok and watch.reports > 0
    metrics = {
        "rss_start_mb": samples.rss[0],
        "rss_warm_mb": warm,
        "rss_end_mb": end,
        "rss_max_mb": max(samples.rss),
        "rss_growth_pct": growth,
        "rss_half_mb": half,
        "rss_growth_second_half_pct": max(0.0, (end - half) / half * 100.0),
        "restarts": samples.restarts,
        "restarts_max_seen": max(samples.restarts_max, watch.restarts_seen),
        "inbox_high_water": samples.inbox_max,
        "orders_accepted": samples.orders_accepted,
        "orders_rejected": samples.orders_rejected,
        "fills": samples.fills,
        "health_reports": watch.reports,
        "health_ok_throughout": float(ok),
        "threads_max": samples.threads_max,
        "bot_exit_code": code,
        "warmup_s": samples.warm_at if samples.warm_at is not None else float("nan"),
        "run_s": run_s,
    }
    if samples.smaps_warm is not None and samples.smaps_end is not None:
        for kind in SMAPS_KINDS:
            metrics[f"smaps_{kind}_warm_mb"] = samples.smaps_warm[kind]
            metrics[f"smaps_{kind}_end_mb"] = samples.smaps_end[kind]
    if samples.data_mdb_mb is not None:
        metrics["data_mdb_end_mb"] = samples.data_mdb_mb
    metrics["rss_floor_mb"] = floor["kernels_loaded"]
    metrics["rss_floor_jit"] = float(floor["kernels"] == "jit")
    # Below the floor only when the bot loaded its kernels from the cache and the floor
    # process had to compile some (a cold cache): then the bot's own share is not known.
    metrics["rss_own_end_mb"] = max(0.0, end - floor["kernels_loaded"])
    ratios = {
        "rss_growth_vs_goal_5pct": growth / GOAL_GROWTH_PCT,
        "rss_end_vs_goal_150mb": end / GOAL_RSS_MB,
        "rss_floor_vs_goal_150mb": floor["kernels_loaded"] / GOAL_RSS_MB,
    }
    write_report("soak", metrics, ratios, args.json)
    print(f"inbox high-water: {samples.inbox_max:g} in {samples.inbox_actor}")
    for problem in (*watch.not_ok, *samples.not_ok):
        print(f"health not OK: {problem}")


if __name__ == "__main__":
    main()
