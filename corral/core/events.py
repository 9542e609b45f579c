"""Typed events published on the bus (design §5), and the snapshot a subscriber starts from."""

from __future__ import annotations

import msgspec

from corral.core.states import ServiceStatus, WorkerState


class WorkerChanged(msgspec.Struct, frozen=True, kw_only=True, tag="worker"):
    """A worker (one slot) changed state."""

    service: str
    slot: int
    generation: int
    pid: int | None
    state: WorkerState
    previous: WorkerState | None
    at: float  # wall-clock time of the change
    reason: str = ""
    exit_code: int | None = None
    signal: str | None = None  # the signal that ended the generation, e.g. "SIGKILL"
    attempt: int = 0  # failed starts in a row so far (shown as "start 3/5")
    max_attempts: int = 0
    retry_at: float | None = None  # wall-clock time of the next start while in backoff
    restarts: int = 0  # generations started after the first
    started_at: float | None = None  # when the current generation was spawned


class WorkerRemoved(msgspec.Struct, frozen=True, kw_only=True, tag="removed"):
    """A slot was removed by scaling down."""

    service: str
    slot: int
    at: float


class LogLines(msgspec.Struct, frozen=True, kw_only=True, tag="log"):
    """Lines captured together from one worker's stream; one timestamp for the batch."""

    service: str
    slot: int
    stream: str  # "out" | "err"
    at: float
    lines: list[str]


class LinesDropped(msgspec.Struct, frozen=True, kw_only=True, tag="dropped"):
    """This subscriber fell behind and lost `count` log lines at this point of its stream."""

    count: int


class ServiceChanged(msgspec.Struct, frozen=True, kw_only=True, tag="service"):
    service: str
    status: ServiceStatus
    started: int
    desired: int
    at: float


class RuntimeChanged(msgspec.Struct, frozen=True, kw_only=True, tag="runtime"):
    state: str  # "starting" | "running" | "stopping" | "stopped"
    at: float
    reason: str = ""


Event = WorkerChanged | WorkerRemoved | LogLines | LinesDropped | ServiceChanged | RuntimeChanged


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """The result of a command on one worker, as callers (CLI, dashboard) report it."""

    worker: str
    ok: bool
    state: WorkerState
    message: str
    killed: bool = False


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Current state plus retained log lines; events published after it follow without a gap."""

    runtime: RuntimeChanged
    services: list[ServiceChanged]
    workers: list[WorkerChanged]
    logs: list[LogLines]
