"""The event bus (design §5): retained state, a log ring per worker, and bounded subscriptions.

Everything here runs on the supervisor's event loop thread, so publishing is a plain function
call that never waits: a subscriber that does not read only fills its own queue.
"""

from __future__ import annotations

from collections import deque

import anyio

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

WorkerKey = tuple[str, int]


class LogRing:
    """The last `limit` lines of one worker, kept as the batches they arrived in."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.batches: deque[LogLines] = deque()
        self.lines = 0

    def add(self, batch: LogLines) -> None:
        if len(batch.lines) > self.limit:
            batch = LogLines(
                service=batch.service,
                slot=batch.slot,
                stream=batch.stream,
                at=batch.at,
                lines=batch.lines[-self.limit :],
            )
        self.batches.append(batch)
        self.lines += len(batch.lines)
        while self.lines > self.limit:
            oldest = self.batches[0]
            excess = self.lines - self.limit
            if len(oldest.lines) <= excess:
                self.batches.popleft()
                self.lines -= len(oldest.lines)
            else:
                self.batches[0] = LogLines(
                    service=oldest.service,
                    slot=oldest.slot,
                    stream=oldest.stream,
                    at=oldest.at,
                    lines=oldest.lines[excess:],
                )
                self.lines -= excess


class Subscription:
    """One consumer's queue. Log lines beyond `max_lines` pending are dropped (and counted);
    state events are never dropped, only coalesced to the latest per worker when too many pile up.
    """

    def __init__(self, bus: Bus, max_lines: int, max_events: int, logs: bool = True) -> None:
        self._bus = bus
        self._logs = logs
        self._max_lines = max_lines
        self._max_events = max_events
        self._pending: deque[Event] = deque()
        self._lines = 0
        self._dropped = 0
        self._wakeup = anyio.Event()
        self.closed = False

    def offer(self, event: Event) -> None:
        if isinstance(event, LogLines):
            if not self._logs:
                return
            n = len(event.lines)
            if self._lines + n > self._max_lines:
                self._dropped += n
                return
            self._mark_drops()
            self._lines += n
        elif len(self._pending) >= self._max_events:
            self._coalesce()
        self._pending.append(event)
        self._wakeup.set()

    def _mark_drops(self) -> None:
        if self._dropped:
            self._pending.append(LinesDropped(count=self._dropped))
            self._dropped = 0

    def _coalesce(self) -> None:
        """Keep every log batch, and only the newest state event of each kind and subject."""
        latest: dict[object, int] = {}
        items = list(self._pending)
        for i, ev in enumerate(items):
            key = _subject(ev)
            if key is not None:
                latest[key] = i
        self._pending = deque(
            ev for i, ev in enumerate(items) if (k := _subject(ev)) is None or latest[k] == i
        )

    async def next_batch(self) -> list[Event]:
        """Everything pending, waiting for at least one event. Empty once closed and drained."""
        while not self._pending and not self._dropped and not self.closed:
            self._wakeup = anyio.Event()
            await self._wakeup.wait()
        self._mark_drops()
        batch = list(self._pending)
        self._pending.clear()
        self._lines = 0
        return batch

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()
        self._bus.unsubscribe(self)


def _subject(event: Event) -> object | None:
    if isinstance(event, WorkerChanged | WorkerRemoved):
        return ("worker", event.service, event.slot)
    if isinstance(event, ServiceChanged):
        return ("service", event.service)
    if isinstance(event, RuntimeChanged):
        return ("runtime",)
    return None


class Bus:
    def __init__(self, ring_lines: int, now: RuntimeChanged) -> None:
        self._ring_lines = ring_lines
        self._subs: list[Subscription] = []
        self.runtime = now
        self.workers: dict[WorkerKey, WorkerChanged] = {}
        self.services: dict[str, ServiceChanged] = {}
        self.rings: dict[WorkerKey, LogRing] = {}

    def publish(self, event: Event) -> None:
        if isinstance(event, LogLines):
            key = (event.service, event.slot)
            ring = self.rings.get(key)
            if ring is None:
                ring = self.rings[key] = LogRing(self._ring_lines)
            ring.add(event)
        elif isinstance(event, WorkerChanged):
            self.workers[(event.service, event.slot)] = event
        elif isinstance(event, WorkerRemoved):
            self.workers.pop((event.service, event.slot), None)
            self.rings.pop((event.service, event.slot), None)
        elif isinstance(event, ServiceChanged):
            self.services[event.service] = event
        elif isinstance(event, RuntimeChanged):
            self.runtime = event
        for sub in self._subs:
            sub.offer(event)

    def subscribe(
        self, max_lines: int = 50_000, max_events: int = 10_000, logs: bool = True
    ) -> Subscription:
        """Follow live events from now on (without log lines when `logs` is false)."""
        sub = Subscription(self, max_lines, max_events, logs)
        self._subs.append(sub)
        return sub

    def snapshot_and_subscribe(
        self, max_lines: int = 50_000, max_events: int = 10_000
    ) -> tuple[Snapshot, Subscription]:
        """The current state and retained lines, and a subscription that continues exactly after."""
        logs = sorted(
            (batch for ring in self.rings.values() for batch in ring.batches),
            key=lambda b: b.at,
        )
        snap = Snapshot(
            runtime=self.runtime,
            services=list(self.services.values()),
            workers=list(self.workers.values()),
            logs=logs,
        )
        return snap, self.subscribe(max_lines, max_events)

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def close(self) -> None:
        for sub in list(self._subs):
            sub.close()
