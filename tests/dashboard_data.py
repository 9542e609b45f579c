"""Scripted data for dashboard tests and screenshots: a demo-like project at a fixed time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from corral.core.events import (
    Event,
    LogLines,
    Outcome,
    RuntimeChanged,
    ServiceChanged,
    Snapshot,
    WorkerChanged,
)
from corral.core.protocol import (
    LastExit,
    RuntimeStatus,
    ServiceStatusDoc,
    StatusDoc,
    WorkerStatus,
)
from corral.core.states import ServiceStatus, WorkerState

NOW = 1_780_000_000.0  # a fixed clock: every figure on screen derives from it
W = WorkerState

# (service, kind, [(slot, state, pid, extra)])
DEMO: list[tuple[str, str, list[tuple[int, WorkerState, int | None, dict[str, object]]]]] = [
    ("store", "process", [(0, W.STARTED, 4101, {})]),
    (
        "web",
        "process",
        [(0, W.STARTED, 4110, {}), (1, W.STARTED, 4111, {}), (2, W.STARTED, 4112, {})],
    ),
    ("traffic", "process", [(0, W.STARTED, 4120, {})]),
    (
        "flaky",
        "process",
        [(0, W.BACKOFF, None, {"exit_code": 2, "retry_at": NOW + 4.2, "restarts": 3})],
    ),
    ("chatty", "process", [(0, W.STARTED, 4130, {})]),
    ("jobs", "thread", [(0, W.STARTED, None, {}), (1, W.STARTED, None, {})]),
]

LINES = {
    "store:0": [
        "store: opening data files",
        "store: accepting connections",
        "store: 212 keys, 4 clients",
    ],
    "web:0": ['127.0.0.1 - - "GET / HTTP/1.1" 200 -', 'GET /missing HTTP/1.1" 404 -'],
    "web:1": ["Serving HTTP on 127.0.0.1 port 8702 (http://127.0.0.1:8702/) ..."],
    "web:2": [
        '127.0.0.1 - - "GET /apps.py HTTP/1.1" 200 -',
        "Traceback (most recent call last):",
        "OSError: [Errno 98] Address already in use",
    ],
    "traffic:0": ["GET :8701/ -> 200", "GET :8703/missing -> HTTP Error 404: File not found"],
    "flaky:0": ["flaky: up, handling work", "flaky: step 0", "flaky: something went wrong"],
    "chatty:0": [f"handled order #{n} in {n % 37}ms" for n in range(1, 6)],
    "jobs:0": ["job 0-1: sent 12 emails", "job 0-2: sent 3 emails"],
    "jobs:1": ["job 1-1: sent 7 emails"],
}


def _worker(
    service: str, slot: int, state: WorkerState, pid: int | None, extra: dict[str, object]
) -> WorkerChanged:
    running = state in (W.STARTED, W.STARTING)
    return WorkerChanged(
        service=service,
        slot=slot,
        generation=1 + int(extra.get("restarts", 0)),  # type: ignore[call-overload]
        pid=pid,
        state=state,
        previous=W.STARTING,
        at=NOW - 5,
        reason="crashed (exit 2)" if state is W.BACKOFF else extra.get("reason", "up"),  # type: ignore[arg-type]
        exit_code=extra.get("exit_code"),  # type: ignore[arg-type]
        attempt=int(extra.get("attempt", 0)),  # type: ignore[call-overload]
        max_attempts=5,
        retry_at=extra.get("retry_at"),  # type: ignore[arg-type]
        restarts=int(extra.get("restarts", 0)),  # type: ignore[call-overload]
        started_at=NOW - 3725 - slot * 61 if running else None,
    )


def demo_snapshot(
    changes: dict[str, tuple[WorkerState, int | None, dict[str, object]]] | None = None,
) -> tuple[Snapshot, StatusDoc]:
    """The demo as the daemon would describe it; `changes` overrides some workers."""
    changes = changes or {}
    workers: list[WorkerChanged] = []
    services: list[ServiceChanged] = []
    docs: list[ServiceStatusDoc] = []
    for service, kind, slots in DEMO:
        views = []
        for slot, state, pid, extra in slots:
            state, pid, extra = changes.get(f"{service}:{slot}", (state, pid, extra))
            views.append(_worker(service, slot, state, pid, extra))
        workers += views
        started = sum(1 for w in views if w.state is W.STARTED)
        status = (
            ServiceStatus.RUNNING
            if started == len(views)
            else ServiceStatus.FAILED
            if started == 0 and any(w.state is W.FAILED for w in views)
            else ServiceStatus.DEGRADED
        )
        services.append(
            ServiceChanged(
                service=service, status=status, started=started, desired=len(views), at=NOW
            )
        )
        docs.append(
            ServiceStatusDoc(
                id=service,
                kind=kind,
                state=status.value,
                workers_desired=len(views),
                workers_started=started,
                workers=[
                    WorkerStatus(
                        slot=w.slot,
                        generation=w.generation,
                        pid=w.pid,
                        state=w.state.value,
                        uptime_s=None,
                        restarts=w.restarts,
                        last_exit=LastExit(code=w.exit_code) if w.exit_code is not None else None,
                        cpu_percent=round(0.3 + w.slot * 1.7, 1) if w.pid else None,
                        memory_bytes=(18 + w.slot * 3) * 1024 * 1024 if w.pid else None,
                    )
                    for w in views
                ],
            )
        )
    logs = []
    for i, (name, lines) in enumerate(LINES.items()):
        service, slot = name.split(":")
        for j, text in enumerate(lines):
            errors = ("wrong", "404", "Traceback", "Errno")
            stream = "err" if any(e in text for e in errors) else "out"
            logs.append(
                LogLines(
                    service=service,
                    slot=int(slot),
                    stream=stream,
                    at=NOW - 60 + i + j * 0.5,
                    lines=[text],
                )
            )
    logs.sort(key=lambda b: b.at)
    snapshot = Snapshot(
        runtime=RuntimeChanged(state="running", at=NOW - 3800),
        services=services,
        workers=workers,
        logs=logs,
    )
    doc = StatusDoc(
        runtime=RuntimeStatus(
            name="demo", config="/home/me/shop/corral.toml", pid=4100, uptime_s=3812.0
        ),
        services=docs,
    )
    return snapshot, doc


class ScriptedClient:
    """A stand-in daemon for snapshot tests: canned state, and a record of what was asked."""

    def __init__(self, snapshot: Snapshot, status: StatusDoc) -> None:
        self.snapshot = snapshot
        self.doc = status
        self.asked: list[tuple[str, list[str]]] = []
        self._send, self._receive = anyio.create_memory_object_stream[list[Event]](100)

    async def subscribe(
        self, targets: list[str] | None = None, lines: int | None = None
    ) -> tuple[Snapshot, MemoryObjectReceiveStream[list[Event]]]:
        return self.snapshot, self._receive

    async def status(self) -> StatusDoc:
        return self.doc

    async def _ask(self, verb: str, targets: list[str]) -> list[Outcome]:
        self.asked.append((verb, targets))
        return [Outcome(worker=t, ok=True, state=W.STARTED, message=f"{verb}ed") for t in targets]

    async def start(self, targets: list[str]) -> list[Outcome]:
        return await self._ask("start", targets)

    async def stop(self, targets: list[str]) -> list[Outcome]:
        return await self._ask("stop", targets)

    async def restart(self, targets: list[str]) -> list[Outcome]:
        return await self._ask("restart", targets)

    async def scale(self, service: str, count: int) -> list[Outcome]:
        self.asked.append(("scale", [service, str(count)]))
        return []

    async def own(self) -> None:
        pass

    async def detach(self) -> None:
        self.asked.append(("detach", []))

    async def down(self) -> int:
        self.asked.append(("down", []))
        return 0

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[ScriptedClient]:
        yield self


async def wait_ready(pilot: Any, *keys: str) -> None:
    """Until the app shows the scripted daemon's data; then press `keys`."""
    app = pilot.app
    for _ in range(200):
        if app.connected and app.model.services:
            break
        await pilot.pause(0.02)
    app.refresh_table()
    for key in keys:
        await pilot.press(key)
    await pilot.pause(0.3)
