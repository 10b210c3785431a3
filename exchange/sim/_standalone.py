"""``python bot.py sim``: run the simulator on its own until Ctrl-C or a duration.

Called on the main thread by ``bot.py``; it prints the URLs and the demo key pair's
environment hint to stdout and blocks.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import orjson

from actors._clock import ScaledClock
from exchange.sim._errors import ExchangeSimError
from exchange.sim._exchange import SimExchange, fingerprint
from messages.settings import TIMEFRAME_SECONDS, Settings

__all__ = ["run_standalone", "sim_clock", "sim_fingerprint", "simulator_for"]


def sim_clock(settings: Settings) -> ScaledClock:
    """The simulated market's clock: ``sim.speed`` ``bot.timeframe`` candles per real second.

    It starts at the open of the current candle, so the first candle the bot sees form is a
    whole one: a bot starting with the simulator has one candle period to get ready before
    its first close, and the simulator's history ends on a closed candle.
    """
    timeframe_ns = TIMEFRAME_SECONDS[settings.bot.timeframe] * 1_000_000_000
    now = time.time_ns()
    return ScaledClock(
        speed=settings.sim.speed * TIMEFRAME_SECONDS[settings.bot.timeframe],
        start_ns=now - now % timeframe_ns,
    )


def sim_fingerprint(settings: Settings) -> tuple[object, ...]:
    """The fingerprint of the simulator :func:`simulator_for` builds from ``settings``."""
    return fingerprint(settings.sim, _market_kind(settings), settings.exchange.history_candles)


def simulator_for(settings: Settings, clock: ScaledClock) -> SimExchange:
    """A simulator as the settings describe it: candle files when sim.data_dir is set."""
    return SimExchange(
        settings.sim,
        clock=clock,
        market=_market_kind(settings),
        history_candles=settings.exchange.history_candles,
    )


def _market_kind(settings: Settings) -> str:
    return "files" if settings.sim.data_dir else "generator"


def run_standalone(
    settings: Settings,
    *,
    duration_s: float | None = None,
    stop: threading.Event | None = None,
    venue_file: Path | None = None,
) -> int:
    """Start the simulator, print its URLs, block until Ctrl-C, ``duration_s`` or ``stop``.

    The clock runs ``sim.speed`` candle periods (``bot.timeframe``) per real second; the
    market comes from ``sim.data_dir`` candle files when set, else the generator.

    Returns:
        0 after a clean stop, 1 when it could not start (the cause is printed).
    """
    clock = sim_clock(settings)
    speed = clock.speed
    market = _market_kind(settings)
    try:
        sim = simulator_for(settings, clock).start()
    except ExchangeSimError as exc:
        print(f"simulator: cannot start: {exc}", flush=True)
        return 1
    print(f"simulator REST       {sim.rest_url}/v2", flush=True)
    print(f"simulator WebSocket  {sim.ws_url}  (private + legacy public channels)", flush=True)
    print(f"simulator public WS  {sim.public_ws_url}  (compact public channels)", flush=True)
    print(f"clock speed {speed:g}x, market: {market}", flush=True)
    print(
        f"demo keys: export DELTA_API_KEY={sim.api_key} DELTA_API_SECRET={sim.api_secret}",
        flush=True,
    )
    if venue_file is not None:
        write_venue_file(venue_file, sim)
        print(f"venue file {venue_file} (python bot.py run --venue {venue_file})", flush=True)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    waiter = stop or threading.Event()
    try:
        while deadline is None or time.monotonic() < deadline:
            left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if waiter.wait(max(0.0, left)):
                break
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    print("simulator stopped", flush=True)
    return 0


def write_venue_file(path: Path, sim: SimExchange) -> None:
    """Where a running simulator listens and what its clock reads, for ``bot.py run --venue``
    (no keys: the simulator's demo pair is in settings). Written whole or not at all."""
    clock = sim.clock
    doc = {
        "rest_url": sim.rest_url,
        "ws_url": sim.ws_url,
        "public_ws_url": sim.public_ws_url,
        "speed": getattr(clock, "speed", 1.0),
        "clock_ns": clock.now_ns(),
        "wall_ns": time.time_ns(),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(doc))
    os.replace(tmp, path)


def read_venue_file(path: Path) -> tuple[dict[str, str], ScaledClock]:
    """The URLs :func:`write_venue_file` wrote and a clock that reads what the simulator's
    reads (same machine: the wall clock carries the offset). ValueError names the field."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"--venue {path}: cannot read it: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"--venue {path}: expected a JSON object")
    urls = {}
    for field in ("rest_url", "ws_url", "public_ws_url"):
        value = doc.get(field)
        if not isinstance(value, str) or "://" not in value:
            raise ValueError(f"--venue {path}: {field} must be a URL, was {value!r}")
        urls[field] = value
    speed, clock_ns, wall_ns = doc.get("speed"), doc.get("clock_ns"), doc.get("wall_ns")
    if not isinstance(speed, int | float) or speed <= 0:
        raise ValueError(f"--venue {path}: speed must be a positive number, was {speed!r}")
    if not isinstance(clock_ns, int) or not isinstance(wall_ns, int):
        raise ValueError(f"--venue {path}: clock_ns and wall_ns must be integers (ns)")
    now = clock_ns + int((time.time_ns() - wall_ns) * speed)
    return urls, ScaledClock(speed=float(speed), start_ns=now)
