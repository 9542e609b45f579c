"""Worker states (design §3), the transitions between them, and a service's aggregate status."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class WorkerState(StrEnum):
    WAITING = "waiting"
    STARTING = "starting"
    STARTED = "started"
    STOPPING = "stopping"
    STOPPED = "stopped"
    EXITED = "exited"
    BACKOFF = "backoff"
    FAILED = "failed"


class ServiceStatus(StrEnum):
    RUNNING = "running"
    DEGRADED = "degraded"
    STARTING = "starting"
    STOPPED = "stopped"
    FAILED = "failed"


W = WorkerState
# Every transition the supervisor may take; anything else is a bug and raises.
TRANSITIONS: dict[WorkerState, frozenset[WorkerState]] = {
    W.WAITING: frozenset({W.STARTING, W.STOPPED}),
    W.STARTING: frozenset({W.STARTED, W.STOPPING, W.EXITED, W.BACKOFF, W.FAILED}),
    W.STARTED: frozenset({W.STOPPING, W.EXITED, W.BACKOFF, W.FAILED}),
    W.STOPPING: frozenset({W.STOPPED}),
    W.STOPPED: frozenset({W.STARTING, W.WAITING}),
    W.EXITED: frozenset({W.STARTING, W.WAITING, W.STOPPED}),
    W.BACKOFF: frozenset({W.STARTING, W.STOPPED}),
    W.FAILED: frozenset({W.STARTING, W.WAITING, W.STOPPED}),
}

# States in which a slot has no generation running.
AT_REST = frozenset({W.WAITING, W.STOPPED, W.EXITED, W.BACKOFF, W.FAILED})


class InvalidTransition(RuntimeError):
    pass


def check_transition(old: WorkerState, new: WorkerState) -> None:
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(f"{old} -> {new}")


def service_status(states: Iterable[WorkerState], desired: int) -> tuple[ServiceStatus, int]:
    """The aggregate shown for a service, and how many of its workers are started."""
    states = list(states)
    started = sum(1 for s in states if s is W.STARTED)
    if desired == 0 or all(s in (W.STOPPED, W.EXITED) for s in states):
        return ServiceStatus.STOPPED, started
    if started == desired:
        return ServiceStatus.RUNNING, started
    if started == 0 and any(s is W.FAILED for s in states):
        return ServiceStatus.FAILED, started
    if (
        started == 0
        and not any(s is W.FAILED for s in states)
        and any(s in (W.WAITING, W.STARTING) for s in states)
    ):
        return ServiceStatus.STARTING, started
    return ServiceStatus.DEGRADED, started
