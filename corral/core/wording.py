"""One-line descriptions of what happened to a worker, shared by every front end."""

from __future__ import annotations

from corral.core.events import WorkerChanged
from corral.core.states import WorkerState

W = WorkerState


def exit_text(ev: WorkerChanged) -> str:
    if ev.signal:
        return f"killed by {ev.signal}"
    if ev.exit_code is not None:
        return f"exit {ev.exit_code}"
    return ""


def describe_change(ev: WorkerChanged) -> str:
    """E.g. `started (pid 4242)`, `crashed (exit 1), restarting in 1.0s`."""
    pid = f"pid {ev.pid}" if ev.pid else "thread"
    if ev.state is W.STARTING:
        if ev.pid is None and ev.reason == "spawning":
            return "starting"
        text = f"starting ({pid})"
        if ev.attempt:
            text += f", attempt {ev.attempt + 1}/{ev.max_attempts}"
        return text
    if ev.state is W.STARTED:
        return f"started ({pid})"
    if ev.state is W.BACKOFF:
        delay = max(0.0, (ev.retry_at or ev.at) - ev.at)
        if ev.reason.startswith("failed to start"):
            return f"{ev.reason}, attempt {ev.attempt}/{ev.max_attempts}, retrying in {delay:.1f}s"
        return f"{ev.reason}, restarting in {delay:.1f}s"
    if ev.state is W.STOPPING:
        if ev.reason == "unresponsive":
            return "unresponsive: still running after stop_timeout"
        return f"stopping ({ev.reason})" if ev.reason else "stopping"
    if ev.state is W.STOPPED:
        if ev.reason == "killed":
            return "killed (did not stop within stop_timeout)"
        return "stopped" if ev.reason in ("", "stopped") else f"stopped ({ev.reason})"
    if ev.state is W.EXITED:
        return f"exited ({exit_text(ev) or ev.reason})"
    if ev.state is W.FAILED:
        return ev.reason if ev.reason.startswith("failed") else f"failed ({ev.reason})"
    return ev.reason or str(ev.state)
