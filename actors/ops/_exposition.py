"""Prometheus text exposition format 0.0.4: metric families as plain values, and their text.

Pure functions over frozen values, so the HTTP thread can render a snapshot the metrics
actor handed over without touching any actor. Escaping follows the format's rules: in label
values backslash, double quote and newline are escaped; in HELP text backslash and newline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Content-Type of a /metrics answer."""

MetricType = Literal["counter", "gauge"]
Number = int | float | Decimal


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a family.

    Attributes:
        labels: Label names and values, in output order.
        value: The value; a Decimal is printed exactly, a float as Python's shortest repr.
    """

    labels: tuple[tuple[str, str], ...]
    value: Number


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family: name, help, type and samples.

    Attributes:
        name: Metric name (``bot_orders_accepted_total``); counters end in ``_total``.
        help: One line saying what it counts and in which unit.
        type: ``"counter"`` or ``"gauge"``.
        samples: Its samples; an empty family is still printed (HELP and TYPE only), so a
            scraper sees the family exists before its first event.
    """

    name: str
    help: str
    type: MetricType
    samples: tuple[Sample, ...]


def escape_label_value(value: str) -> str:
    """Escape a label value: backslash, double quote and newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """Escape HELP text: backslash and newline."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: Number) -> str:
    """Format a sample value the way the text format spells numbers (NaN, +Inf, -Inf)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        if value.is_infinite():
            return "+Inf" if value > 0 else "-Inf"
        return format(value, "f")
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def render(families: Iterable[Family]) -> bytes:
    """Return the families as one /metrics body, UTF-8, ending in a newline."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for sample in family.samples:
            if sample.labels:
                labels = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sample.labels)
                lines.append(f"{family.name}{{{labels}}} {format_value(sample.value)}")
            else:
                lines.append(f"{family.name} {format_value(sample.value)}")
    lines.append("")
    return "\n".join(lines).encode()
