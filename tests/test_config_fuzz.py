"""Whatever a config file holds, load_config returns Settings or raises one-line ConfigErrors."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corral.core.config import (
    POLICY_KEYS,
    RUNTIME_KEYS,
    SERVICE_ONLY_KEYS,
    ConfigError,
    describe,
    load_config,
)
from corral.core.settings import Settings

FORMATS = ["corral.toml", "corral.yaml", "corral.json"]

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a person might plausibly write, so that examples reach the validator's deeper checks.
WORDS = st.sampled_from(
    [
        "x",
        "echo hi",
        "echo 'oops",
        "",
        " ",
        "1s",
        "500ms",
        "1m30s",
        "5 parsecs",
        "-1s",
        "0",
        "SIGTERM",
        "term",
        "SIGFOO",
        "a.b:c",
        "app:run",
        "nope",
        ".",
        "..",
        ".env",
        "sub",
        "missing",
        "always",
        "never",
        "on-failure",
        "on_failure",
        "1MiB",
        "10MB",
        "100",
        "web",
        "db",
        "all",
        "a b",
        "\n",
        "\x00",
        "é",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70_000),
    st.integers(),
    st.floats(),
    WORDS,
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(WORDS | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
SERVICE_KEYS = st.sampled_from([*SERVICE_ONLY_KEYS, *POLICY_KEYS, "restart_dealy", "bogus"])
SERVICE = st.dictionaries(SERVICE_KEYS, VALUES, max_size=7)
SERVICE_IDS = st.sampled_from(["web", "db", "jobs", "all", "a b", "", "-x"]) | st.text(max_size=4)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "runtime": st.dictionaries(
            st.sampled_from([*RUNTIME_KEYS, "workers", "nmae"]), VALUES, max_size=4
        )
        | VALUES,
        "defaults": st.dictionaries(st.sampled_from([*POLICY_KEYS, "command"]), VALUES, max_size=4)
        | VALUES,
        "services": st.dictionaries(SERVICE_IDS, SERVICE, max_size=4) | VALUES,
        "servics": VALUES,
    },
)

# Mostly valid settings, with now and then one wild value, so that examples also get through to
# the cross-service checks, the Settings and describe().
GOOD = {
    "command": st.sampled_from(["x", "echo 'a b' $PORT", ["a", "b"], ["prog"]]),
    "target": st.sampled_from(["app.jobs:run", "m:f.g"]),
    "shell": st.booleans(),
    "depends_on": st.lists(st.sampled_from(["web", "db", "jobs"]), max_size=2),
    "env": st.dictionaries(
        st.from_regex(r"[A-Z_]{1,4}", fullmatch=True),
        st.text(max_size=4) | st.integers() | st.booleans(),
        max_size=3,
    ),
    "env_file": st.sampled_from([".env", "bad.env"]),
    "cwd": st.sampled_from([".", "sub"]),
    "port": st.integers(1000, 65_540),
    "workers": st.integers(1, 4),
    "restart": st.sampled_from(["always", "on-failure", "never"]),
    "restart_delay": st.sampled_from(["100ms", "1s", 0, 2.5, "1m"]),
    "restart_delay_max": st.sampled_from(["30s", "2s", "1h"]),
    "start_attempts": st.integers(1, 10),
    "ready_after": st.sampled_from(["1s", 0, "250ms"]),
    "stable_after": st.sampled_from(["30s", "1m30s"]),
    "stop_signal": st.sampled_from(["TERM", "SIGINT", "kill"]),
    "stop_timeout": st.sampled_from(["10s", 1]),
}
GOOD_SERVICE = st.fixed_dictionaries(
    {"command": GOOD["command"]},
    optional={
        key: strategy | VALUES if key == "workers" else strategy
        for key, strategy in GOOD.items()
        if key != "command"
    },
)
NEARLY_VALID = st.fixed_dictionaries(
    {
        "services": st.dictionaries(
            st.sampled_from(["web", "db", "jobs"]), GOOD_SERVICE, min_size=1, max_size=3
        )
    },
    optional={
        "defaults": st.fixed_dictionaries({}, optional={key: GOOD[key] for key in POLICY_KEYS})
    },
)


def toml_value(value: object) -> str:
    """Just enough of a TOML writer for fuzzed documents: everything inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        escaped = "".join(
            f"\\u{ord(c):04x}" if ord(c) < 0x20 or c in '\x7f"\\' else c for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    return '"null"'  # TOML has no null


def dump(data: object, name: str) -> str:
    if name.endswith(".json"):
        return json.dumps(data)
    if name.endswith(".yaml"):
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if not isinstance(data, dict):
        data = {"value": data}
    return "".join(f"{toml_value(str(k))} = {toml_value(v)}\n" for k, v in data.items())


def check(path: Path) -> bool:
    """Whether the file loaded; asserts the shape of the errors when it did not."""
    try:
        loaded = load_config(str(path))
    except ConfigError as exc:
        assert exc.errors
        shown = (str(path), os.path.relpath(path))
        for line in exc.errors:
            assert isinstance(line, str) and line.startswith(shown), line
            assert line.isprintable(), line  # one line, no control characters
        return False
    assert isinstance(loaded, Settings)
    assert describe(loaded).endswith("\n")
    return True


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".env").write_text("A=1\nexport B='two'\n# note\n")
    (tmp_path / "bad.env").write_text("A=1\nbroken line\n")
    return tmp_path


@FUZZ
@given(name=st.sampled_from(FORMATS), data=st.binary(max_size=300))
def test_random_bytes(project: Path, name: str, data: bytes) -> None:
    (project / name).write_bytes(data)
    check(project / name)


@FUZZ
@given(name=st.sampled_from(FORMATS), text=st.text(max_size=300))
def test_random_text(project: Path, name: str, text: str) -> None:
    (project / name).write_text(text, encoding="utf-8")
    check(project / name)


@FUZZ
@given(name=st.sampled_from(FORMATS), data=VALUES)
def test_random_values(project: Path, name: str, data: object) -> None:
    (project / name).write_text(dump(data, name), encoding="utf-8")
    check(project / name)


@FUZZ
@given(name=st.sampled_from(FORMATS), data=DOCUMENTS)
def test_config_shaped_documents(project: Path, name: str, data: dict[str, object]) -> None:
    (project / name).write_text(dump(data, name), encoding="utf-8")
    check(project / name)


@FUZZ
@given(name=st.sampled_from(FORMATS), data=NEARLY_VALID)
def test_nearly_valid_documents(project: Path, name: str, data: dict[str, object]) -> None:
    (project / name).write_text(dump(data, name), encoding="utf-8")
    if check(project / name):
        services = data["services"]
        assert isinstance(services, dict)
        assert list(load_config(str(project / name)).services) == list(services)


@FUZZ
@given(
    name=st.sampled_from(FORMATS),
    lines=st.lists(
        st.sampled_from(
            [
                "[services.web]",
                "services:",
                "  web:",
                "    command: x",
                'command = "x"',
                "    workers: 0",
                "workers = 2",
                '{"services": {"web": {"command": "x"}}}',
                "{",
                "}",
                "  web:",
                "    <<: *a",
                "x: &a {command: y}",
                'depends_on = ["web"]',
                "- 1",
                "port = 8000",
                "    port: 8000",
                "'",
                "\t",
                "---",
                "[[services]]",
            ]
        ),
        max_size=10,
    ),
)
def test_fragments(project: Path, name: str, lines: list[str]) -> None:
    (project / name).write_text("\n".join(lines), encoding="utf-8")
    check(project / name)
