"""Durations, sizes and signal names as written in a config."""

from __future__ import annotations

import signal

import pytest

from corral.core.durations import (
    format_duration,
    format_size,
    parse_duration,
    parse_size,
    render_value,
)
from corral.core.signals import parse_signal, signal_name


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("2s", 2.0),
        ("1.5s", 1.5),
        ("1m", 60.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1h2m3s", 3723.0),
        ("0", 0.0),
        ("0s", 0.0),
        (" 10s ", 10.0),
        ("10S", 10.0),
        (".5s", 0.5),
        (0, 0.0),
        (3, 3.0),
        (0.25, 0.25),
    ],
)
def test_parse_duration_accepts(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("5 parsecs", "'5 parsecs'"),
        ("", "''"),
        ("s", "'s'"),
        ("5", "'5'"),
        ("-1s", "'-1s'"),
        ("1.2.3s", "'1.2.3s'"),
        ("1d", "'1d'"),
        (-1, "-1"),
        (-0.5, "-0.5"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        (10**400, "a very large integer"),
        (True, "true"),
        (None, "null"),
        ([1], "a list"),
        ({"s": 1}, "a table"),
        ("9" * 400 + "h", repr("9" * 40 + "...")),
    ],
)
def test_parse_duration_rejects(value: object, shown: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == f"expected a duration like 500ms, 2s or 1m, got {shown}"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (0.25, "250ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (30, "30s"),
        (90, "1m30s"),
        (3600, "1h"),
        (3661.5, "1h1m1.5s"),
        (0.0015, "1.5ms"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_round_trips() -> None:
    for text in ("250ms", "2s", "1m30s", "1h", "1h0m1s", "45s"):
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (0, 0),
        (1024, 1024),
        ("512KB", 512_000),
        ("10MB", 10_000_000),
        ("1GB", 1_000_000_000),
        ("1MiB", 1_048_576),
        ("1KiB", 1024),
        ("2gib", 2 * 1024**3),
        ("1.5MB", 1_500_000),
        ("10M", 10_000_000),
        ("100B", 100),
        ("100", 100),
        ("1 KB", 1000),
    ],
)
def test_parse_size_accepts(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("lots", "'lots'"),
        ("-1KB", "'-1KB'"),
        ("1XB", "'1XB'"),
        (-5, "-5"),
        (1.5, "1.5"),
        (True, "true"),
        ("", "''"),
    ],
)
def test_parse_size_rejects(value: object, shown: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(value)
    assert str(info.value) == f"expected a size like 512KB, 10MB or 1GB, got {shown}"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (50_000_000, "50MB"),
        (1_048_576, "1MiB"),
        (1024, "1KiB"),
        (1000, "1KB"),
        (1500, "1500B"),
        (0, "0B"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


def test_render_value_keeps_one_line() -> None:
    assert render_value("a\nb") == "'a\\nb'"
    assert render_value(False) == "false"
    assert render_value([]) == "an empty list"


@pytest.mark.parametrize("text", ["SIGTERM", "TERM", "sigterm", " term ", 15])
def test_parse_signal_accepts(text: object) -> None:
    assert parse_signal(text) == "SIGTERM"


def test_parse_signal_canonicalises_aliases() -> None:
    assert parse_signal("SIGIOT") == "SIGABRT"
    assert parse_signal("int") == "SIGINT"
    assert parse_signal("QUIT") == "SIGQUIT"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("SIGFOO", "'SIGFOO'"),
        ("", "''"),
        (True, "true"),
        (999, "999"),
        (None, "null"),
        ("SIG_DFL", "'SIG_DFL'"),
    ],
)
def test_parse_signal_rejects(value: object, shown: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_signal(value)
    assert str(info.value) == f"expected a signal name like SIGTERM, SIGINT or SIGQUIT, got {shown}"


def test_signal_name() -> None:
    assert signal_name(9) == "SIGKILL"
    assert signal_name(int(signal.SIGTERM)) == "SIGTERM"
    assert signal_name(signal.SIGRTMIN + 2) == "SIGRTMIN+2"
    assert signal_name(10_000) == "signal 10000"
