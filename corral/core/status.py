"""The status document of `corral status --json` (design §8), built from the live supervisor."""

from __future__ import annotations

import os

from corral.core.metrics import Metrics
from corral.core.protocol import (
    LastExit,
    RuntimeStatus,
    ServiceStatusDoc,
    StatusDoc,
    WorkerStatus,
)
from corral.core.states import WorkerState
from corral.core.supervisor import Supervisor


def build_status(sup: Supervisor, metrics: Metrics, started_at: float) -> StatusDoc:
    now = sup.clock()
    slots = [slot for svc in sup.services.values() for slot in svc.slots]
    usage = metrics.sample(slot.pid for slot in slots if slot.pid)
    threads = metrics.sample_threads(slot.thread_id for slot in slots if slot.thread_id)
    services = []
    for svc in sup.services.values():
        status, started = svc.status()
        workers = []
        for slot in svc.slots:
            used = usage.get(slot.pid) if slot.pid else None
            last = slot.last_exit
            workers.append(
                WorkerStatus(
                    slot=slot.index,
                    generation=slot.generation,
                    pid=slot.pid,
                    state=slot.state.value,
                    uptime_s=round(now - slot.started_at, 3)
                    if slot.started_at is not None and slot.pid is not None
                    else None,
                    restarts=slot.restarts,
                    last_exit=LastExit(code=last.code, signal=last.signal)
                    if last is not None and (last.code is not None or last.signal)
                    else None,
                    cpu_percent=used.cpu_percent
                    if used
                    else threads.get(slot.thread_id)
                    if slot.thread_id
                    else None,
                    memory_bytes=used.memory_bytes if used else None,
                    reason=slot.reason,
                    attempt=slot.attempt,
                    max_attempts=svc.settings.start_attempts,
                    retry_in_s=round(max(0.0, slot.retry_at - now), 3)
                    if slot.state is WorkerState.BACKOFF and slot.retry_at is not None
                    else None,
                )
            )
        services.append(
            ServiceStatusDoc(
                id=svc.id,
                kind=svc.settings.kind,
                state=status.value,
                workers_desired=svc.desired,
                workers_started=started,
                workers=workers,
            )
        )
    runtime = RuntimeStatus(
        name=sup.settings.runtime.name,
        config=sup.settings.path,
        pid=os.getpid(),
        uptime_s=round(now - started_at, 3),
        state=sup.bus.runtime.state,
    )
    return StatusDoc(runtime=runtime, services=services)
