"""The settings schema: one frozen, keyword-only dataclass per section of settings.toml.

Each field's default is the key's default; its metadata carries the unit, a one-line doc and
the :class:`KeyRules` the loader enforces."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, TypeVar

from messages.settings._secret import (
    Secret,
)

_T = TypeVar("_T")
_SYMBOLS = {"pattern": r"[A-Z][A-Z0-9]{1,19}", "what": 'upper-case symbols such as "BTCUSD"'}
_HOST = {"pattern": r"[A-Za-z0-9._:-]+", "what": 'a host name or IP address, e.g. "127.0.0.1"'}
_PATH = {"pattern": r"[^\x00]*", "what": "a path (relative to the working directory)"}
TIMEFRAME_SECONDS: Final[Mapping[str, int]] = {
    "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800,
    "1h": 3600, "2h": 7200, "4h": 14400, "6h": 21600, "1d": 86400,
}  # fmt: skip
"""Every timeframe bot.timeframe accepts, with its length in seconds."""
_TIMEFRAMES = tuple(TIMEFRAME_SECONDS)


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
    max_timeout_reprices: int = _key(3, "count", ge=0, le=100,
        doc='Timeout reprices of one entry (on_entry_timeout = "reprice") before it is cancelled')


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
        doc="Hedge instruments, best first; those not in bot.symbols are skipped")
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
        doc="How often staged market snapshots (feeds, indicators) are written")
    commit_batch_ms: int = _key(0, "ms", ge=0, le=10000,
        doc="Extra wait for more writes to share one commit; 0 commits at once whatever is queued")
    journal_keep: int = _key(1000, "entries", ge=1, le=1_000_000_000,
        doc="Newest journal entries always kept in LMDB; older ones no actor needs are trimmed "
        "(at each snapshot write) into state_dir/journal")
    journal_archive: bool = _key(True, "flag",
        doc="Keep trimmed journal entries as JSON lines in state_dir/journal; false drops them")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSettings:
    """Telnet admin console: token-protected, read-only unless allow_control."""

    enabled: bool = _key(True, "flag",
        doc="Run the admin console; its token is BOT_CONSOLE_TOKEN, else STATE/console.token")
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
    idle_timeout_s: int = _key(900, "s", ge=1, le=86400,
        doc="A session that sends nothing for this long is closed, freeing its slot")


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
    memory_trim_s: int = _key(10, "s", ge=0, le=3600,
        doc="How often memory the bot has freed goes back to the OS (glibc malloc_trim; above 0 "
        "glibc's mmap threshold is also fixed at 128 KiB); 0: never, and glibc is left alone")


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
    candle_path: str = _key("interpolated", "choice", choices=("interpolated", "backtest"),
        doc='Candle file path: "interpolated" (60 steps, 25-level book) or "backtest" '
            '(its 4 steps, 1 deep level)')
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
