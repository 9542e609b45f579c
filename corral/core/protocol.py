"""The control protocol (design §7): length-prefixed msgpack frames of typed messages.

A client sends requests with ids; the daemon answers each with a reply carrying that id, or an
Error with the same one-line message the CLI prints. A Subscribe request is answered with a
Snapshot, then Events frames for as long as the connection lasts, with no gap and no duplicate.
"""

from __future__ import annotations

import struct
from typing import Literal

import msgspec

from corral.core.events import Event, LogLines, Outcome, Snapshot

MAX_REQUEST = 1 << 20  # what a client may send in one frame
MAX_REPLY = 64 << 20  # what the daemon may send in one frame (a snapshot with long rings)
HEADER = struct.Struct(">I")


# --- requests ----------------------------------------------------------------------------------


class StatusRequest(msgspec.Struct, frozen=True, tag="status"):
    id: int


class Command(msgspec.Struct, frozen=True, tag="command"):
    id: int
    verb: Literal["start", "stop", "restart"]
    targets: list[str]


class Scale(msgspec.Struct, frozen=True, tag="scale"):
    id: int
    service: str
    count: int


class LogsRequest(msgspec.Struct, frozen=True, tag="logs"):
    id: int
    targets: list[str]
    lines: int
    since: float | None = None  # wall-clock time


class Subscribe(msgspec.Struct, frozen=True, tag="subscribe"):
    id: int
    targets: list[str] = []  # log lines of these workers only (state events of all)
    lines: int | None = None  # retained lines in the snapshot: the last N merged (None: all)


class Own(msgspec.Struct, frozen=True, tag="own"):
    """This connection is the foreground `corral up`: if it goes away without Detach, stop."""

    id: int


class Detach(msgspec.Struct, frozen=True, tag="detach"):
    id: int


class Down(msgspec.Struct, frozen=True, tag="down"):
    id: int


Request = StatusRequest | Command | Scale | LogsRequest | Subscribe | Own | Detach | Down


# --- replies -----------------------------------------------------------------------------------


class LastExit(msgspec.Struct, frozen=True, omit_defaults=True):
    code: int | None = None
    signal: str | None = None


class WorkerStatus(msgspec.Struct, frozen=True):
    slot: int
    generation: int
    pid: int | None
    state: str
    uptime_s: float | None
    restarts: int
    last_exit: LastExit | None
    cpu_percent: float | None
    memory_bytes: int | None
    reason: str = ""
    attempt: int = 0
    max_attempts: int = 0
    retry_in_s: float | None = None


class ServiceStatusDoc(msgspec.Struct, frozen=True):
    id: str
    kind: str
    state: str
    workers_desired: int
    workers_started: int
    workers: list[WorkerStatus]


class RuntimeStatus(msgspec.Struct, frozen=True):
    name: str
    config: str
    pid: int
    uptime_s: float
    state: str = "running"


class StatusDoc(msgspec.Struct, frozen=True):
    """`corral status --json`: stable across releases (fields may be added, never renamed)."""

    runtime: RuntimeStatus
    services: list[ServiceStatusDoc]


class StatusReply(msgspec.Struct, frozen=True, tag="status"):
    id: int
    status: StatusDoc


class Outcomes(msgspec.Struct, frozen=True, tag="outcomes"):
    id: int
    outcomes: list[Outcome]


class LogsReply(msgspec.Struct, frozen=True, tag="logs"):
    id: int
    logs: list[LogLines]


class Subscribed(msgspec.Struct, frozen=True, tag="snapshot"):
    id: int
    snapshot: Snapshot


class Events(msgspec.Struct, frozen=True, tag="events"):
    id: int
    events: list[Event]


class Ok(msgspec.Struct, frozen=True, tag="ok"):
    id: int


class DownReply(msgspec.Struct, frozen=True, tag="down"):
    id: int
    exit_code: int


class Error(msgspec.Struct, frozen=True, tag="error"):
    id: int
    kind: Literal["target", "usage", "protocol", "internal"]
    message: str


Reply = StatusReply | Outcomes | LogsReply | Subscribed | Events | Ok | DownReply | Error

_encoder = msgspec.msgpack.Encoder()
request_decoder = msgspec.msgpack.Decoder(Request)
reply_decoder = msgspec.msgpack.Decoder(Reply)


def frame(message: Request | Reply) -> bytes:
    payload = _encoder.encode(message)
    return HEADER.pack(len(payload)) + payload
