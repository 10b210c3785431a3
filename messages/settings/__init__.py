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

from messages.settings._load import cross_field_rules, load_settings
from messages.settings._schema import (
    SECTIONS,
    TIMEFRAME_SECONDS,
    BotSettings,
    ConsoleSettings,
    ExchangeSettings,
    ExecutionSettings,
    HealthSettings,
    HedgeSettings,
    KeyRules,
    LoggingSettings,
    RiskSettings,
    Secrets,
    Settings,
    SimSettings,
    StorageSettings,
    StrategySettings,
    SupervisionSettings,
)
from messages.settings._secret import SECRET_ENV_VARS, Secret, SettingsError
from messages.settings._values import KeySpec, describe, format_value, parse_value, toml_value

__all__ = [
    "SECRET_ENV_VARS",
    "SECTIONS",
    "TIMEFRAME_SECONDS",
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
