"""The dashboard's view of the daemon: workers, services and log history, from the client's
snapshot and events. Plain Python: the widgets only read it."""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from corral.core.events import (
    Event,
    LinesDropped,
    LogLines,
    RuntimeChanged,
    ServiceChanged,
    Snapshot,
    WorkerChanged,
    WorkerRemoved,
)
from corral.core.protocol import StatusDoc
from corral.core.states import WorkerState
from corral.tui.logview import WORKER_COLOURS, LogLine

W = WorkerState
HISTORY = 2000  # lines kept per worker, so a new selection shows its history at once
ALL = "all"


def service_key(service: str) -> str:
    # `@` cannot appear in a service id, so a service's row never shares a key with a worker's.
    return f"@{service}"


@dataclass
class WorkerView:
    service: str
    slot: int
    state: WorkerState = W.WAITING
    generation: int = 0
    pid: int | None = None
    reason: str = ""
    attempt: int = 0
    max_attempts: int = 0
    retry_at: float | None = None
    restarts: int = 0
    started_at: float | None = None
    exit_code: int | None = None
    signal: str | None = None
    cpu_percent: float | None = None
    memory_bytes: int | None = None

    @property
    def name(self) -> str:
        return f"{self.service}:{self.slot}"


@dataclass
class ServiceView:
    id: str
    kind: str = "process"
    status: str = "starting"
    started: int = 0
    desired: int = 0
    workers: dict[int, WorkerView] = field(default_factory=dict)


class DashboardModel:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.services: dict[str, ServiceView] = {}
        self.runtime_state = "starting"
        self.runtime_reason = ""
        self.name = ""
        self.config = ""
        self.daemon_pid: int | None = None
        self.daemon_started: float | None = None
        self.history: dict[str, deque[LogLine]] = {}
        self.colours: dict[str, int] = {}
        self.pending: list[LogLine] = []  # new lines not yet shown
        self.dirty = True  # states changed: the table and the available keys need a refresh
        self.metrics_changed = False  # CPU and memory changed: the table needs a refresh

    # --- feeding -------------------------------------------------------------------------------

    def load(self, snapshot: Snapshot) -> None:
        self.services.clear()
        self.history.clear()
        self.pending.clear()
        for svc in snapshot.services:
            self._service(svc)
        for worker in snapshot.workers:
            self._worker(worker)
        self._runtime(snapshot.runtime)
        for batch in snapshot.logs:
            self._lines(batch, pending=False)
        self.dirty = True

    def apply(self, events: Iterable[Event]) -> None:
        for ev in events:
            if isinstance(ev, LogLines):
                self._lines(ev, pending=True)
            elif isinstance(ev, WorkerChanged):
                self._worker(ev)
                self.dirty = True
            elif isinstance(ev, ServiceChanged):
                self._service(ev)
                self.dirty = True
            elif isinstance(ev, WorkerRemoved):
                svc = self.services.get(ev.service)
                if svc is not None:
                    svc.workers.pop(ev.slot, None)
                self.dirty = True
            elif isinstance(ev, LinesDropped):
                text = f"── {ev.count} lines dropped here (the dashboard fell behind) ──"
                self.pending.append(LogLine(self.clock(), "", "marker", text, 0))
            elif isinstance(ev, RuntimeChanged):
                self._runtime(ev)
                self.dirty = True

    def apply_status(self, doc: StatusDoc) -> None:
        self.name = doc.runtime.name
        self.config = doc.runtime.config
        self.daemon_pid = doc.runtime.pid
        self.daemon_started = self.clock() - doc.runtime.uptime_s
        for svc in doc.services:
            view = self.services.setdefault(svc.id, ServiceView(svc.id))
            view.kind = svc.kind
            for w in svc.workers:
                worker = view.workers.get(w.slot)
                if worker is not None and worker.pid == w.pid:
                    worker.cpu_percent = w.cpu_percent
                    worker.memory_bytes = w.memory_bytes
        self.metrics_changed = True

    def _runtime(self, ev: RuntimeChanged) -> None:
        self.runtime_state = ev.state
        self.runtime_reason = ev.reason

    def _service(self, ev: ServiceChanged) -> None:
        view = self.services.setdefault(ev.service, ServiceView(ev.service))
        view.status = ev.status.value
        view.started = ev.started
        view.desired = ev.desired

    def _worker(self, ev: WorkerChanged) -> None:
        svc = self.services.setdefault(ev.service, ServiceView(ev.service))
        worker = svc.workers.get(ev.slot)
        if worker is None:
            worker = svc.workers[ev.slot] = WorkerView(ev.service, ev.slot)
            svc.workers = dict(sorted(svc.workers.items()))
        if worker.pid != ev.pid:
            worker.cpu_percent = worker.memory_bytes = None
        worker.state = ev.state
        worker.generation = ev.generation
        worker.pid = ev.pid
        worker.reason = ev.reason
        worker.attempt = ev.attempt
        worker.max_attempts = ev.max_attempts
        worker.retry_at = ev.retry_at
        worker.restarts = ev.restarts
        worker.started_at = ev.started_at
        if ev.exit_code is not None or ev.signal is not None:
            worker.exit_code, worker.signal = ev.exit_code, ev.signal

    def colour(self, worker: str) -> int:
        if worker not in self.colours:
            self.colours[worker] = len(self.colours) % len(WORKER_COLOURS)
        return self.colours[worker]

    def _lines(self, batch: LogLines, pending: bool) -> None:
        name = f"{batch.service}:{batch.slot}"
        colour = self.colour(name)
        lines = [LogLine(batch.at, name, batch.stream, text, colour) for text in batch.lines]
        history = self.history.get(name)
        if history is None:
            history = self.history[name] = deque(maxlen=HISTORY)
        history.extend(lines)
        if pending:
            self.pending.extend(lines)

    # --- reading -------------------------------------------------------------------------------

    def workers(self) -> Iterator[WorkerView]:
        for svc in self.services.values():
            yield from svc.workers.values()

    def worker(self, name: str) -> WorkerView | None:
        service, _, slot = name.partition(":")
        svc = self.services.get(service)
        return svc.workers.get(int(slot)) if svc is not None and slot.isdigit() else None

    def selected_workers(self, selection: str) -> set[str]:
        if selection == ALL:
            return {w.name for w in self.workers()} | set(self.history)
        if selection.startswith("@"):
            svc = self.services.get(selection[1:])
            prefix = selection[1:] + ":"
            named = {w.name for w in svc.workers.values()} if svc else set()
            return named | {n for n in self.history if n.startswith(prefix)}
        return {selection}

    def history_for(self, selection: str, limit: int) -> list[LogLine]:
        """The retained lines of the selection, merged in time order."""
        names = self.selected_workers(selection)
        # In history order, not set order: lines stamped alike always merge the same way.
        streams = [lines for name, lines in self.history.items() if name in names]
        merged = list(heapq.merge(*streams, key=lambda line: line.at))
        return merged[-limit:]

    def take_pending(self, selection: str) -> list[LogLine]:
        lines, self.pending = self.pending, []
        if selection == ALL:
            return lines
        names = self.selected_workers(selection)
        return [line for line in lines if line.worker in names or line.stream == "marker"]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for w in self.workers():
            counts[w.state.value] = counts.get(w.state.value, 0) + 1
        return counts
