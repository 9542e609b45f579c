"""Durations and sizes as people write them in a config: "500ms", "1m30s", "10MB"."""

from __future__ import annotations

import datetime
import math
import re
from fractions import Fraction

_DURATION = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ms|s|m|h))+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": Fraction(1, 1000), "s": Fraction(1), "m": Fraction(60), "h": Fraction(3600)}
_ZERO = re.compile(r"0+(?:\.0*)?")

_SIZE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+) ?([kmgt]i?b?|b)?")
_SIZE_UNITS = (
    ("TiB", 1024**4),
    ("TB", 1000**4),
    ("GiB", 1024**3),
    ("GB", 1000**3),
    ("MiB", 1024**2),
    ("MB", 1000**2),
    ("KiB", 1024),
    ("KB", 1000),
)

# Long inputs are never durations or sizes; the cap keeps Fraction away from huge digit strings.
_MAX_TEXT = 64


def render_value(value: object) -> str:
    """A value as an error message shows it: scalars as written, containers by their kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # str() of a huge int is slow and, past 4300 digits, raises.
        return str(value) if value.bit_length() <= 128 else "a very large integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, list | tuple):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, datetime.time):
        return "a time of day"
    if isinstance(value, bytes | bytearray):
        return "binary data"
    if isinstance(value, set | frozenset):
        return "a set"
    return f"a {type(value).__name__}"


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string like "250ms", "2s", "1m30s", "1h" or "0"."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = None
    elif isinstance(value, str) and len(value) <= _MAX_TEXT:
        text = value.strip().lower()
        if _ZERO.fullmatch(text):
            seconds = 0.0
        elif _DURATION.fullmatch(text):
            total = sum(
                (
                    Fraction(number) * _UNIT_SECONDS[unit]
                    for number, unit in _DURATION_PART.findall(text)
                ),
                Fraction(0),
            )
            seconds = float(total)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a duration like 500ms, 2s or 1m, got {render_value(value)}")
    return seconds


def parse_size(value: object) -> int:
    """Bytes from an integer or a string like "512KB", "10MB", "1GB" (powers of 1000) or "1MiB"."""
    size: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and len(value) <= _MAX_TEXT:
        match = _SIZE.fullmatch(value.strip().lower())
        if match:
            number, unit = match.groups()
            factor = 1
            if unit and unit != "b":
                power = 1 + "kmgt".index(unit[0])
                factor = 1024**power if "i" in unit else 1000**power
            size = int(Fraction(number) * factor)
    if size is None or size < 0:
        raise ValueError(f"expected a size like 512KB, 10MB or 1GB, got {render_value(value)}")
    return size


def format_duration(seconds: float) -> str:
    """The inverse of parse_duration for display: 0.5 -> "500ms", 90 -> "1m30s", 3600 -> "1h"."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000, 3):g}ms"
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    if millis:
        parts.append(f"{millis / 1000:g}s")
    return "".join(parts)


def format_size(size: int) -> str:
    """Bytes in the largest unit that divides them exactly: 50_000_000 -> "50MB"."""
    for unit, factor in _SIZE_UNITS:
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"
