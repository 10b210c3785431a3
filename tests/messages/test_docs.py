"""The examples in docs/messages.md run and show the real bytes."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from messages import decode, encode
from tests.bench.codec import measure

DOC = Path(__file__).resolve().parents[2] / "docs" / "messages.md"


def _blocks(language: str) -> list[str]:
    """Return the fenced blocks of a language that start at the left margin."""
    return re.findall(rf"^```{language}\n(.*?)^```$", DOC.read_text(), flags=re.M | re.S)


def test_the_python_example_runs_and_prints_the_json_example() -> None:
    (python,) = _blocks("python")
    (json_text,) = _blocks("json")
    namespace: dict[str, object] = {}
    exec(python, namespace)  # the doc's own example, nothing else
    wire = namespace["wire"]
    assert wire == json_text.strip().encode()
    assert decode(json_text.strip().encode()) == namespace["fill"]


def test_the_json_example_is_in_the_canonical_form() -> None:
    (json_text,) = _blocks("json")
    data = json_text.strip().encode()
    assert encode(decode(data)) == data
    assert next(iter(orjson.loads(data))) == "type"


def test_the_codec_benchmark_runs() -> None:
    metrics = measure(quick=True)
    assert all(value > 0 for value in metrics.values())
