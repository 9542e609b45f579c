"""Short human forms shared by the CLI and the dashboard: `3m05s`, `21.4M`, `running 2/3`."""

from __future__ import annotations


def duration(seconds: float | None, fine: bool = True) -> str:
    """`fine` shows seconds up to an hour; without it an uptime changes every ten seconds in its
    first minute and then once a minute: a dashboard of many idle workers need not redraw
    every second."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        if fine:
            return f"{s}s"
        return "<10s" if s < 10 else f"{s // 10 * 10}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s" if fine else f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def memory(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "K", "M"):
        if size < 1024:
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}G"


def service_text(state: str, started: int, desired: int) -> str:
    return f"{state} {started}/{desired}" if state in ("running", "degraded") else state


def last_exit(code: int | None, signal: str | None) -> str:
    if signal:
        return signal
    return "-" if code is None else f"exit {code}"


def worker_state(state: str, attempt: int, max_attempts: int, retry_in: float | None) -> str:
    """`backoff 4s`, `start 3/5`, or the state itself."""
    if state == "backoff" and retry_in is not None:
        return f"backoff {max(0, round(retry_in))}s"
    if state == "starting" and attempt:
        return f"start {attempt + 1}/{max_attempts}"
    return state
