"""The bot's command line: ``python bot.py [run] [flags]`` and its other subcommands.

``run`` (the default) starts the supervised actor tree and runs until Ctrl-C, SIGTERM,
``--duration`` or the root supervisor giving up (exit status 1, so systemd restarts it).
``sim`` runs the Delta-compatible exchange simulator on its own. ``snapshot`` lists, shows,
exports and restores the LMDB state (exit 1 with one line on stderr for a storage error).
``console`` connects to a running bot's admin console (one command, or an interactive
prompt), ``backtest`` replays candles through the trading tree (docs/backtest.md).

Settings come from settings.toml, then ``BOT_<SECTION>__<KEY>`` environment variables, then
``--set section.key=value`` and the dedicated flags (highest). Only this module configures
logging.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import logging.handlers
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

import indicators
import storage
from actors import (
    ChildSpec,
    Clock,
    ScaledClock,
    ThreadedRuntime,
    WallClock,
)
from actors.ops import SystemdNotifier
from actors.tree import Venue, build_tree
from exchange.delta import ExchangeError, endpoints_for
from messages import Product
from messages.settings import TIMEFRAME_SECONDS, Secret, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from exchange.sim import SimExchange
    from exchange.sim._persist import SavedExchange

log = logging.getLogger("bot")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
_NS = 1_000_000_000
_MS = 1_000_000
_SUBCOMMANDS = ("run", "backtest", "console", "snapshot", "sim")
_DEFAULT_SETTINGS = Path(__file__).resolve().parent / "settings.toml"


# -- command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser; ``run`` is implied when no subcommand is given."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file (default: ./settings.toml, else the one beside bot.py)",
    )
    common.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one setting; repeatable; wins over the file and BOT_* variables",
    )
    common.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory for everything the bot writes (default: storage.state_dir, ./data)",
    )
    common.add_argument(
        "--log-format",
        choices=("auto", "human", "json"),
        default=None,
        help="terminal log format (default: logging.format; auto = human on a terminal)",
    )
    common.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR")

    parser = argparse.ArgumentParser(
        prog="bot.py",
        description="Supervised actor-model trading bot for Delta Exchange India perpetuals.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="run the bot (the default)")
    sim = sub.add_parser(
        "sim", parents=[common], help="run the Delta-compatible exchange simulator on its own"
    )
    for command in (run, sim):
        command.add_argument(
            "--duration",
            type=float,
            default=None,
            metavar="SECONDS",
            help="stop gracefully after this many real seconds",
        )
    run.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="X",
        help="simulator speed: bot.timeframe candles per real second (sim.speed)",
    )
    run.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="replay candle files from DIR instead of the generator (sim.data_dir)",
    )
    run.add_argument("--mode", choices=("sim", "paper", "live"), default=None, help="bot.mode")
    run.add_argument("--testnet", action="store_true", default=None, help="exchange.testnet = true")
    run.add_argument(
        "--confirm-live", action="store_true", default=False,
        help="bot.live_confirm = true: required with --mode live (real orders, real money)",
    )  # fmt: skip
    run.add_argument(
        "--venue",
        type=Path,
        default=None,
        metavar="FILE",
        help="trade on a simulator already running (`bot.py sim --venue-file FILE`) instead of "
        "starting one; the state then resumes across restarts",
    )
    sim.add_argument(
        "--venue-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="write where the simulator listens to FILE, for `bot.py run --venue FILE`",
    )
    from actors.backtest._cli import add_arguments

    backtest = sub.add_parser(
        "backtest", parents=[common], help="replay candles through the trading tree, report"
    )
    add_arguments(backtest)
    add_console_parser(sub, common)
    add_snapshot_parser(sub, common)
    return parser


def add_console_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``console [--host H --port P] [--token-file F] [--json] [COMMAND ...]``."""
    console = sub.add_parser(
        "console", parents=[common], help="connect to a running bot's admin console"
    )
    console.add_argument("--host", default=None, help="console address (default: console.host)")
    console.add_argument(
        "--port", type=int, default=None, help="console port (default: console.port)"
    )
    console.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="read the token here (default: BOT_CONSOLE_TOKEN, else STATE/console.token)",
    )
    console.add_argument("--json", action="store_true", help="print one JSON document")
    console.add_argument(
        "words", nargs="*", metavar="COMMAND", help="run this one command (default: a prompt)"
    )


def command_console(args: argparse.Namespace, settings: Settings) -> int:
    """Run one console command, or the interactive prompt, against a running bot."""
    from actors.console import run_client

    return run_client(
        host=args.host or settings.console.host,
        port=settings.console.port if args.port is None else args.port,
        state_dir=Path(settings.storage.state_dir),
        token_file=args.token_file,
        command=args.words,
        as_json=args.json,
    )


def add_snapshot_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``snapshot list|show ID|export FILE|restore FILE|forget ID``; flags go after the
    action."""
    snapshot = sub.add_parser("snapshot", help="list, show, export, restore or forget state")
    actions = snapshot.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", parents=[common], help="one line per actor snapshot, journal range, backups"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = actions.add_parser("show", parents=[common], help="print one snapshot as JSON")
    show.add_argument("actor_id", metavar="ID", help="stable actor id, as `snapshot list` shows")
    export = actions.add_parser(
        "export", parents=[common], help="write everything as JSON lines (safe while running)"
    )
    export.add_argument("file", type=Path, metavar="FILE")
    restore = actions.add_parser(
        "restore", parents=[common], help="replace the state from an export or backup (bot stopped)"
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="an export .jsonl or backup .mdb")
    forget = actions.add_parser(
        "forget",
        parents=[common],
        help="remove the snapshot of an actor gone for good, such as a removed symbol's "
        "(bot stopped)",
    )
    forget.add_argument("actor_id", metavar="ID", help="stable actor id, as `snapshot list` shows")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``, treating a missing subcommand as ``run``."""
    args = list(argv)
    if not args or (args[0] not in _SUBCOMMANDS and args[0] not in ("-h", "--help")):
        args.insert(0, "run")
    return build_parser().parse_args(args)


def load(args: argparse.Namespace) -> Settings:
    """Load settings with the command line's overrides (flags win over --set)."""
    path = args.settings
    if path is None:
        local = Path("settings.toml")
        path = local if local.exists() else _DEFAULT_SETTINGS
    elif not path.exists():
        raise SettingsError(f"--settings: file {path} does not exist")
    overrides = list(args.overrides)
    if args.state is not None:
        overrides.append(f"storage.state_dir={args.state}")
    if args.log_format is not None:
        overrides.append(f"logging.format={args.log_format}")
    if args.log_level is not None:
        overrides.append(f"logging.level={args.log_level.upper()}")
    for flag, key in (("speed", "sim.speed"), ("data", "sim.data_dir"), ("mode", "bot.mode")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"{key}={value}")
    if getattr(args, "testnet", None):
        overrides.append("exchange.testnet=true")
    if getattr(args, "confirm_live", False):
        overrides.append("bot.live_confirm=true")
    return load_settings(path, environ=os.environ, overrides=overrides)


# -- logging ----------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ns), level, logger, msg, and exc when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": int(record.created * _NS),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload = getattr(record, "payload", None)
        if payload is not None:
            doc["data"] = orjson.Fragment(payload)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


class _NotPayload(logging.Filter):
    """Keeps machine-only records (health JSON) off a human terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "payload", None) is None


def configure_logging(settings: Settings, state_dir: Path) -> None:
    """Terminal: human lines on a tty, JSON lines otherwise; file: rotating JSON lines."""
    cfg = settings.logging
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(cfg.level)
    human = cfg.format == "human" or (cfg.format == "auto" and sys.stderr.isatty())
    terminal = logging.StreamHandler(sys.stderr)
    if human:
        terminal.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
        terminal.addFilter(_NotPayload())
    else:
        terminal.setFormatter(JsonFormatter())
    root.addHandler(terminal)
    if cfg.file:
        path = Path(cfg.file)
        path = path if path.is_absolute() else state_dir / path
        path.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=cfg.max_bytes, backupCount=cfg.backup_count, encoding="utf-8"
        )
        rotating.setFormatter(JsonFormatter())
        root.addHandler(rotating)
    for chatty in ("httpx", "httpcore", "websockets.server", "websockets.client"):
        # One line per HTTP request or socket event drowns what a trader needs to see.
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # dump every thread's stack


# -- the actor tree ---------------------------------------------------------------------------


@contextlib.contextmanager
def embedded_simulator(
    settings: Settings, clock: ScaledClock, embedded: EmbeddedState
) -> Iterator[Venue]:
    """Start the exchange simulator on 127.0.0.1 on the bot's clock (a new one, or the one
    ``embedded`` resumes); yield where it is.

    It is stopped after the actor tree, so the actors never see it vanish under them; after
    a clean stop it is saved first.
    """
    from exchange.sim import simulator_for

    sim = simulator_for(settings, clock).start(resume=embedded.resume)
    try:
        products = load_products(settings, sim.rest_url)
        yield Venue(
            rest_url=sim.rest_url,
            ws_url=sim.ws_url,
            public_ws_url=sim.public_ws_url,
            api_key=Secret(sim.api_key),
            api_secret=Secret(sim.api_secret),
            products=products,
            freeze=sim.market.stop,
        )
    finally:
        try:
            embedded.save(sim)
        finally:
            sim.stop()


def load_products(settings: Settings, rest_url: str) -> dict[str, Product]:
    """The venue's perpetual products, over public REST."""
    from exchange.delta import DeltaRestClient

    rest = DeltaRestClient(
        rest_url, api_key=None, api_secret=None, settings=settings.exchange, clock=WallClock()
    )
    try:
        return rest.load_products()
    finally:
        rest.close()


def run_tree(
    runtime: ThreadedRuntime,
    root: ChildSpec,
    *,
    duration_s: float | None,
    stop: threading.Event,
    notifier: SystemdNotifier | None = None,
    stopping: Callable[[], None] | None = None,
) -> int:
    """Start ``root``, wait for a stop request, the duration or root failure; return exit code.

    The wait is bounded by ``duration_s`` when given; a stop request (signal) or the root
    supervisor giving up ends it early. ``stopping`` runs just before the tree shuts down.
    Always shuts the tree down in reverse order.
    """
    try:
        runtime.start_root(root)
    except Exception as error:
        log.critical("could not start: %s", error)
        runtime.shutdown()
        return EXIT_FAILED
    if notifier is not None:
        notifier.ready()  # the root supervisor answered: the tree is up
    deadline = None if duration_s is None else time.monotonic() + duration_s
    while not stop.is_set():
        remaining = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        if remaining <= 0 or runtime.wait(remaining):
            break
    failed = runtime.root_failure is not None
    if stopping is not None:
        stopping()
    if notifier is not None:
        notifier.stopping()
    alive = runtime.shutdown()
    if failed:
        log.critical("stopped: root supervisor gave up: %s", runtime.root_failure)
        return EXIT_FAILED
    if alive:
        log.error("actors still alive at exit (a bug): %s", ", ".join(alive))
    return EXIT_OK


def keep_large_blocks_mapped(settings: Settings) -> None:
    """Fix glibc's mmap threshold, before any thread starts, unless ``health.memory_trim_s``
    is 0 (which leaves glibc alone): see ``actors.ops._memory``."""
    if settings.health.memory_trim_s > 0:
        from actors.ops import fix_mmap_threshold

        log.debug("glibc mmap threshold fixed: %s", fix_mmap_threshold())


def command_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until a signal, --duration or a fatal failure."""
    state_dir = Path(settings.storage.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(settings, state_dir)
    keep_large_blocks_mapped(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping gracefully", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    refusal = mode_refusal(settings)
    if refusal:
        print(f"bot.py: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    from exchange.sim import CandleDataError, read_venue_file

    urls: dict[str, str] | None = None
    clock: Clock = WallClock()  # paper and live: the exchange's own URLs, real time
    if settings.bot.mode != "sim":
        endpoints = endpoints_for(settings.exchange)
        urls = {
            "rest_url": endpoints.rest_url,
            "ws_url": endpoints.ws_url,
            "public_ws_url": endpoints.public_ws_url,
        }
    elif args.venue is not None:
        try:
            urls, clock = read_venue_file(args.venue)  # the running simulator's clock
        except ValueError as error:
            print(f"bot.py: {error}", file=sys.stderr)
            return EXIT_USAGE
    try:
        lock = storage.StateLock(state_dir)
        lock.acquire()
    except storage.StorageError as error:
        print(f"bot.py: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        embedded = EmbeddedState(state_dir, settings) if urls is None else None
        if embedded is not None:
            clock = embedded.prepare()  # one clock for its market and the actors
        runtime = ThreadedRuntime(
            clock=clock,
            seed=settings.sim.seed,
            unresponsive_after_ns=settings.health.unresponsive_after_ms * _MS,
        )
        with (
            open_state(state_dir, settings) as store,
            venue_for(settings, clock, urls, embedded=embedded) as venue,
        ):
            code = run_with_state(
                args, settings, runtime=runtime, store=store, venue=venue, stop=stop
            )
            if embedded is not None and code == EXIT_OK:
                embedded.stopped_cleanly(store.last_seq())  # the simulator is saved on exit
            return code
    except CandleDataError as error:  # --data / sim.data_dir: the user's input
        print(f"bot.py: sim.data_dir: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ExchangeError as error:
        where = urls["rest_url"] if urls else "the simulator"
        print(f"bot.py: cannot start against {where}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (storage.StorageError, ValueError) as error:
        print(f"bot.py: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lock.release()


def mode_refusal(settings: Settings) -> str | None:
    """Why this mode may not start, or None: live needs its keys in the environment (its
    explicit confirmation, ``--confirm-live`` = ``bot.live_confirm``, is a settings rule)."""
    if settings.bot.mode != "live":
        return None
    secrets = settings.secrets
    if secrets.delta_api_key is None or secrets.delta_api_secret is None:
        return (
            "bot.mode = live needs DELTA_API_KEY and DELTA_API_SECRET in the environment "
            "(never in settings.toml)"
        )
    return None


class EmbeddedState:
    """The embedded simulator across runs: resumed when it was saved at the clean stop that
    left the bot's state as it is, else a new exchange (and the old state moved aside).

    A clean stop saves the whole simulated exchange with the bot's journal sequence
    (``simulator.pickle``); the next start resumes it only if the bot's journal still ends
    there, so the bot and its exchange always agree on what happened. After a crash or a
    kill the simulator could not be saved: the bot's state is moved aside (kept, never
    deleted) and both start new.
    """

    FILE = "simulator.pickle"

    def __init__(self, state_dir: Path, settings: Settings) -> None:
        self.state_dir, self.settings = state_dir, settings
        self.resume: SavedExchange | None = None
        self.journal_seq: int | None = None

    def prepare(self) -> ScaledClock:
        """Decide resume or new; return the clock (resumed: from the saved market time)."""
        from exchange.sim import sim_clock, sim_fingerprint
        from exchange.sim._persist import SimStateError, load_exchange

        path, data = self.state_dir / self.FILE, self.state_dir / "data.mdb"
        why = "the last run did not stop cleanly, so its simulator was not saved"
        if path.exists() and data.exists():
            try:
                saved = load_exchange(path)
            except SimStateError as error:
                saved, why = None, str(error)
            if saved is not None:
                with storage.Store.open(self.state_dir, self.settings.storage) as store:
                    seq = store.last_seq()
                if saved.fingerprint != sim_fingerprint(self.settings):
                    why = "the [sim] settings or candle files changed since it was saved"
                elif saved.journal_seq != seq:
                    why = f"it was saved at journal seq {saved.journal_seq}, the state is at {seq}"
                else:
                    self.resume = saved
        if self.resume is not None:
            log.info("embedded simulator: resuming the exchange saved at journal seq %d", seq)
            path.unlink()  # used once: a kill from now on must not resume it again
            speed = self.settings.sim.speed * TIMEFRAME_SECONDS[self.settings.bot.timeframe]
            return ScaledClock(speed=speed, start_ns=self.resume.clock_ns)
        self._set_aside(data, path, why)
        return sim_clock(self.settings)

    def stopped_cleanly(self, journal_seq: int) -> None:
        """The tree stopped cleanly at ``journal_seq``: save the simulator as it exits."""
        self.journal_seq = journal_seq

    def save(self, sim: SimExchange) -> None:
        """Save ``sim`` if the run stopped cleanly (called before it stops)."""
        from exchange.sim._persist import save_exchange

        if self.journal_seq is None:
            return
        save_exchange(self.state_dir / self.FILE, sim.saved(self.journal_seq))
        log.info("embedded simulator: saved at journal seq %d for the next run", self.journal_seq)

    def _set_aside(self, data: Path, path: Path, why: str) -> None:
        """A new exchange: the bot's old state (and an unusable saved simulator) is moved
        aside, kept, never deleted."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        if path.exists():
            path.rename(path.with_name(f"{path.name}.previous-run-{stamp}"))
        if not data.exists():
            return
        aside = data.with_name(f"data.mdb.previous-run-{stamp}")
        data.rename(aside)
        log.warning(
            "embedded simulator: a new exchange, so the previous run's state was moved to %s (%s)",
            aside,
            why,
        )


@contextlib.contextmanager
def open_state(state_dir: Path, settings: Settings) -> Iterator[storage.Store]:
    """Open (and check) the LMDB state; a damaged one raises before anything trades."""
    store = storage.Store.open(state_dir, settings.storage)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def venue_for(
    settings: Settings,
    clock: Clock,
    urls: dict[str, str] | None,
    *,
    embedded: EmbeddedState | None = None,
) -> Iterator[Venue]:
    """The exchange at ``urls`` (paper, live, or --venue's simulator), else an embedded one.

    Keys: live uses DELTA_API_KEY/DELTA_API_SECRET; paper needs none (its orders never leave
    the process); a simulator takes its documented demo pair.
    """
    if urls is None:
        assert isinstance(clock, ScaledClock) and embedded is not None
        with embedded_simulator(settings, clock, embedded) as venue:
            yield venue
        return
    mode = settings.bot.mode
    key, secret = Secret(settings.sim.api_key), Secret(settings.sim.api_secret)
    if mode == "live":
        assert settings.secrets.delta_api_key and settings.secrets.delta_api_secret
        key, secret = settings.secrets.delta_api_key, settings.secrets.delta_api_secret
    elif mode == "paper":
        key = secret = Secret("paper-mode-sends-no-orders")
    yield Venue(
        rest_url=urls["rest_url"],
        ws_url=urls["ws_url"],
        public_ws_url=urls["public_ws_url"],
        api_key=key,
        api_secret=secret,
        products=load_products(settings, urls["rest_url"]),
    )


def run_with_state(
    args: argparse.Namespace,
    settings: Settings,
    *,
    runtime: ThreadedRuntime,
    store: storage.Store,
    venue: Venue,
    stop: threading.Event,
) -> int:
    """Build the tree on the open state and the venue; run it until told to stop."""
    speed = runtime.clock.speed if isinstance(runtime.clock, ScaledClock) else 1.0
    log.info(
        "starting: mode %s, symbols %s, timeframe %s, clock %gx, state %s, "
        "exchange %s, health every %d s",
        settings.bot.mode,
        ",".join(settings.bot.symbols),
        settings.bot.timeframe,
        speed,
        Path(settings.storage.state_dir).resolve(),
        venue.rest_url,
        settings.health.report_interval_s,
    )
    log.info("state: journal seq %d, %s", store.last_seq(), store.data_file)
    try:  # loads the compiled indicator kernels; a first start builds them (~20 s, once)
        log.info("indicator kernels: %s", indicators.kernel_origin())
    except indicators.IndicatorConfigError as error:
        print(f"bot.py: {error}", file=sys.stderr)
        return EXIT_USAGE
    from actors.console import ThreadedView

    view = ThreadedView(runtime)
    notifier = SystemdNotifier.from_env()
    tree = build_tree(
        settings, clock_speed=speed, venue=venue, store=store, view=view, notifier=notifier
    )
    try:
        code = run_tree(
            runtime,
            tree,
            duration_s=args.duration,
            stop=stop,
            notifier=notifier,
            stopping=venue.freeze,
        )
    finally:
        view.close()
    log.info("stopped with exit status %d", code)
    return code


def command_sim(args: argparse.Namespace, settings: Settings) -> int:
    """Run the exchange simulator alone, printing its URLs, until Ctrl-C or --duration."""
    from exchange.sim import run_standalone

    configure_logging(settings, Path(settings.storage.state_dir))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    return run_standalone(settings, duration_s=args.duration, stop=stop, venue_file=args.venue_file)


def command_snapshot(args: argparse.Namespace, settings: Settings) -> int:
    """List, show, export (readers: safe beside a running bot), restore or forget (these two
    take the lock: the bot must be stopped)."""
    level = settings.logging.level if args.log_level else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    state_dir = Path(settings.storage.state_dir)
    try:
        if args.action == "restore":
            if not args.file.is_file():
                raise storage.ExportFormatError(f"{args.file}: no such file", path=str(args.file))
            with storage.StateLock(state_dir):
                kept = storage.restore(state_dir, args.file, settings.storage)
                with storage.Store.open(state_dir, settings.storage) as store:
                    data = storage.listing(store)
            print(f"restored {state_dir / 'data.mdb'} from {args.file}")
            aside = f"moved aside to {kept} (delete it when satisfied)" if kept else "none"
            print(f"old data: {aside}")
            print(storage.summary_text(data))
            return EXIT_OK
        if args.action == "forget":
            with (
                storage.StateLock(state_dir),
                storage.open_existing(state_dir, settings.storage) as store,
            ):
                storage.snapshot_json(store, args.actor_id)  # unknown: named, with the closest
                store.forget_snapshot(args.actor_id)
                store.flush()
            print(f"forgot the snapshot of {args.actor_id} in {state_dir / 'data.mdb'}")
            return EXIT_OK
        with storage.open_existing(state_dir, settings.storage) as store:
            if args.action == "list":
                data = storage.listing(store)
                if args.json:
                    print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
                else:
                    print("\n".join(storage.format_listing(data)))
            elif args.action == "show":
                doc = storage.snapshot_json(store, args.actor_id)
                print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
            else:
                records = store.export(args.file)
                print(f"exported {records} records from {state_dir} to {args.file}")
    except (storage.StorageError, OSError) as error:
        print(f"bot.py snapshot {args.action}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load(args)
    except SettingsError as error:
        print(f"bot.py: invalid settings:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "sim":
        return command_sim(args, settings)
    if args.command == "snapshot":
        return command_snapshot(args, settings)
    if args.command == "console":
        return command_console(args, settings)
    if args.command == "backtest":
        from actors.backtest._cli import command_backtest

        configure_logging(settings, Path(settings.storage.state_dir))
        return command_backtest(args, settings)
    return command_run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
