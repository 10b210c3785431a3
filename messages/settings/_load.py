"""Loading: defaults < settings.toml < BOT_* environment < --set, then cross-field rules."""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import itertools
import json
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from messages.settings._schema import (
    SECTIONS,
    Secrets,
    Settings,
    _fields,
)
from messages.settings._secret import (
    _SECRET_KEYS,
    SECRET_ENV_VARS,
    Secret,
    SettingsError,
)
from messages.settings._values import (
    _SPECS,
    KeySpec,
    _from_toml,
    _satisfies,
    _show,
    _WrongTypeError,
    describe,
    parse_value,
)

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
    # Symbols not in bot.symbols are skipped by the hedge (no feed for them), not an error:
    # narrowing bot.symbols must not force an edit of hedge.priority.
    if v["hedge.enabled"] and not v["hedge.priority"]:
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
    _Rule("hedge.priority is non-empty when hedge.enabled", _hedge_symbols),
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
