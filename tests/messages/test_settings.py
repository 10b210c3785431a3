"""Settings: every documented error path, the override order, secrets, and docs that stay true.

Pure logic, no threads. Each test that writes a settings file runs in its own ``tmp_path`` as
the working directory, so error lines read ``(from settings.toml)`` exactly as in the docs.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages._errors import BotError
from messages.settings import (
    SECRET_ENV_VARS,
    SECTIONS,
    KeySpec,
    Secret,
    Secrets,
    Settings,
    SettingsError,
    cross_field_rules,
    describe,
    format_value,
    load_settings,
    parse_value,
    toml_value,
)

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Value-9f8e7d"

Loader = Callable[..., Settings]
Problems = Callable[..., tuple[str, ...]]


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Loader:
    """Load from ``settings.toml`` (text or raw bytes) in a fresh working directory."""
    monkeypatch.chdir(tmp_path)

    def run(
        toml: str | bytes | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        overrides: Sequence[str] = (),
    ) -> Settings:
        if toml is not None:
            data = toml if isinstance(toml, bytes) else toml.encode()
            Path("settings.toml").write_bytes(data)
        return load_settings(Path("settings.toml"), environ=environ or {}, overrides=overrides)

    return run


@pytest.fixture
def problems(load: Loader) -> Problems:
    """Load and return the problem lines of the SettingsError it must raise."""

    def run(*args: object, **kwargs: object) -> tuple[str, ...]:
        with pytest.raises(SettingsError) as info:
            load(*args, **kwargs)
        return info.value.problems

    return run


# --- defaults and the repository's file -------------------------------------------------------


def test_no_path_and_missing_file_mean_all_defaults(load: Loader) -> None:
    assert load_settings(None, environ={}) == Settings()
    assert load() == Settings()
    assert load("") == Settings()


def test_repo_settings_toml_is_exactly_the_defaults() -> None:
    loaded = load_settings(REPO / "settings.toml", environ={})
    assert loaded == Settings()
    assert loaded.to_dict() == Settings().to_dict()


def test_defaults_have_the_documented_values() -> None:
    s = Settings()
    assert (s.bot.mode, s.bot.symbols, s.bot.timeframe) == (
        "sim",
        ("BTCUSD", "ETHUSD", "SOLUSD"),
        "15m",
    )
    assert (s.exchange.region, s.exchange.rate_limit_weight_per_5min) == ("india", 10000)
    assert (s.exchange.history_candles, s.console.command_timeout_ms) == (1400, 300)
    assert (s.strategy.ema_fast, s.strategy.ema_mid, s.strategy.ema_slow) == (9, 21, 50)
    assert s.risk.risk_per_trade_pct == Decimal("1.5")
    assert s.sim.starting_balance == Decimal(10000)
    assert s.secrets == Secrets()


def test_sections_are_frozen_slotted_keyword_only() -> None:
    for cls in (*SECTIONS.values(), Settings, Secrets):
        assert "__slots__" in vars(cls)
        assert all(f.kw_only for f in dataclasses.fields(cls))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().risk.max_leverage = 5.0  # type: ignore[misc]  # the point of the test
    with pytest.raises(TypeError):
        SECTIONS["bot"]("live")


def test_units_in_key_names_match_documented_units() -> None:
    suffix_unit = {"_ms": "ms", "_s": "s", "_days": "days", "_mb": "MiB", "_bytes": "bytes"}
    for spec in describe():
        assert spec.unit, spec.name
        assert spec.doc, spec.name
        for suffix, unit in suffix_unit.items():
            if spec.key.endswith(suffix):
                assert spec.unit == unit, spec.name
        if spec.key.endswith("_pct"):
            assert spec.unit.startswith("%"), spec.name


# --- docs and settings.toml stay true ---------------------------------------------------------


def _toml_comments() -> dict[str, list[str]]:
    """Map ``section.key`` of settings.toml to the comment lines directly above it."""
    found: dict[str, list[str]] = {}
    section, comments = "", list[str]()
    for line in (REPO / "settings.toml").read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"\[(\w+)\]", line):
            section, comments = match[1], []
        elif line.startswith("#"):
            comments.append(line)
        elif match := re.fullmatch(r"(\w+) = .*", line):
            found[f"{section}.{match[1]}"] = comments
            comments = []
        else:
            comments = []
    return found


def test_every_key_is_in_settings_toml_with_unit_and_default_comment() -> None:
    comments = _toml_comments()
    assert set(comments) == {spec.name for spec in describe()}
    for spec in describe():
        text = " ".join(comments[spec.name])
        assert f"# {spec.doc}." in text, spec.name
        assert f"Unit: {spec.unit}. Default: {toml_value(spec.default)}." in text, spec.name


def test_settings_toml_header_documents_order_and_secrets() -> None:
    header = (REPO / "settings.toml").read_text(encoding="utf-8").split("[bot]")[0]
    for needle in ("BOT_<SECTION>__<KEY>", "--set section.key=value", *SECRET_ENV_VARS):
        assert needle in header


def _docs() -> str:
    return (REPO / "docs" / "settings.md").read_text(encoding="utf-8")


def _docs_rows() -> dict[str, list[str]]:
    """Map ``section.key`` to the cells of its row in the docs' reference tables."""
    rows: dict[str, list[str]] = {}
    section = ""
    for line in _docs().split("## Reference", 1)[1].splitlines():
        if match := re.fullmatch(r"### \[(\w+)\]", line):
            section = match[1]
        elif match := re.match(r"\| `(\w+)` \| `", line):
            rows[f"{section}.{match[1]}"] = [cell.strip() for cell in line.strip("|").split(" | ")]
    return rows


def test_docs_reference_lists_every_key_as_in_code() -> None:
    rows = _docs_rows()
    assert set(rows) == {spec.name for spec in describe()}
    for spec in describe():
        key, kind, default, unit, allowed, doc = rows[spec.name]
        assert (key, kind) == (f"`{spec.key}`", f"`{spec.kind}`")
        assert default == f"`{toml_value(spec.default)}`"
        assert (unit, allowed, doc) == (spec.unit, spec.expected, f"{spec.doc}.")


def test_docs_list_every_cross_field_rule() -> None:
    for rule in cross_field_rules():
        assert f"- {rule}\n" in _docs()


def test_docs_error_example_is_what_the_loader_says(load: Loader) -> None:
    docs = _docs().split("## Errors", 1)[1]
    toml = re.search(r"```toml\n(.*?)```", docs, re.S)
    text = re.search(r"```text\n(.*?)```", docs, re.S)
    assert toml is not None
    assert text is not None
    environ = {"BOT_STRATEGY__EMA_SLOW": "15", "BOT_LOGGING__LEVEL": "debug"}
    overrides = ["bot.mode=lve", "console.token=hunter2"]
    for name, value in environ.items():
        assert f"`{name}={value}`" in docs
    assert "`--set bot.mode=lve --set console.token=hunter2`" in docs
    with pytest.raises(SettingsError) as info:
        load(toml[1], environ=environ, overrides=overrides)
    assert str(info.value) == text[1].rstrip("\n")


def test_docs_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    example = re.search(r"```python\n(.*?)```", _docs(), re.S)
    assert example is not None
    for name in [n for n in os.environ if n.startswith("BOT_") and "__" in n]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(REPO)
    exec(compile(example[1], "docs/settings.md", "exec"), {})  # the docs' own example


# --- file errors ------------------------------------------------------------------------------

FILE_ERRORS = {
    "unknown section": (
        "[riskk]\nmax_leverage = 2\n",
        "riskk: unknown section [riskk]; did you mean risk? (from settings.toml)",
    ),
    "unknown section, nothing close": (
        "[zzz]\n",
        "zzz: unknown section [zzz]; expected one of: bot, exchange, strategy, risk, execution,"
        " hedge, storage, console, health, supervision, sim, logging (from settings.toml)",
    ),
    "unknown key with suggestion": (
        "[bot]\nsymbls = []\n",
        "bot.symbls: unknown key; did you mean bot.symbols? (from settings.toml)",
    ),
    "key in the wrong section": (
        "[exchange]\nmax_leverage = 2\n",
        "exchange.max_leverage: unknown key; did you mean risk.max_leverage? (from settings.toml)",
    ),
    "unknown key, nothing close": (
        "[bot]\nqqq = 1\n",
        "bot.qqq: unknown key; expected one of: mode, symbols, timeframe, live_confirm,"
        " summary_interval_s (from settings.toml)",
    ),
    "key outside any section": (
        'mode = "sim"\n',
        "mode: a key outside any section; did you mean bot.mode? (from settings.toml)",
    ),
    "section that is not a table": (
        "bot = 1\n",
        "bot: expected a [bot] table, was 1 (from settings.toml)",
    ),
    "string for int": (
        '[bot]\nsummary_interval_s = "60"\n',
        'bot.summary_interval_s: expected an integer from 10 to 86400, was the string "60"'
        " (from settings.toml)",
    ),
    "bool for int": (
        "[console]\nport = true\n",
        "console.port: expected an integer from 0 to 65535, was the boolean true"
        " (from settings.toml)",
    ),
    "float for int": (
        "[console]\nport = 80.0\n",
        "console.port: expected an integer from 0 to 65535, was the float 80.0"
        " (from settings.toml)",
    ),
    "int for bool": (
        "[hedge]\nenabled = 1\n",
        "hedge.enabled: expected true or false, was the integer 1 (from settings.toml)",
    ),
    "bool for float": (
        "[risk]\nmax_leverage = true\n",
        "risk.max_leverage: expected a number from 1 to 100, was the boolean true"
        " (from settings.toml)",
    ),
    "string for list": (
        '[bot]\nsymbols = "BTCUSD"\n',
        'bot.symbols: expected a non-empty list of unique upper-case symbols such as "BTCUSD",'
        ' was the string "BTCUSD" (from settings.toml)',
    ),
    "wrong item type": (
        '[bot]\nsymbols = ["BTCUSD", 1]\n',
        'bot.symbols: expected a non-empty list of unique upper-case symbols such as "BTCUSD",'
        ' was ["BTCUSD", 1], whose item 2 is the integer 1 (from settings.toml)',
    ),
    "table for string": (
        "[logging]\nlevel = {a = 1}\n",
        'logging.level: expected one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",'
        " was a table (from settings.toml)",
    ),
    "int out of range": (
        "[risk]\nmax_open_positions = 0\n",
        "risk.max_open_positions: expected an integer from 1 to 100, was 0 (from settings.toml)",
    ),
    "float out of range": (
        "[risk]\nmax_leverage = 250\n",
        "risk.max_leverage: expected a number from 1 to 100, was 250 (from settings.toml)",
    ),
    "float not finite": (
        "[strategy]\nbb_stddev = nan\n",
        "strategy.bb_stddev: expected a number greater than 0 and at most 10, was nan"
        " (from settings.toml)",
    ),
    "Decimal out of range": (
        "[sim]\nstarting_balance = -5.5\n",
        "sim.starting_balance: expected a decimal number greater than 0 and at most"
        " 1000000000000, was -5.5 (from settings.toml)",
    ),
    "bad choice": (
        '[bot]\nmode = "livee"\n',
        'bot.mode: expected one of "sim", "paper", "live", was "livee" (from settings.toml)',
    ),
    "bad symbol": (
        '[bot]\nsymbols = ["btcusd"]\n',
        'bot.symbols: expected a non-empty list of unique upper-case symbols such as "BTCUSD",'
        ' was ["btcusd"] (from settings.toml)',
    ),
    "duplicate symbols": (
        '[bot]\nsymbols = ["BTCUSD", "BTCUSD"]\n',
        'bot.symbols: expected a non-empty list of unique upper-case symbols such as "BTCUSD",'
        ' was ["BTCUSD", "BTCUSD"] (from settings.toml)',
    ),
    "no symbols": (
        "[bot]\nsymbols = []\n",
        'bot.symbols: expected a non-empty list of unique upper-case symbols such as "BTCUSD",'
        " was [] (from settings.toml)",
    ),
    "empty directory": (
        '[storage]\nstate_dir = ""\n',
        'storage.state_dir: expected a path (relative to the working directory), was ""'
        " (from settings.toml)",
    ),
    "bad URL": (
        '[exchange]\nrest_url = "api.delta.exchange"\n',
        'exchange.rest_url: expected "" or a URL starting with http:// or https://,'
        ' was "api.delta.exchange" (from settings.toml)',
    ),
    "bad host": (
        '[console]\nhost = "local host"\n',
        'console.host: expected a host name or IP address, e.g. "127.0.0.1", was "local host"'
        " (from settings.toml)",
    ),
}


@pytest.mark.parametrize(("toml", "line"), FILE_ERRORS.values(), ids=FILE_ERRORS.keys())
def test_file_error_is_reported_with_key_value_expectation_and_source(
    problems: Problems, toml: str, line: str
) -> None:
    assert problems(toml) == (line,)


def test_toml_syntax_error_names_file_and_line(problems: Problems) -> None:
    (line,) = problems('[bot]\nsymbols = ["BTCUSD"]\nmode "sim"\n')
    assert line == (
        "settings.toml: invalid TOML: Expected '=' after a key in a key/value pair"
        " (at line 3, column 6)"
    )


def test_duplicate_key_is_a_syntax_error(problems: Problems) -> None:
    (line,) = problems('[bot]\nmode = "sim"\nmode = "live"\n')
    assert line.startswith("settings.toml: invalid TOML: ")
    assert "line 3" in line


def test_file_that_is_not_utf8_names_the_line(problems: Problems) -> None:
    assert problems(b'[bot]\nmode = "\xff"\n') == (
        "settings.toml: invalid TOML: not UTF-8 text (at line 2)",
    )


def test_unreadable_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.problems[0].startswith(f"{tmp_path}: cannot read: ")


def test_file_values_convert_to_declared_types_exactly(load: Loader) -> None:
    s = load("[risk]\nmax_leverage = 2\nrisk_per_trade_pct = 1.1\n[sim]\nstarting_balance = 5\n")
    assert s.risk.max_leverage == 2.0
    assert type(s.risk.max_leverage) is float
    assert s.risk.risk_per_trade_pct == Decimal("1.1")
    assert s.sim.starting_balance == Decimal(5)
    assert type(s.sim.starting_balance) is Decimal


# --- cross-field rules ------------------------------------------------------------------------

CROSS_FIELD = {
    "ema order": (
        "[strategy]\nema_mid = 60\n",
        "strategy.ema_mid: expected less than strategy.ema_slow (50), was 60 (from settings.toml)",
    ),
    "ema order blames the higher layer": (
        "[strategy]\nema_fast = 21\n",
        "strategy.ema_fast: expected less than strategy.ema_mid (21), was 21 (from settings.toml)",
    ),
    "ema trend": (
        "[strategy]\nema_trend = 50\n",
        "strategy.ema_trend: expected greater than strategy.ema_slow (50), was 50"
        " (from settings.toml)",
    ),
    "macd": (
        "[strategy]\nmacd_fast = 30\n",
        "strategy.macd_fast: expected less than strategy.macd_slow (26), was 30"
        " (from settings.toml)",
    ),
    "rsi short": (
        "[strategy]\nrsi_short_min = 45\n",
        "strategy.rsi_short_min: expected less than strategy.rsi_short_max (40.0), was 45"
        " (from settings.toml)",
    ),
    "rsi long": (
        "[strategy]\nrsi_long_max = 55\n",
        "strategy.rsi_long_max: expected greater than strategy.rsi_long_min (60.0), was 55"
        " (from settings.toml)",
    ),
    "rsi short max above 50": (
        "[strategy]\nrsi_short_max = 55\n",
        "strategy.rsi_short_max: expected a number from 0 to 50, was 55 (from settings.toml)",
    ),
    "rsi long min below 50": (
        "[strategy]\nrsi_long_min = 45\n",
        "strategy.rsi_long_min: expected a number from 50 to 100, was 45 (from settings.toml)",
    ),
    "history shorter than trend ema": (
        "[exchange]\nhistory_candles = 100\n",
        "exchange.history_candles: expected at least strategy.ema_trend (200), was 100"
        " (from settings.toml)",
    ),
    "risk below min": (
        "[risk]\nrisk_per_trade_pct = 0.5\n",
        "risk.risk_per_trade_pct: expected at least risk.risk_min_pct (1.0), was 0.5"
        " (from settings.toml)",
    ),
    "risk above max": (
        "[risk]\nrisk_per_trade_pct = 2.5\n",
        "risk.risk_per_trade_pct: expected at most risk.risk_max_pct (2.0), was 2.5"
        " (from settings.toml)",
    ),
    "positions per symbol": (
        "[risk]\nmax_positions_per_symbol = 6\n",
        "risk.max_positions_per_symbol: expected at most risk.max_open_positions (5), was 6"
        " (from settings.toml)",
    ),
    "daily loss above drawdown": (
        "[risk]\ndaily_loss_pct = 12\n",
        "risk.daily_loss_pct: expected at most risk.max_drawdown_pct (10.0), was 12"
        " (from settings.toml)",
    ),
    "exchange backoff": (
        "[exchange]\nbackoff_initial_ms = 40000\n",
        "exchange.backoff_initial_ms: expected at most exchange.backoff_max_ms (30000),"
        " was 40000 (from settings.toml)",
    ),
    "supervision backoff": (
        "[supervision]\nbackoff_max_ms = 50\n",
        "supervision.backoff_max_ms: expected at least supervision.backoff_initial_ms (100),"
        " was 50 (from settings.toml)",
    ),
    "map size": (
        "[storage]\nmap_size_mb = 8192\n",
        "storage.map_size_mb: expected at most storage.map_size_max_mb (4096), was 8192"
        " (from settings.toml)",
    ),
    "maker fee above taker": (
        "[sim]\nfee_maker_pct = 0.1\n",
        "sim.fee_maker_pct: expected at most sim.fee_taker_pct (0.05), was 0.1"
        " (from settings.toml)",
    ),
    "live needs confirmation": (
        '[bot]\nmode = "live"\n',
        'bot.live_confirm: expected true when bot.mode is "live", was false (default)',
    ),
    "hedge priority empty": (
        "[hedge]\npriority = []\n",
        "hedge.priority: expected a non-empty list when hedge.enabled = true, was []"
        " (from settings.toml)",
    ),
    "remote console": (
        '[console]\nhost = "0.0.0.0"\n',
        "console.host: expected a loopback address (127.0.0.1, ::1, localhost) unless"
        ' console.allow_remote = true, was "0.0.0.0" (from settings.toml)',
    ),
    "remote health": (
        '[health]\nhttp_host = "10.0.0.5"\n',
        "health.http_host: expected a loopback address (127.0.0.1, ::1, localhost) unless"
        ' health.allow_remote = true, was "10.0.0.5" (from settings.toml)',
    ),
    "console and health on one port": (
        "[health]\nhttp_port = 8023\n",
        "health.http_port: expected a port other than console.port (8023), or 0, was 8023"
        " (from settings.toml)",
    ),
    "simulator ports": (
        "[sim]\nrest_port = 9000\nws_port = 9000\n",
        "sim.ws_port: expected a port other than sim.rest_port (9000), or 0, was 9000"
        " (from settings.toml)",
    ),
}


@pytest.mark.parametrize(("toml", "line"), CROSS_FIELD.values(), ids=CROSS_FIELD.keys())
def test_cross_field_rule_is_reported(problems: Problems, toml: str, line: str) -> None:
    assert problems(toml) == (line,)


@pytest.mark.parametrize(
    "toml",
    [
        '[bot]\nmode = "live"\nlive_confirm = true\n',
        '[bot]\nsymbols = ["BTCUSD"]\n[hedge]\npriority = ["BTCUSD"]\n',
        '[bot]\nsymbols = ["BTCUSD", "ETHUSD"]\n',
        '[bot]\nsymbols = ["BTCUSD"]\n[hedge]\nenabled = false\npriority = []\n',
        '[console]\nhost = "0.0.0.0"\nallow_remote = true\n',
        '[console]\nhost = "0.0.0.0"\nenabled = false\n',
        '[console]\nhost = "::1"\n[health]\nhttp_host = "localhost"\n',
        "[console]\nport = 0\n[health]\nhttp_port = 0\n",
        "[health]\nhttp_port = 8023\nhttp_enabled = false\n",
        "[risk]\nrisk_min_pct = 1.5\nrisk_per_trade_pct = 1.5\nrisk_max_pct = 1.5\n",
    ],
)
def test_cross_field_rule_allows_valid_combinations(load: Loader, toml: str) -> None:
    load(toml)


def test_rule_about_an_already_wrong_key_is_skipped(problems: Problems) -> None:
    lines = problems('[strategy]\nema_mid = "x"\nmacd_fast = 30\n')
    assert [line.split(":")[0] for line in lines] == ["strategy.ema_mid", "strategy.macd_fast"]


def test_every_rule_has_a_test() -> None:
    tested = " ".join(line for _, line in CROSS_FIELD.values())
    for rule in cross_field_rules():
        assert any(name in tested for name in re.findall(r"\w+\.\w+", rule)), rule


# --- environment and --set --------------------------------------------------------------------


def test_override_order_is_file_then_env_then_set(load: Loader) -> None:
    toml = '[risk]\nmax_leverage = 2\n[bot]\ntimeframe = "1h"\n'
    env = {"BOT_RISK__MAX_LEVERAGE": "3"}
    assert load(toml).risk.max_leverage == 2.0
    assert load(toml, environ=env).risk.max_leverage == 3.0
    with_set = load(toml, environ=env, overrides=["risk.max_leverage=4", "risk.max_leverage=5"])
    assert with_set.risk.max_leverage == 5.0
    assert with_set.bot.timeframe == "1h"  # layers override key by key
    assert load(environ=env, overrides=[]).risk.max_leverage == 3.0


def test_env_and_set_text_is_parsed_by_declared_type(load: Loader) -> None:
    s = load(
        environ={
            "BOT_BOT__SYMBOLS": "BTCUSD, ETHUSD",
            "BOT_HEDGE__PRIORITY": "ETHUSD",
            "BOT_HEDGE__ENABLED": "No",
            "BOT_RISK__RISK_PER_TRADE_PCT": "1.25",
        },
        overrides=["console.port=9000", "logging.file=bot log.txt", " sim.speed = 2.5"],
    )
    assert (s.bot.symbols, s.hedge.priority) == (("BTCUSD", "ETHUSD"), ("ETHUSD",))
    assert (s.hedge.enabled, s.risk.risk_per_trade_pct) == (False, Decimal("1.25"))
    assert (s.console.port, s.logging.file, s.sim.speed) == (9000, "bot log.txt", 2.5)


def test_env_vars_that_are_not_overrides_are_ignored(load: Loader) -> None:
    environ = {"BOT_CONSOLE_TOKEN": "tok", "BOT_SHARED_DATA": "/x", "OTHER__KEY": "1"}
    assert load(environ={**environ, "bot_risk__max_leverage": "500"}).risk == Settings().risk


ENV_AND_SET_ERRORS = {
    "env out of range": (
        {"BOT_RISK__MAX_LEVERAGE": "250"},
        [],
        "risk.max_leverage: expected a number from 1 to 100, was 250 (from BOT_RISK__MAX_LEVERAGE)",
    ),
    "env not a number": (
        {"BOT_RISK__MAX_LEVERAGE": "two"},
        [],
        'risk.max_leverage: expected a number from 1 to 100, was "two"'
        " (from BOT_RISK__MAX_LEVERAGE)",
    ),
    "env not a boolean": (
        {"BOT_HEDGE__ENABLED": "maybe"},
        [],
        'hedge.enabled: expected true or false, was "maybe" (from BOT_HEDGE__ENABLED)',
    ),
    "env int for bool": (
        {"BOT_HEDGE__ENABLED": "2"},
        [],
        'hedge.enabled: expected true or false, was "2" (from BOT_HEDGE__ENABLED)',
    ),
    "env bool for int": (
        {"BOT_CONSOLE__PORT": "true"},
        [],
        'console.port: expected an integer from 0 to 65535, was "true" (from BOT_CONSOLE__PORT)',
    ),
    "env bad list item": (
        {"BOT_BOT__SYMBOLS": "BTCUSD,,ETHUSD"},
        [],
        'bot.symbols: expected a non-empty list of unique upper-case symbols such as "BTCUSD",'
        ' was ["BTCUSD", "", "ETHUSD"] (from BOT_BOT__SYMBOLS)',
    ),
    "env unknown section": (
        {"BOT_RISKY__MAX_LEVERAGE": "2"},
        [],
        "risky.max_leverage: unknown section [risky]; did you mean risk?"
        " (from BOT_RISKY__MAX_LEVERAGE)",
    ),
    "env unknown key": (
        {"BOT_RISK__MAX_LEVERGE": "2"},
        [],
        "risk.max_leverge: unknown key; did you mean risk.max_leverage?"
        " (from BOT_RISK__MAX_LEVERGE)",
    ),
    "set out of range": (
        {},
        ["risk.max_leverage=250"],
        "risk.max_leverage: expected a number from 1 to 100, was 250"
        " (from --set risk.max_leverage)",
    ),
    "set bad choice": (
        {},
        ["bot.mode=lve"],
        'bot.mode: expected one of "sim", "paper", "live", was "lve" (from --set bot.mode)',
    ),
    "set unknown key": (
        {},
        ["bot.symbls=BTCUSD"],
        "bot.symbls: unknown key; did you mean bot.symbols? (from --set bot.symbls)",
    ),
    "set without '='": (
        {},
        ["risk.max_leverage"],
        "--set \"risk.max_leverage\": expected section.key=value, found no '='",
    ),
    "set without section": (
        {},
        ["max_leverage=2"],
        '--set "max_leverage=...": expected section.key=value, found no section,'
        " e.g. risk.max_leverage=2; did you mean --set risk.max_leverage=...?",
    ),
    "set with empty key": (
        {},
        ["risk.=2"],
        '--set "risk.=...": expected section.key=value, found no section, e.g. risk.max_leverage=2',
    ),
    "set with cross-field problem": (
        {"BOT_STRATEGY__EMA_MID": "30"},
        ["strategy.ema_fast=40"],
        "strategy.ema_fast: expected less than strategy.ema_mid (30), was 40"
        " (from --set strategy.ema_fast)",
    ),
}


@pytest.mark.parametrize(
    ("environ", "overrides", "line"), ENV_AND_SET_ERRORS.values(), ids=ENV_AND_SET_ERRORS.keys()
)
def test_env_and_set_errors_name_their_source(
    problems: Problems, environ: dict[str, str], overrides: list[str], line: str
) -> None:
    assert problems(environ=environ, overrides=overrides) == (line,)


def test_bad_file_value_is_reported_even_when_overridden(problems: Problems) -> None:
    lines = problems("[risk]\nmax_leverage = 0\n", environ={"BOT_RISK__MAX_LEVERAGE": "2"})
    assert lines == (
        "risk.max_leverage: expected a number from 1 to 100, was 0 (from settings.toml)",
    )


def test_several_errors_are_reported_together_in_layer_order(problems: Problems) -> None:
    lines = problems(
        "[bot]\nmode = 1\n[zzz]\n[risk]\nmax_leverage = 0\n",
        environ={"BOT_HEDGE__CHUNKS": "x", "BOT_NOPE__X": "1"},
        overrides=["bad", "sim.speed=0"],
    )
    sources = [re.sub(r".*\((from |)(.*?)\)$", r"\2", line) for line in lines]
    assert len(lines) == 7
    assert sources[:3] == ["settings.toml"] * 3
    assert sources[3:5] == ["BOT_HEDGE__CHUNKS", "BOT_NOPE__X"]
    assert lines[5].startswith('--set "bad"')
    assert sources[6] == "--set sim.speed"


def test_error_message_lists_every_problem_and_is_a_bot_error(load: Loader) -> None:
    with pytest.raises(SettingsError) as info:
        load("[bot]\nmode = 1\nsymbols = []\n")
    assert isinstance(info.value, BotError)
    assert str(info.value).splitlines() == [
        "invalid settings (2 problems):",
        *(f"  {line}" for line in info.value.problems),
    ]


# --- secrets ----------------------------------------------------------------------------------


def test_secrets_come_from_the_environment(load: Loader) -> None:
    s = load(
        environ={"DELTA_API_KEY": SECRET, "DELTA_API_SECRET": "b" * 8, "BOT_CONSOLE_TOKEN": ""}
    )
    assert s.secrets.delta_api_key is not None
    assert s.secrets.delta_api_key.reveal() == SECRET
    assert s.secrets.delta_api_secret == Secret("b" * 8)
    assert s.secrets.console_token is None


def test_secret_never_shows_its_value() -> None:
    secret = Secret(SECRET)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % secret):  # noqa: UP031 - %-format is one of the paths a value could leak by
        assert text == "Secret('***')"
    assert copy.deepcopy(secret) is secret
    assert copy.copy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(ValueError, match="non-empty") as info:
        Secret("")
    assert SECRET not in str(info.value)


def test_settings_repr_str_and_dict_never_contain_secrets(load: Loader) -> None:
    environ = {name: f"{SECRET}-{i}" for i, name in enumerate(SECRET_ENV_VARS)}
    s = load(environ=environ)
    dumped = s.to_dict()
    for text in (repr(s), str(s), repr(s.secrets), json.dumps(dumped)):
        assert SECRET not in text
    assert dumped["secrets"] == dict.fromkeys(("delta_api_key", "delta_api_secret", "console_token"), "***")  # fmt: skip  # noqa: E501


def test_to_dict_is_json_ready(load: Loader) -> None:
    dumped = load().to_dict()
    assert dumped["risk"]["risk_per_trade_pct"] == "1.5"
    assert dumped["bot"]["symbols"] == ["BTCUSD", "ETHUSD", "SOLUSD"]
    assert dumped["secrets"] == dict.fromkeys(("delta_api_key", "delta_api_secret", "console_token"))  # fmt: skip  # noqa: E501
    assert set(dumped) == {*SECTIONS, "secrets"}
    json.dumps(dumped)


SECRET_ERRORS = {
    "file exchange.api_key": (
        f'[exchange]\napi_key = "{SECRET}"\n',
        {},
        [],
        "exchange.api_key: secrets are read only from the environment: set DELTA_API_KEY"
        " instead (from settings.toml)",
    ),
    "file console.token": (
        f'[console]\ntoken = "{SECRET}"\n',
        {},
        [],
        "console.token: secrets are read only from the environment: set BOT_CONSOLE_TOKEN"
        " instead (from settings.toml)",
    ),
    "file secrets table": (
        f'[secrets]\ndelta_api_secret = "{SECRET}"\n',
        {},
        [],
        "secrets: secrets are read only from the environment: set DELTA_API_KEY,"
        " DELTA_API_SECRET, BOT_CONSOLE_TOKEN instead (from settings.toml)",
    ),
    "file top-level key": (
        f'api_secret = "{SECRET}"\n',
        {},
        [],
        "api_secret: secrets are read only from the environment: set DELTA_API_SECRET instead"
        " (from settings.toml)",
    ),
    "env override": (
        None,
        {"BOT_EXCHANGE__API_SECRET": SECRET},
        [],
        "exchange.api_secret: secrets are read only from the environment: set DELTA_API_SECRET"
        " instead (from BOT_EXCHANGE__API_SECRET)",
    ),
    "set override": (
        None,
        {},
        [f"console.token={SECRET}"],
        "console.token: secrets are read only from the environment: set BOT_CONSOLE_TOKEN"
        " instead (from --set console.token)",
    ),
    "set secrets section": (
        None,
        {},
        [f"secrets.delta_api_key={SECRET}"],
        "secrets.delta_api_key: secrets are read only from the environment: set DELTA_API_KEY"
        " instead (from --set secrets.delta_api_key)",
    ),
    "secret pasted as a value": (
        None,
        {"DELTA_API_KEY": SECRET},
        [f"bot.mode={SECRET}"],
        'bot.mode: expected one of "sim", "paper", "live", was "***" (from --set bot.mode)',
    ),
    "secret pasted without '='": (
        None,
        {"BOT_CONSOLE_TOKEN": SECRET},
        [SECRET],
        "--set \"***\": expected section.key=value, found no '='",
    ),
}


@pytest.mark.parametrize(
    ("toml", "environ", "overrides", "line"), SECRET_ERRORS.values(), ids=SECRET_ERRORS.keys()
)
def test_secret_outside_the_environment_is_an_error_without_its_value(
    load: Loader, toml: str | None, environ: dict[str, str], overrides: list[str], line: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load(toml, environ=environ, overrides=overrides)
    assert info.value.problems == (line,)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_sim_demo_pair_is_not_a_secret(load: Loader) -> None:
    s = load('[sim]\napi_key = "demo"\napi_secret = "demo-secret"\n')
    assert (s.sim.api_key, s.sim.api_secret) == ("demo", "demo-secret")


# --- text parsers -----------------------------------------------------------------------------

_ITEM = st.text(st.characters(exclude_characters=",", exclude_categories=["Cs"]), min_size=1)
_STRS = st.lists(_ITEM.map(str.strip).filter(bool)).map(tuple)


@given(st.integers())
def test_int_round_trips(value: int) -> None:
    assert parse_value(format_value(value), int) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trips(value: float) -> None:
    assert parse_value(format_value(value), float) == value


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_round_trips(value: Decimal) -> None:
    parsed = parse_value(format_value(value), Decimal)
    assert parsed == value
    assert str(parsed) == str(value)


@given(st.booleans())
def test_bool_round_trips(value: bool) -> None:
    assert parse_value(format_value(value), bool) is value


@given(_STRS)
def test_str_tuple_round_trips(value: tuple[str, ...]) -> None:
    assert parse_value(format_value(value), tuple[str, ...]) == value


@given(st.lists(st.integers()).map(tuple))
def test_int_tuple_round_trips(value: tuple[int, ...]) -> None:
    assert parse_value(format_value(value), tuple[int, ...]) == value


@pytest.mark.parametrize(
    ("true", "false"),
    [("true", "false"), ("1", "0"), ("yes", "no"), ("TRUE", "No"), (" true ", "false\n")],
)
def test_bool_words(true: str, false: str) -> None:
    assert parse_value(true, bool) is True
    assert parse_value(false, bool) is False


@pytest.mark.parametrize(
    ("text", "tp"),
    [("1.5", int), ("", int), ("nan", float), ("inf", Decimal), ("x", Decimal), ("2", bool)],
)
def test_parse_errors_do_not_echo_the_text(text: str, tp: object) -> None:
    with pytest.raises(ValueError, match="not") as info:
        parse_value(text, tp)
    assert text.strip() == "" or text not in str(info.value)


def test_describe_matches_the_dataclasses() -> None:
    specs = describe()
    assert all(isinstance(spec, KeySpec) for spec in specs)
    assert [spec.name for spec in specs] == [
        f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)
    ]
    assert specs[0].env_var == "BOT_BOT__MODE"
