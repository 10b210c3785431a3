"""Typed, validated settings, layered from code defaults, settings.toml, the environment and --set.

Each ``[section]`` of ``settings.toml`` becomes a frozen, slotted, keyword-only dataclass whose
field defaults are the defaults, so the file may omit keys and a missing file means all
defaults. :func:`load_settings` applies the layers, lowest precedence first:

1. defaults in code (the dataclass fields below);
2. the TOML file;
3. environment variables ``BOT_<SECTION>__<KEY>``, e.g. ``BOT_RISK__MAX_LEVERAGE=2``;
4. command-line overrides ``--set section.key=value``, in the order given.

Environment and ``--set`` values are text, parsed by the field's type (:func:`parse_value`).
Every problem (TOML syntax, unknown section or key, wrong type, out of range, cross-field rule,
a secret outside the environment) is collected and raised together in one
:class:`SettingsError`, one line per problem, each naming key, value, expectation and source::

    risk.max_leverage: expected a number from 1 to 100, was 250 (from BOT_RISK__MAX_LEVERAGE)

Secrets (``DELTA_API_KEY``, ``DELTA_API_SECRET``, ``BOT_CONSOLE_TOKEN``) come only from the
environment, are wrapped in :class:`Secret`, and never appear in a repr, str,
:meth:`Settings.to_dict` or error message.

The code is pure: it reads the one file and nothing else, never logs and keeps no state, so any
thread may call it. ``bot.py`` calls :func:`load_settings` once at start; on
:class:`SettingsError` it prints the message and exits non-zero.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hmac
import ipaddress
import itertools
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar, get_type_hints

from messages._errors import BotError

__all__ = [
    "SECRET_ENV_VARS",
    "SECTIONS",
    "BotSettings",
    "ConsoleSettings",
    "ExchangeSettings",
    "ExecutionSettings",
    "HealthSettings",
    "HedgeSettings",
    "KeyRules",
    "KeySpec",
    "LoggingSettings",
    "RiskSettings",
    "Secret",
    "Secrets",
    "Settings",
    "SettingsError",
    "SimSettings",
    "StorageSettings",
    "StrategySettings",
    "SupervisionSettings",
    "cross_field_rules",
    "describe",
    "format_value",
    "load_settings",
    "parse_value",
    "toml_value",
]

_T = TypeVar("_T")

SECRET_ENV_VARS: Final = ("DELTA_API_KEY", "DELTA_API_SECRET", "BOT_CONSOLE_TOKEN")
"""The only way secrets reach the bot: these environment variables."""

_SECRET_KEYS: Final = {
    "api_key": "DELTA_API_KEY",
    "delta_api_key": "DELTA_API_KEY",
    "api_secret": "DELTA_API_SECRET",
    "delta_api_secret": "DELTA_API_SECRET",
    "token": "BOT_CONSOLE_TOKEN",
    "console_token": "BOT_CONSOLE_TOKEN",
}
_SYMBOLS = {"pattern": r"[A-Z][A-Z0-9]{1,19}", "what": 'upper-case symbols such as "BTCUSD"'}
_HOST = {"pattern": r"[A-Za-z0-9._:-]+", "what": 'a host name or IP address, e.g. "127.0.0.1"'}
_PATH = {"pattern": r"[^\x00]*", "what": "a path (relative to the working directory)"}
_TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "1d")


class SettingsError(BotError):
    """Raised when settings.toml, the ``BOT_*`` environment or ``--set`` overrides are invalid.

    Its place in the error tree (``messages._errors`` draws the rest)::

        BotError
        `- SettingsError   settings.toml, BOT_* variables or --set overrides are invalid

    Raised by :func:`load_settings` only, after every layer was read, so it lists every
    problem at once. ``str(error)`` is the operator-facing report; ``error.problems`` holds one
    line per problem. No secret value is ever part of it. The caller prints it and exits
    non-zero: there is no partial result to continue with.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        head = f"invalid settings ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n  ".join((head, *self.problems)))


class Secret:
    """A secret string: repr and str are ``Secret('***')``; only :meth:`reveal` gives the value.

    A Secret refuses to be pickled (so it cannot land in a snapshot); copying returns itself.
    Equality is constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a Secret needs a non-empty str")
        self._value = value

    def reveal(self) -> str:
        """Return the secret. Call it only where the value is used (signing, auth checks)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is never pickled or snapshotted")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRules:
    """What a key accepts beyond its type: bounds, choices, an item pattern, list shape."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    what: str = ""
    nonempty: bool = False
    unique: bool = False


def _key(default: _T, unit: str, *, doc: str, **rules: Any) -> _T:
    """Declare a settings key: its default, unit, one-line doc and :class:`KeyRules`."""
    return field(default=default, metadata={"unit": unit, "doc": doc, "rules": KeyRules(**rules)})


# The schema: one key per two lines (declaration, then doc), laid out by hand.
# fmt: off


@dataclass(frozen=True, slots=True, kw_only=True)
class BotSettings:
    """What the process trades, on which candles, and in which mode."""

    mode: str = _key("sim", "choice", choices=("sim", "paper", "live"),
        doc='"sim": simulator, no keys; "paper": real data, local fills; "live": real orders')
    symbols: tuple[str, ...] = _key(("BTCUSD", "ETHUSD", "SOLUSD"), "symbols",
        nonempty=True, unique=True, **_SYMBOLS,
        doc="Perpetuals to trade; each gets its own feed, book, indicators and strategy")
    timeframe: str = _key("15m", "choice", choices=_TIMEFRAMES,
        doc="Candle resolution the strategy trades on")
    live_confirm: bool = _key(False, "flag",
        doc='Must be true when mode is "live": a second switch against trading by accident')
    summary_interval_s: int = _key(3600, "s", ge=10, le=86400,
        doc="How often a one-line trading summary (equity, PnL, positions) is logged")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeSettings:
    """Delta Exchange venue, REST limits, retries and stream keepalive."""

    region: str = _key("india", "choice", choices=("india", "global"),
        doc='"india" (Delta Exchange India) or "global"; keys, product ids and hosts differ')
    testnet: bool = _key(False, "flag",
        doc="Use the venue's testnet (demo) hosts; testnet keys are separate")
    rest_url: str = _key("", "URL", pattern=r"(https?://\S+)?",
        what='"" or a URL starting with http:// or https://',
        doc='REST base URL override; "" derives it from region and testnet')
    ws_url: str = _key("", "URL", pattern=r"(wss?://\S+)?",
        what='"" or a URL starting with ws:// or wss://',
        doc='Private WebSocket URL override; "" derives it from region and testnet')
    public_ws_url: str = _key("", "URL", pattern=r"(wss?://\S+)?",
        what='"" or a URL starting with ws:// or wss://',
        doc='Market-data WebSocket URL override; "" derives it from region and testnet')
    rest_timeout_ms: int = _key(10000, "ms", ge=100, le=120000,
        doc="Timeout of one REST request, connect to last byte")
    rate_limit_weight_per_5min: int = _key(10000, "weight per 5 min", ge=1, le=100000,
        doc="REST weight budget per fixed 5-minute window (Delta's quota is 10000)")
    max_retries: int = _key(3, "count", ge=0, le=20,
        doc="Retries of a retryable REST failure (timeout, 429, 5xx) before it is reported")
    backoff_initial_ms: int = _key(500, "ms", ge=1, le=600000,
        doc="First retry or reconnect delay; doubles with jitter up to backoff_max_ms")
    backoff_max_ms: int = _key(30000, "ms", ge=1, le=600000,
        doc="Cap on the retry and reconnect delay")
    circuit_breaker_failures: int = _key(5, "count", ge=1, le=1000,
        doc="Consecutive REST failures that open the circuit breaker (then fail fast)")
    circuit_breaker_reset_s: int = _key(60, "s", ge=1, le=3600,
        doc="Time the breaker stays open before one trial request is let through")
    ws_heartbeat_timeout_s: int = _key(35, "s", ge=31, le=600,
        doc="Reconnect a WebSocket silent for this long (Delta heartbeats every 30 s)")
    reconnect_max_retries: int = _key(10, "count", ge=1, le=1000,
        doc="Consecutive failed reconnects after which a stream fails to its supervisor")
    book_stale_after_ms: int = _key(10000, "ms", ge=100, le=600000,
        doc="A book without updates for this long is marked stale and resynced")
    history_candles: int = _key(1400, "candles", ge=1, le=100000,
        doc="Candles per symbol fetched at start to warm up indicators; >= strategy.ema_trend")


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySettings:
    """Signal rules and indicator parameters; an IndicatorSet is built from these names."""

    ema_fast: int = _key(9, "candles", ge=1, le=1000,
        doc="Fast EMA period; its cross of ema_mid triggers an entry")
    ema_mid: int = _key(21, "candles", ge=1, le=1000,
        doc="Middle EMA period")
    ema_slow: int = _key(50, "candles", ge=1, le=1000,
        doc="Slow EMA period; fast > mid > slow is an aligned uptrend")
    ema_trend: int = _key(200, "candles", ge=1, le=1000,
        doc="Trend EMA period; with trend_filter, longs need close above it, shorts below")
    rsi_period: int = _key(14, "candles", ge=2, le=500,
        doc="RSI period")
    atr_period: int = _key(14, "candles", ge=1, le=500,
        doc="ATR period; the stop is risk.stop_atr_multiple x ATR from entry")
    adx_period: int = _key(14, "candles", ge=2, le=500,
        doc="ADX (trend strength) period")
    macd_fast: int = _key(12, "candles", ge=1, le=500,
        doc="MACD fast EMA period")
    macd_slow: int = _key(26, "candles", ge=1, le=500,
        doc="MACD slow EMA period")
    macd_signal: int = _key(9, "candles", ge=1, le=500,
        doc="MACD signal line period")
    bb_period: int = _key(20, "candles", ge=2, le=500,
        doc="Bollinger band period")
    bb_stddev: float = _key(2.0, "std devs", gt=0, le=10,
        doc="Bollinger band half-width")
    pivot_mode: str = _key("candles", "choice", choices=("candles", "utc_day"),
        doc='Pivots from the last pivot_lookback_candles ("candles") or the previous UTC day')
    pivot_lookback_candles: int = _key(14, "candles", ge=1, le=1000,
        doc='Candles behind a pivot when pivot_mode is "candles"')
    pivot_buffer_pct: float = _key(0.5, "% of price", ge=0, le=50,
        doc="Skip an entry whose next pivot (resistance or support) is closer than this")
    trend_filter: bool = _key(True, "flag",
        doc="Trade only in the direction of ema_trend")
    rsi_long_min: float = _key(60.0, "RSI points", ge=50, le=100,
        doc="A long needs RSI at least this")
    rsi_long_max: float = _key(70.0, "RSI points", ge=50, le=100,
        doc="A long needs RSI at most this (not overbought)")
    rsi_short_max: float = _key(40.0, "RSI points", ge=0, le=50,
        doc="A short needs RSI at most this")
    rsi_short_min: float = _key(30.0, "RSI points", ge=0, le=50,
        doc="A short needs RSI at least this (not oversold)")


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSettings:
    """Position sizing and portfolio limits; the drawdown kill switch latches."""

    risk_per_trade_pct: Decimal = _key(Decimal("1.5"), "% of equity", gt=0, le=10,  # noqa: RUF009 - returns a Field
        doc="Equity lost if a trade hits its stop; sizes every entry")
    risk_min_pct: Decimal = _key(Decimal("1.0"), "% of equity", gt=0, le=10,  # noqa: RUF009 - returns a Field
        doc="Lowest per-trade risk the sizer may scale down to")
    risk_max_pct: Decimal = _key(Decimal("2.0"), "% of equity", gt=0, le=10,  # noqa: RUF009 - returns a Field
        doc="Highest per-trade risk the sizer may scale up to")
    stop_atr_multiple: float = _key(2.0, "x ATR", gt=0, le=20,
        doc="Stop distance from entry")
    reward_risk: float = _key(2.0, "x stop distance", gt=0, le=20,
        doc="Take-profit distance (2.0 means 2:1 reward:risk)")
    max_leverage: float = _key(1.0, "x equity", ge=1, le=100,
        doc="Cap on total open notional")
    max_open_positions: int = _key(5, "positions", ge=1, le=100,
        doc="Open positions across all symbols (hedges not counted)")
    max_positions_per_symbol: int = _key(1, "positions", ge=1, le=10,
        doc="Open positions in one symbol")
    daily_loss_pct: Decimal = _key(Decimal("5.0"), "% of equity", gt=0, le=100,  # noqa: RUF009 - returns a Field
        doc="Loss since 00:00 UTC that blocks new entries until the next UTC day")
    max_drawdown_pct: Decimal = _key(Decimal("10.0"), "% of peak equity", gt=0, le=100,  # noqa: RUF009 - returns a Field
        doc="Drawdown that flattens everything and halts trading until an operator resumes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSettings:
    """Order placement: post-only pricing, retries and entry timeouts."""

    price_offset_ticks: int = _key(1, "ticks", ge=0, le=1000,
        doc="Post-only entries rest this far behind the best bid or ask; 0 joins it")
    post_only_max_retries: int = _key(3, "count", ge=0, le=100,
        doc="Reprices of a post-only order rejected for crossing before the entry is dropped")
    entry_timeout_s: int = _key(900, "s", ge=1, le=86400,
        doc="How long an entry order may rest unfilled")
    on_entry_timeout: str = _key("cancel", "choice", choices=("cancel", "reprice"),
        doc='Then "cancel" it, or "reprice" it to the best price and wait again')


@dataclass(frozen=True, slots=True, kw_only=True)
class HedgeSettings:
    """Correlation hedge, opened in chunks when a position's loss nears its stop."""

    enabled: bool = _key(True, "flag",
        doc="Hedge losing positions")
    trigger_stop_fraction: float = _key(0.5, "fraction of stop distance", gt=0, le=1,
        doc="Open a hedge when a position's loss reaches this much of its stop distance")
    size_fraction: float = _key(0.5, "fraction of parent notional", gt=0, le=1,
        doc="Hedge size")
    chunks: int = _key(3, "count", ge=1, le=20,
        doc="The hedge opens in this many equal chunks")
    chunk_interval_s: int = _key(60, "s", ge=0, le=3600,
        doc="Delay between hedge chunks")
    take_profit_pct: Decimal = _key(Decimal("1.0"), "% of hedge notional", gt=0, le=100,  # noqa: RUF009 - returns a Field
        doc="Close the hedge when its own profit reaches this")
    rehedge_step_fraction: float = _key(0.5, "fraction of stop distance", gt=0, le=1,
        doc="After a hedge takes profit, hedge again when the loss grows by this much more")
    max_hedges_per_position: int = _key(3, "count", ge=1, le=20,
        doc="Hedges opened over one position's life")
    priority: tuple[str, ...] = _key(("BTCUSD", "ETHUSD", "SOLUSD"), "symbols",
        unique=True, **_SYMBOLS,
        doc="Hedge instruments, best first, each in bot.symbols; first correlated enough wins")
    correlation_window_days: int = _key(30, "days", ge=1, le=365,
        doc="Window of the rolling return correlation")
    min_correlation: float = _key(0.5, "abs correlation", ge=0, le=1,
        doc="Smallest absolute return correlation for a hedge instrument")


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageSettings:
    """LMDB state: snapshots, journal, backups."""

    state_dir: str = _key("data", "path", nonempty=True, **_PATH,
        doc="Directory of the LMDB environment, backups and health file")
    map_size_mb: int = _key(256, "MiB", ge=1, le=1048576,
        doc="Initial LMDB map size")
    map_size_max_mb: int = _key(4096, "MiB", ge=1, le=1048576,
        doc="Largest the map may grow to (it doubles when full)")
    backup_interval_s: int = _key(3600, "s", ge=0, le=604800,
        doc="How often a consistent copy goes to state_dir/backups; 0 disables backups")
    backups_keep: int = _key(24, "count", ge=1, le=1000,
        doc="Backups kept; older ones are deleted")
    snapshot_interval_s: int = _key(60, "s", ge=1, le=86400,
        doc="How often each stateful actor snapshots itself (the journal covers the gap)")
    commit_batch_ms: int = _key(50, "ms", ge=0, le=10000,
        doc="Journal writes within this window share one commit; 0 commits each write")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSettings:
    """Telnet admin console: token-protected, read-only unless allow_control."""

    enabled: bool = _key(True, "flag",
        doc="Run the admin console (it also needs BOT_CONSOLE_TOKEN at start)")
    host: str = _key("127.0.0.1", "host", **_HOST,
        doc="Listen address; a non-loopback address needs allow_remote = true")
    port: int = _key(8023, "TCP port", ge=0, le=65535,
        doc="Listen port; 0 picks a free port (logged at start)")
    allow_control: bool = _key(False, "flag",
        doc="Allow commands that change state: pause, resume, flatten, restart, kill")
    allow_remote: bool = _key(False, "flag",
        doc="Allow host to be a non-loopback address")
    command_timeout_ms: int = _key(300, "ms", ge=10, le=60000,
        doc="Longest a command waits for actors to answer")
    max_sessions: int = _key(4, "count", ge=1, le=100,
        doc="Concurrent console sessions")
    max_line_bytes: int = _key(4096, "bytes", ge=64, le=1048576,
        doc="Longest input line; a longer one closes the session")


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthSettings:
    """Periodic health report, /healthz and Prometheus /metrics."""

    report_interval_s: int = _key(60, "s", ge=1, le=86400,
        doc="How often the health report is logged as a JSON line and written to state_dir")
    http_enabled: bool = _key(True, "flag",
        doc="Serve /healthz and /metrics over HTTP")
    http_host: str = _key("127.0.0.1", "host", **_HOST,
        doc="HTTP listen address; a non-loopback address needs allow_remote = true")
    http_port: int = _key(8024, "TCP port", ge=0, le=65535,
        doc="HTTP listen port; 0 picks a free port")
    allow_remote: bool = _key(False, "flag",
        doc="Allow http_host to be a non-loopback address")
    unresponsive_after_ms: int = _key(5000, "ms", ge=100, le=600000,
        doc="An actor that has not answered a health ping for this long is unresponsive")


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionSettings:
    """Supervisor restart intensity, restart backoff and shutdown."""

    max_restarts: int = _key(3, "count", ge=0, le=1000,
        doc="More restarts than this within within_s: stop the children and escalate")
    within_s: int = _key(5, "s", ge=1, le=3600,
        doc="Window of the restart intensity")
    backoff_initial_ms: int = _key(100, "ms", ge=0, le=600000,
        doc="Delay before restarting a failed child; doubles with jitter per restart")
    backoff_max_ms: int = _key(10000, "ms", ge=0, le=600000,
        doc="Cap on the restart delay")
    backoff_reset_after_s: int = _key(60, "s", ge=1, le=86400,
        doc="A child that has run this long starts again from backoff_initial_ms")
    shutdown_timeout_ms: int = _key(5000, "ms", ge=100, le=600000,
        doc="Wait for each child to stop before logging it as stuck and moving on")


@dataclass(frozen=True, slots=True, kw_only=True)
class SimSettings:
    """Embedded exchange simulator (mode "sim"): market, fees, ports and fault injection."""

    seed: int = _key(42, "seed", ge=0, le=2**63 - 1,
        doc="Seed of the market generator, matching and faults; same seed, same run")
    speed: float = _key(1.0, "candle periods per real second", gt=0, le=100000,
        doc="Clock rate: 1.0 plays one bot.timeframe candle per real second")
    rest_port: int = _key(0, "TCP port", ge=0, le=65535,
        doc="Simulator REST port on 127.0.0.1; 0 picks a free port")
    ws_port: int = _key(0, "TCP port", ge=0, le=65535,
        doc="Simulator WebSocket port on 127.0.0.1; 0 picks a free port")
    starting_balance: Decimal = _key(Decimal("10000"), "USD", gt=0, le=10**12,  # noqa: RUF009 - returns a Field
        doc="Wallet balance of the simulated account at start")
    api_key: str = _key("sim-demo-key", "text", nonempty=True,
        doc="The simulator's documented local demo key; not a secret")
    api_secret: str = _key("sim-demo-secret", "text", nonempty=True,
        doc="The simulator's documented local demo secret; not a secret")
    data_dir: str = _key("", "path", **_PATH,
        doc='Directory of candle files to replay; "" uses the built-in market generator')
    fee_maker_pct: Decimal = _key(Decimal("0.02"), "% of notional", ge=-1, le=1,  # noqa: RUF009 - returns a Field
        doc="Maker fee; negative is a rebate")
    fee_taker_pct: Decimal = _key(Decimal("0.05"), "% of notional", ge=0, le=1,  # noqa: RUF009 - returns a Field
        doc="Taker fee")
    latency_ms: int = _key(0, "ms", ge=0, le=60000,
        doc="Delay added before every REST response and WebSocket frame")
    drop_connection_rate: float = _key(0.0, "probability per WS frame", ge=0, le=1,
        doc="Chance the simulator closes a WebSocket after a frame")
    book_gap_rate: float = _key(0.0, "probability per book update", ge=0, le=1,
        doc="Chance a book update is skipped, leaving a sequence gap")
    checksum_error_rate: float = _key(0.0, "probability per book update", ge=0, le=1,
        doc="Chance a book update carries a wrong CRC32 checksum")
    rest_error_rate: float = _key(0.0, "probability per request", ge=0, le=1,
        doc="Chance a REST request fails with HTTP 503")
    rate_limit_rate: float = _key(0.0, "probability per request", ge=0, le=1,
        doc="Chance a REST request is answered 429 with X-RATE-LIMIT-RESET")
    reject_order_rate: float = _key(0.0, "probability per order", ge=0, le=1,
        doc='Chance a valid order is rejected with error code "unavailable"')


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggingSettings:
    """Log level, format and optional rotating file; only bot.py configures logging."""

    level: str = _key("INFO", "choice",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        doc="Lowest level logged")
    format: str = _key("auto", "choice", choices=("auto", "human", "json"),
        doc='"human" text, "json" lines, or "auto": human on a terminal, json otherwise')
    file: str = _key("", "path", **_PATH,
        doc='Also log to this file, rotated at max_bytes; "" logs to stderr only')
    max_bytes: int = _key(10485760, "bytes", ge=1024, le=10**12,
        doc="Size at which the log file is rotated")
    backup_count: int = _key(5, "count", ge=0, le=1000,
        doc="Rotated log files kept")


# fmt: on


@dataclass(frozen=True, slots=True, kw_only=True)
class Secrets:
    """Secrets from the environment only; each is None when its variable is unset or empty."""

    delta_api_key: Secret | None = None
    delta_api_secret: Secret | None = None
    console_token: Secret | None = None


SECTIONS: Final[Mapping[str, type]] = {
    "bot": BotSettings,
    "exchange": ExchangeSettings,
    "strategy": StrategySettings,
    "risk": RiskSettings,
    "execution": ExecutionSettings,
    "hedge": HedgeSettings,
    "storage": StorageSettings,
    "console": ConsoleSettings,
    "health": HealthSettings,
    "supervision": SupervisionSettings,
    "sim": SimSettings,
    "logging": LoggingSettings,
}
"""Section name to dataclass, in file order. ``secrets`` is not a section: it is env-only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Every setting of the bot: one attribute per section, plus :attr:`secrets`.

    Build it with :func:`load_settings`; ``Settings()`` is all defaults and no secrets.
    """

    bot: BotSettings = field(default_factory=BotSettings)
    exchange: ExchangeSettings = field(default_factory=ExchangeSettings)
    strategy: StrategySettings = field(default_factory=StrategySettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    hedge: HedgeSettings = field(default_factory=HedgeSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    supervision: SupervisionSettings = field(default_factory=SupervisionSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    secrets: Secrets = field(default_factory=Secrets)

    def to_dict(self) -> dict[str, dict[str, object]]:
        """Return JSON-ready plain data for dumps and the console: Decimal as str, tuples as lists.

        Secrets are redacted: ``"***"`` when set, ``None`` when unset.
        """
        out: dict[str, dict[str, object]] = {
            name: {f.name: _plain(getattr(getattr(self, name), f.name)) for f in _fields(cls)}
            for name, cls in SECTIONS.items()
        }
        out["secrets"] = {
            f.name: None if getattr(self.secrets, f.name) is None else "***"
            for f in _fields(Secrets)
        }
        return out


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Decimal) else value


# --- schema -----------------------------------------------------------------------------------

_KINDS: Final[Mapping[object, str]] = {
    bool: "bool", int: "int", float: "float", str: "str", Decimal: "Decimal",
    tuple[str, ...]: "tuple[str, ...]", tuple[int, ...]: "tuple[int, ...]",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySpec:
    """One settings key as documented: the single source for settings.toml and docs/settings.md.

    Attributes:
        section: Section name, e.g. ``"risk"``.
        key: Key name inside the section, e.g. ``"max_leverage"``.
        type: The field's type: ``int``, ``float``, ``bool``, ``str``, ``Decimal``,
            ``tuple[str, ...]`` or ``tuple[int, ...]``.
        kind: The type's name as written in the docs, e.g. ``"tuple[str, ...]"``.
        default: The default value, as in code.
        unit: Unit of the value (``"ms"``, ``"% of equity"``, ``"flag"``, ``"choice"``, ...).
        doc: One-line meaning.
        rules: Bounds, choices and patterns beyond the type.
        expected: What the loader accepts, worded as in error messages.
    """

    section: str
    key: str
    type: object
    kind: str
    default: object
    unit: str
    doc: str
    rules: KeyRules
    expected: str

    @property
    def name(self) -> str:
        """``section.key``, as used by ``--set`` and in error messages."""
        return f"{self.section}.{self.key}"

    @property
    def env_var(self) -> str:
        """The environment variable that overrides this key: ``BOT_<SECTION>__<KEY>``."""
        return f"BOT_{self.section.upper()}__{self.key.upper()}"


def _expected(tp: object, rules: KeyRules) -> str:
    """Word what a key accepts, for error messages and the docs' "Allowed" column."""
    if tp is bool:
        return "true or false"
    if tp is str:
        if rules.choices:
            return "one of " + ", ".join(json.dumps(choice) for choice in rules.choices)
        return rules.what or ("a non-empty string" if rules.nonempty else "a string")
    if tp in (tuple[str, ...], tuple[int, ...]):
        items = rules.what or ("strings" if tp == tuple[str, ...] else "integers")
        shape = ("non-empty " if rules.nonempty else "") + "list of "
        return "a " + shape + ("unique " if rules.unique else "") + items
    noun = {int: "an integer", float: "a number", Decimal: "a decimal number"}[tp]  # type: ignore[index]  # tp: a number type
    if rules.ge is not None and rules.le is not None:
        return f"{noun} from {rules.ge} to {rules.le}"
    low = f"at least {rules.ge}" if rules.ge is not None else ""
    low = f"greater than {rules.gt}" if rules.gt is not None else low
    high = f"at most {rules.le}" if rules.le is not None else ""
    return " ".join((noun, " and ".join(part for part in (low, high) if part))).strip()


def _build_specs() -> dict[str, dict[str, KeySpec]]:
    specs: dict[str, dict[str, KeySpec]] = {}
    for section, cls in SECTIONS.items():
        hints = get_type_hints(cls)
        specs[section] = {}
        for f in _fields(cls):
            tp = hints[f.name]
            if tp not in _KINDS:
                raise TypeError(f"{section}.{f.name}: unsupported settings type {tp!r}")
            rules = f.metadata["rules"]
            specs[section][f.name] = KeySpec(
                section=section, key=f.name, type=tp, kind=_KINDS[tp], default=f.default,
                unit=f.metadata["unit"], doc=f.metadata["doc"], rules=rules,
                expected=_expected(tp, rules),
            )  # fmt: skip
    return specs


_SPECS: Final = _build_specs()


def describe() -> tuple[KeySpec, ...]:
    """Return every key of every section, in file order: the source for settings.toml and docs."""
    return tuple(spec for section in _SPECS.values() for spec in section.values())


# --- values as text and as TOML ---------------------------------------------------------------

_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


def parse_value(text: str, tp: object) -> Any:
    """Parse override text (an env var or ``--set`` value) as a value of type ``tp``.

    bool takes true/false/1/0/yes/no (any case); int, float and Decimal their Python literals
    (finite only); str is taken verbatim; tuples are comma-separated, items stripped, and ``""``
    is the empty tuple.

    Raises:
        ValueError: ``text`` is not a ``tp``; the message never repeats ``text``.
    """
    if tp in (tuple[str, ...], tuple[int, ...]):
        if not text.strip():
            return ()
        item_tp = str if tp == tuple[str, ...] else int
        return tuple(parse_value(item.strip(), item_tp) for item in text.split(","))
    if tp is str:
        return text
    if tp is bool:
        word = text.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("not a boolean")
    try:
        value: int | float | Decimal = (
            int(text) if tp is int else float(text) if tp is float else Decimal(text)
        )
    except (ValueError, InvalidOperation):
        raise ValueError(f"not a {_KINDS.get(tp, tp)}") from None
    if not _finite(value):
        raise ValueError("not finite")
    return value


def format_value(value: object) -> str:
    """Render a settings value as override text; :func:`parse_value` reads it back unchanged."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(format_value(item) for item in value)
    return repr(value) if isinstance(value, float) else str(value)


def toml_value(value: object) -> str:
    """Render a settings value as a TOML literal, as it appears in settings.toml and the docs."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Decimal) and not value.is_finite():
        return "nan" if value.is_nan() else "inf" if value > 0 else "-inf"
    return repr(value) if isinstance(value, float) else str(value)


def _finite(value: object) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return not isinstance(value, float) or math.isfinite(value)


class _WrongTypeError(Exception):
    """A TOML value of the wrong type; ``args[0]`` describes it, e.g. ``the string "60"``."""


def _typed(value: object) -> str:
    """Name a TOML value with its type, e.g. ``the string "60"``, for wrong-type messages."""
    if isinstance(value, dict):
        return "a table"
    words: dict[type, str] = {bool: "the boolean", int: "the integer", str: "the string"}
    word = "the float" if isinstance(value, Decimal | float) else words.get(type(value), "the")
    return f"{'the array' if isinstance(value, list) else word} {_show(value)}"


def _from_toml(value: object, tp: object) -> Any:
    """Convert a TOML value (floats parsed as Decimal) to ``tp``; raise _WrongTypeError if not."""
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and number and isinstance(value, int):
        return value
    if tp is float and number:
        return float(value)  # type: ignore[arg-type]  # number: int or Decimal
    if tp is Decimal and number:
        return Decimal(value)  # type: ignore[arg-type]  # number: int or Decimal
    if tp is str and isinstance(value, str):
        return value
    if tp in (tuple[str, ...], tuple[int, ...]) and isinstance(value, list):
        item_tp = str if tp == tuple[str, ...] else int
        for index, item in enumerate(value, 1):
            with contextlib.suppress(_WrongTypeError):
                _from_toml(item, item_tp)
                continue
            raise _WrongTypeError(f"{_show(value)}, whose item {index} is {_typed(item)}")
        return tuple(value)
    raise _WrongTypeError(_typed(value))


def _satisfies(value: object, rules: KeyRules) -> bool:
    if isinstance(value, tuple):
        if (rules.nonempty and not value) or (rules.unique and len(set(value)) != len(value)):
            return False
        return all(_item_ok(item, rules) for item in value)
    return not (rules.nonempty and value == "") and _item_ok(value, rules)


def _item_ok(value: object, rules: KeyRules) -> bool:
    if isinstance(value, str):
        return (not rules.choices or value in rules.choices) and (
            rules.pattern is None or re.fullmatch(rules.pattern, value) is not None
        )
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return True
    if not _finite(value):
        return False

    def bound(b: float) -> int | float | Decimal:
        return Decimal(str(b)) if isinstance(value, Decimal) else b

    return not (
        (rules.ge is not None and value < bound(rules.ge))
        or (rules.gt is not None and value <= bound(rules.gt))
        or (rules.le is not None and value > bound(rules.le))
    )


def _show(value: object, limit: int = 80) -> str:
    text = "a table" if isinstance(value, dict) else (
        "[" + ", ".join(_show(item) for item in value) + "]" if isinstance(value, list | tuple)
        else toml_value(value)
    )  # fmt: skip
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- loading ----------------------------------------------------------------------------------

_DEFAULT_RANK: Final = 0
_FILE_RANK: Final = 1
_ENV_RANK: Final = 2
_CLI_RANK: Final = 3


@dataclass(frozen=True, slots=True)
class _Raw:
    """One value as found in one layer: a TOML value, or override text (``rank`` > file)."""

    value: object
    source: str
    rank: int

    @property
    def is_text(self) -> bool:
        return self.rank > _FILE_RANK


def _line(name: str, problem: str, source: str) -> str:
    return f"{name}: {problem} ({source})"


def _from(raw: _Raw | None) -> str:
    return "default" if raw is None else f"from {raw.source}"


def _suggest(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean {close[0]}?" if close else "expected one of: " + ", ".join(options)


def _secret_problem(env_var: str | None) -> str:
    where = env_var or ", ".join(SECRET_ENV_VARS)
    return f"secrets are read only from the environment: set {where} instead"


def _locate(section: str, key: str, source: str, errors: list[str]) -> KeySpec | None:
    """Return the spec of ``section.key``, or add an error (secret, unknown section or key)."""
    name = f"{section}.{key}"
    env = _SECRET_KEYS.get(key) if section != "sim" else None
    if section == "secrets" or env is not None:
        errors.append(_line(name, _secret_problem(env), source))
        return None
    if section not in _SPECS:
        errors.append(
            _line(name, f"unknown section [{section}]; " + _suggest(section, list(_SPECS)), source)
        )
        return None
    spec = _SPECS[section].get(key)
    if spec is None:
        keys = list(_SPECS[section])
        homes = [f"{other}.{key}" for other in _SPECS if key in _SPECS[other]]
        close = difflib.get_close_matches(key, keys, n=1)
        hint = (
            f"did you mean {section}.{close[0]}?" if close
            else f"did you mean {homes[0]}?" if homes
            else "expected one of: " + ", ".join(keys)
        )  # fmt: skip
        errors.append(_line(name, f"unknown key; {hint}", source))
    return spec


def _read_file(path: Path, errors: list[str]) -> Iterator[tuple[KeySpec, _Raw]]:
    """Yield the keys of settings.toml (absent: none); floats are parsed as Decimal, exactly."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle, parse_float=Decimal)
    except FileNotFoundError:
        return
    except tomllib.TOMLDecodeError as exc:
        errors.append(f"{source}: invalid TOML: {exc}")
        return
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        errors.append(f"{source}: invalid TOML: not UTF-8 text (at line {line})")
        return
    except OSError as exc:
        errors.append(f"{source}: cannot read: {exc.strerror or exc}")
        return
    for section, table in data.items():
        if section == "secrets" or section in _SECRET_KEYS:
            problem = _secret_problem(_SECRET_KEYS.get(section))
        elif not isinstance(table, dict):
            homes = [f"{other}.{section}" for other in _SPECS if section in _SPECS[other]]
            problem = (
                f"expected a [{section}] table, was {_show(table)}" if section in _SPECS
                else f"a key outside any section; did you mean {homes[0]}?" if homes
                else "a key outside any section; " + _suggest(section, list(_SPECS))
            )  # fmt: skip
        elif section not in _SPECS:
            problem = f"unknown section [{section}]; " + _suggest(section, list(_SPECS))
        else:
            for key, value in table.items():
                spec = _locate(section, key, f"from {source}", errors)
                if spec is not None:
                    yield spec, _Raw(value, source, _FILE_RANK)
            continue
        errors.append(_line(section, problem, f"from {source}"))


def _read_environ(environ: Mapping[str, str], errors: list[str]) -> Iterator[tuple[KeySpec, _Raw]]:
    """Yield ``BOT_<SECTION>__<KEY>`` variables; BOT_ names without ``__`` are not overrides."""
    for var in sorted(environ):
        if not var.startswith("BOT_") or "__" not in var:
            continue
        section, _, key = var[4:].lower().partition("__")
        spec = _locate(section, key, f"from {var}", errors)
        if spec is not None:
            yield spec, _Raw(environ[var], var, _ENV_RANK)


def _read_overrides(overrides: Sequence[str], errors: list[str]) -> Iterator[tuple[KeySpec, _Raw]]:
    """Yield ``--set section.key=value`` arguments (given without the ``--set``)."""
    for override in overrides:
        name, equals, text = override.partition("=")
        name = name.strip()
        section, dot, key = name.partition(".")
        if not equals or not dot or not section or not key:
            missing = "no '='" if not equals else "no section, e.g. risk.max_leverage=2"
            homes = [f"{s}.{name}" for s in _SPECS if name in _SPECS[s]]
            hint = f"; did you mean --set {homes[0]}=...?" if homes and equals else ""
            shown = json.dumps(override if not equals else name + "=...")
            errors.append(f"--set {shown}: expected section.key=value, found {missing}{hint}")
            continue
        spec = _locate(section, key, f"from --set {name}", errors)
        if spec is not None:
            yield spec, _Raw(text, f"--set {name}", _CLI_RANK)


def _convert(spec: KeySpec, raw: _Raw) -> tuple[object, str | None]:
    """Return ``(value, None)``, or ``(None, problem)`` worded ``expected X, was Y``."""
    try:
        value = (
            parse_value(str(raw.value), spec.type)
            if raw.is_text
            else _from_toml(raw.value, spec.type)
        )
    except ValueError:
        return None, f"expected {spec.expected}, was {_show(raw.value)}"
    except _WrongTypeError as exc:
        return None, f"expected {spec.expected}, was {exc.args[0]}"
    if not _satisfies(value, spec.rules):
        return None, f"expected {spec.expected}, was {_shown(spec, value, raw)}"
    return value, None


def _shown(spec: KeySpec, value: object, raw: _Raw | None) -> str:
    """A value as the user wrote it: TOML as in the file, override text bare unless text-typed."""
    if raw is None:
        return _show(value)
    if raw.is_text and spec.type not in (str, tuple[str, ...]):
        return str(raw.value)
    return _show(value if raw.is_text else raw.value)


# --- cross-field rules ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _View:
    """Merged values by ``section.key``, with the layer each came from (absent: default)."""

    values: Mapping[str, Any]
    origins: Mapping[str, _Raw]
    failed: Set[str]

    def __getitem__(self, name: str) -> Any:
        """The merged value; raises _SkipError for a key whose own value was already wrong."""
        if name in self.failed:
            raise _SkipError(name)
        return self.values[name]

    def rank(self, name: str) -> int:
        raw = self.origins.get(name)
        return _DEFAULT_RANK if raw is None else raw.rank

    def show(self, name: str) -> str:
        section, _, key = name.partition(".")
        return _shown(_SPECS[section][key], self.values[name], self.origins.get(name))


_Problems = list[tuple[str, str]]  # (blamed section.key, expectation)


class _SkipError(Exception):
    """A rule touched a key already reported as wrong: the rule has nothing to add."""


@dataclass(frozen=True, slots=True)
class _Rule:
    doc: str
    check: Callable[[_View], _Problems]


def _ordered(*names: str, strict: bool = True) -> _Rule:
    """``a < b < c`` (or ``<=``); blames the key set by the higher layer (the later on a tie)."""

    def check(v: _View) -> _Problems:
        problems: _Problems = []
        for a, b in itertools.pairwise(names):
            if a in v.failed or b in v.failed or v[a] < v[b] or (not strict and v[a] == v[b]):
                continue
            if v.rank(a) > v.rank(b):
                problems.append((a, f"{'less than' if strict else 'at most'} {b} ({v.show(b)})"))
            else:
                problems.append(
                    (b, f"{'greater than' if strict else 'at least'} {a} ({v.show(a)})")
                )
        return problems

    return _Rule(f" {'<' if strict else '<='} ".join(names), check)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_only(enabled: str, host: str, allow: str) -> _Rule:
    def check(v: _View) -> _Problems:
        if v[enabled] and not v[allow] and not _is_loopback(v[host]):
            return [(host, f"a loopback address (127.0.0.1, ::1, localhost) unless {allow} = true")]
        return []

    doc = f"{host} must be a loopback address unless {allow} = true (when {enabled})"
    return _Rule(doc, check)


def _distinct_ports(a: str, b: str, *enabled: str) -> _Rule:
    def check(v: _View) -> _Problems:
        if all(v[e] for e in enabled) and v[a] == v[b] != 0:
            blame, other = (a, b) if v.rank(a) > v.rank(b) else (b, a)
            return [(blame, f"a port other than {other} ({v.show(other)}), or 0")]
        return []

    return _Rule(f"{a} != {b} unless 0", check)


def _live_confirmed(v: _View) -> _Problems:
    if v["bot.mode"] == "live" and not v["bot.live_confirm"]:
        return [("bot.live_confirm", 'true when bot.mode is "live"')]
    return []


def _hedge_symbols(v: _View) -> _Problems:
    priority, symbols = v["hedge.priority"], v["bot.symbols"]
    if any(symbol not in symbols for symbol in priority):
        return [("hedge.priority", f"symbols from bot.symbols ({v.show('bot.symbols')})")]
    if v["hedge.enabled"] and not priority:
        return [("hedge.priority", "a non-empty list when hedge.enabled = true")]
    return []


_RULES: Final = (
    _ordered("strategy.ema_fast", "strategy.ema_mid", "strategy.ema_slow", "strategy.ema_trend"),
    _ordered("strategy.macd_fast", "strategy.macd_slow"),
    _ordered("strategy.rsi_short_min", "strategy.rsi_short_max"),
    _ordered("strategy.rsi_long_min", "strategy.rsi_long_max"),
    _ordered("strategy.ema_trend", "exchange.history_candles", strict=False),
    _ordered("risk.risk_min_pct", "risk.risk_per_trade_pct", "risk.risk_max_pct", strict=False),
    _ordered("risk.max_positions_per_symbol", "risk.max_open_positions", strict=False),
    _ordered("risk.daily_loss_pct", "risk.max_drawdown_pct", strict=False),
    _ordered("exchange.backoff_initial_ms", "exchange.backoff_max_ms", strict=False),
    _ordered("supervision.backoff_initial_ms", "supervision.backoff_max_ms", strict=False),
    _ordered("storage.map_size_mb", "storage.map_size_max_mb", strict=False),
    _ordered("sim.fee_maker_pct", "sim.fee_taker_pct", strict=False),
    _Rule('bot.live_confirm = true when bot.mode = "live"', _live_confirmed),
    _Rule(
        "hedge.priority is a subset of bot.symbols, non-empty when hedge.enabled", _hedge_symbols
    ),
    _local_only("console.enabled", "console.host", "console.allow_remote"),
    _local_only("health.http_enabled", "health.http_host", "health.allow_remote"),
    _distinct_ports("console.port", "health.http_port", "console.enabled", "health.http_enabled"),
    _distinct_ports("sim.rest_port", "sim.ws_port"),
)


def cross_field_rules() -> tuple[str, ...]:
    """Return one line per cross-field rule the loader checks (docs/settings.md lists them)."""
    return tuple(rule.doc for rule in _RULES)


# --- entry point ------------------------------------------------------------------------------


def load_settings(
    path: Path | None, *, environ: Mapping[str, str], overrides: Sequence[str] = ()
) -> Settings:
    """Build :class:`Settings` from defaults < ``path`` < ``BOT_*`` environment < ``overrides``.

    Args:
        path: The TOML file; ``None`` or a missing file means defaults only.
        environ: Usually ``os.environ``. ``BOT_<SECTION>__<KEY>`` variables override keys;
            ``DELTA_API_KEY``, ``DELTA_API_SECRET`` and ``BOT_CONSOLE_TOKEN`` give the secrets.
        overrides: ``--set`` arguments without the flag, as ``section.key=value``, applied
            in order (the last one for a key wins).

    Returns:
        The settings. A secret is ``None`` when its variable is unset or empty; whether mode
        "live" has its keys, and whether the console has its token, is checked at start.

    Raises:
        SettingsError: Anything invalid, every problem listed; no secret value is in it.
    """
    errors: list[str] = []
    layers = itertools.chain(
        _read_file(path, errors) if path is not None else (),
        _read_environ(environ, errors),
        _read_overrides(overrides, errors),
    )  # lazy: each problem is listed where its layer and line put it
    values: dict[str, Any] = {spec.name: spec.default for spec in describe()}
    origins: dict[str, _Raw] = {}
    failed: set[str] = set()
    for spec, raw in layers:
        value, problem = _convert(spec, raw)
        if problem is not None:
            errors.append(_line(spec.name, problem, f"from {raw.source}"))
            failed.add(spec.name)
        else:
            values[spec.name], origins[spec.name] = value, raw
    view = _View(values, origins, failed)
    for rule in _RULES:
        with contextlib.suppress(_SkipError):
            for name, expectation in rule.check(view):
                errors.append(
                    _line(
                        name,
                        f"expected {expectation}, was {view.show(name)}",
                        _from(origins.get(name)),
                    )
                )
    secret_texts = [environ.get(var, "") for var in SECRET_ENV_VARS]
    if errors:
        raise SettingsError([_scrub(line, secret_texts) for line in errors])
    sections = {
        section: cls(**{key: values[f"{section}.{key}"] for key in _SPECS[section]})
        for section, cls in SECTIONS.items()
    }
    secrets = Secrets(**{
        f.name: Secret(text) if text else None
        for f, text in zip(_fields(Secrets), secret_texts, strict=True)
    })  # fmt: skip
    return Settings(**sections, secrets=secrets)


def _scrub(line: str, secret_texts: Sequence[str]) -> str:
    """Mask any secret value that found its way into an error line (e.g. pasted as a value)."""
    for text in secret_texts:
        if len(text) >= 4:
            line = line.replace(text, "***")
    return line
