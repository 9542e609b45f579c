"""Signal names as people write them ("TERM", "sigterm") and as corral shows them ("SIGTERM")."""

from __future__ import annotations

import signal

from corral.core.durations import render_value


def parse_signal(value: object) -> str:
    """The canonical name of a signal given as "SIGTERM", "TERM", "sigterm" or its number."""
    if isinstance(value, str):
        name = value.strip().upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        member = signal.Signals.__members__.get(name)
        if member is not None:
            return member.name  # an alias such as SIGIOT comes back as SIGABRT
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return signal.Signals(value).name
        except ValueError:
            pass
    raise ValueError(
        f"expected a signal name like SIGTERM, SIGINT or SIGQUIT, got {render_value(value)}"
    )


def signal_name(signum: int) -> str:
    """The name of a signal number, e.g. 9 -> "SIGKILL"; realtime ones as "SIGRTMIN+3"."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        pass
    low, high = getattr(signal, "SIGRTMIN", None), getattr(signal, "SIGRTMAX", None)
    if low is not None and high is not None and low < signum < high:
        return f"SIGRTMIN+{signum - low}"
    return f"signal {signum}"
