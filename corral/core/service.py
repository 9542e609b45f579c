"""A service: its slots, its log file, its aggregate status, and service-wide commands."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import anyio

from corral.core.events import Outcome, ServiceChanged, WorkerRemoved
from corral.core.logfile import RotatingLogFile
from corral.core.settings import ServiceSettings
from corral.core.slot import SharedResult, Slot
from corral.core.states import ServiceStatus, WorkerState, service_status

if TYPE_CHECKING:
    from corral.core.supervisor import Supervisor


class Service:
    def __init__(self, sup: Supervisor, settings: ServiceSettings, wanted: bool) -> None:
        self.sup = sup
        self.settings = settings
        self.id = settings.id
        self.deps: list[Service] = []
        self.dependents: list[Service] = []
        runtime = sup.settings.runtime
        self.logfile = RotatingLogFile(
            os.path.join(runtime.log_dir, f"{self.id}.log"),
            runtime.log_max_bytes,
            runtime.log_backups,
        )
        self.desired = settings.workers
        self.slots: list[Slot] = [Slot(self, i, wanted) for i in range(settings.workers)]
        self._status: tuple[ServiceStatus, int] | None = None
        self._restart: SharedResult[list[Outcome]] | None = None
        self._resizing = anyio.Lock()

    def all_started(self) -> bool:
        return bool(self.slots) and all(s.state is WorkerState.STARTED for s in self.slots)

    def hopeless(self) -> bool:
        """Every worker is at rest (or blocked in turn) and not all are started."""
        return not self.all_started() and all(
            s.state in (WorkerState.STOPPED, WorkerState.FAILED, WorkerState.EXITED) or s.blocked()
            for s in self.slots
        )

    def stuck_because(self) -> str:
        """Why a hopeless service will not start: `failed`, `stopped` or `blocked`."""
        if any(s.state is WorkerState.FAILED for s in self.slots):
            return "failed"
        return "blocked" if any(s.blocked() for s in self.slots) else "stopped"

    def status(self) -> tuple[ServiceStatus, int]:
        return service_status((s.state for s in self.slots), self.desired)

    def slot_changed(self, slot: Slot) -> None:
        status = self.status()
        if status != self._status:
            self._status = status
            self.sup.bus.publish(
                ServiceChanged(
                    service=self.id,
                    status=status[0],
                    started=status[1],
                    desired=self.desired,
                    at=self.sup.clock(),
                )
            )
        for dependent in self.dependents:  # they may start now, or be blocked by us
            for waiting in dependent.slots:
                if waiting.state is WorkerState.WAITING:
                    waiting.wake()
        self.sup.slot_changed(slot)

    async def restart(self) -> list[Outcome]:
        """Rolling: one worker at a time, each started before the next is stopped."""
        if self._restart is not None:
            return await self._restart.wait()
        shared = self._restart = SharedResult[list[Outcome]]()
        outcomes: list[Outcome] = []
        try:
            async with self._resizing:  # a scale-down cannot take a slot from under us
                for slot in list(self.slots):
                    outcomes.append(await slot.restart())
        finally:
            self._restart = None
            shared.set(outcomes)
        return outcomes

    async def scale(self, count: int) -> list[Outcome]:
        """Add slots (started at once) or remove the highest ones (stopped gracefully)."""
        async with self._resizing:  # one scale at a time, and never during a restart
            return await self._scale(count)

    async def _scale(self, count: int) -> list[Outcome]:
        outcomes: list[Outcome] = []
        self.desired = count
        while len(self.slots) > count:
            slot = self.slots[-1]
            outcomes.append(await slot.remove())
            self.slots.remove(slot)
            self.sup.bus.publish(
                WorkerRemoved(service=self.id, slot=slot.index, at=self.sup.clock())
            )
        new = [Slot(self, i, True) for i in range(len(self.slots), count)]
        self.slots.extend(new)
        for slot in new:
            self.sup.adopt(slot)
        for slot in new:
            outcomes.append(await slot.start())
        self._status = None
        if self.slots:
            self.slot_changed(self.slots[-1])
        return outcomes
