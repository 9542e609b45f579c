"""The supervisor: owns the fork server, the services and their slots, and shutdown."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

import anyio
from anyio.abc import TaskGroup

from corral.core.bus import Bus
from corral.core.events import Outcome, RuntimeChanged
from corral.core.graph import closure, start_levels
from corral.core.service import Service
from corral.core.settings import Settings
from corral.core.slot import Slot
from corral.core.spawner import Spawner
from corral.core.states import WorkerState

KILL_GRACE = 5.0
SETTLED = frozenset({WorkerState.STARTED, WorkerState.FAILED, WorkerState.EXITED})


class TargetError(ValueError):
    """A target names no service or slot; the message lists what exists."""


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        selection: Sequence[str] = (),
        *,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.rand = rand
        self.environ = dict(os.environ if environ is None else environ)
        self.bus = Bus(
            settings.runtime.log_ring_lines, RuntimeChanged(state="starting", at=clock())
        )
        deps = {sid: svc.depends_on for sid, svc in settings.services.items()}
        for name in selection:
            if name not in deps:
                raise TargetError(unknown_service(name, deps))
        wanted = closure(deps, selection) if selection else set(deps)
        self.levels = start_levels(deps)
        self.services = {
            sid: Service(self, svc, sid in wanted) for sid, svc in settings.services.items()
        }
        for svc in self.services.values():
            svc.deps = [self.services[d] for d in svc.settings.depends_on]
            for dep in svc.deps:
                dep.dependents.append(svc)
        self._initial = [s for svc in self.services.values() if svc.id in wanted for s in svc.slots]
        self.started = anyio.Event()  # every selected worker started, failed or exited once
        self.stopped = anyio.Event()
        self._shutdown = anyio.Event()
        self._tg: TaskGroup | None = None
        self.spawner: Spawner | None = None
        self.exit_code = 0

    # --- running -------------------------------------------------------------------------------

    async def run(self) -> int:
        """Supervise until asked to shut down; then stop everything in order. Returns the exit
        code: 0 when everything stopped cleanly, 1 when something had to be killed."""
        spawner = self.spawner = Spawner.launch()
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                tg.start_soon(spawner.serve)
                for svc in self.services.values():
                    for slot in svc.slots:
                        tg.start_soon(slot.run)
                await self._shutdown.wait()
                self.exit_code = await self._stop_everything()
                tg.cancel_scope.cancel()
        finally:
            spawner.close()
            for svc in self.services.values():
                svc.logfile.close()
            self.stopped.set()
            self.bus.close()
        return self.exit_code

    def request_shutdown(self, reason: str = "") -> None:
        if not self._shutdown.is_set():
            self._publish_runtime("stopping", reason)
            self._shutdown.set()

    @property
    def shutdown_requested(self) -> bool:
        return self._shutdown.is_set()

    def force(self) -> None:
        """A second interrupt: kill whatever still runs, now."""
        for svc in self.services.values():
            for slot in svc.slots:
                slot.kill_now()

    def adopt(self, slot: Slot) -> None:
        assert self._tg is not None
        self._tg.start_soon(slot.run)

    async def _stop_everything(self) -> int:
        timeout = self.settings.runtime.shutdown_timeout
        deadline = anyio.current_time() + timeout
        slots: list[Slot] = []
        # Workers are killed at the deadline; past a few more seconds, corral stops waiting
        # for whatever cannot even be killed (a process stuck in the kernel).
        with anyio.move_on_after(timeout + KILL_GRACE) as scope:
            for level in reversed(self.levels):
                level_slots = [slot for sid in level for slot in self.services[sid].slots]
                slots += level_slots
                for slot in level_slots:
                    slot.shutdown(deadline)
                async with anyio.create_task_group() as tg:
                    for slot in level_slots:
                        tg.start_soon(slot.wait_at_rest)
        killed = scope.cancelled_caught or any(s.killed or s.unresponsive for s in slots)
        self._publish_runtime("stopped", "some workers had to be killed" if killed else "")
        return 1 if killed else 0

    def slot_changed(self, slot: Slot) -> None:
        if not self.started.is_set() and all(_settled(s) for s in self._initial):
            self.started.set()
            if not self._shutdown.is_set():
                self._publish_runtime("running")

    def _publish_runtime(self, state: str, reason: str = "") -> None:
        self.bus.publish(RuntimeChanged(state=state, at=self.clock(), reason=reason))

    # --- commands ------------------------------------------------------------------------------

    def resolve(self, targets: Iterable[str]) -> list[Service | Slot]:
        """`web`, `web:2` or `all` to services and slots; TargetError for anything unknown."""
        found: list[Service | Slot] = []
        for target in targets:
            if target == "all":
                found.extend(self.services.values())
                continue
            sid, colon, index = target.partition(":")
            svc = self.services.get(sid)
            if svc is None:
                raise TargetError(unknown_service(sid, self.services))
            if not colon:
                found.append(svc)
                continue
            if not index.isdigit() or int(index) >= len(svc.slots):
                raise TargetError(f"no worker {target}; {sid} has {slot_range(len(svc.slots))}")
            found.append(svc.slots[int(index)])
        return found

    async def start(self, targets: Iterable[str]) -> list[Outcome]:
        return await self._each(self._slots(targets), Slot.start)

    async def stop(self, targets: Iterable[str]) -> list[Outcome]:
        """Dependents first: one level at a time, in reverse start order."""
        slots = self._slots(targets)
        outcomes: list[Outcome] = []
        for level in reversed(self.levels):
            outcomes += await self._each([s for s in slots if s.service.id in level], Slot.stop)
        return outcomes

    async def restart(self, targets: Iterable[str]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for item in self.resolve(targets):
            if isinstance(item, Service):
                outcomes += await item.restart()
            else:
                outcomes.append(await item.restart())
        return outcomes

    async def scale(self, service: str, count: int) -> list[Outcome]:
        svc = self.services.get(service)
        if svc is None:
            raise TargetError(unknown_service(service, self.services))
        return await svc.scale(count)

    def _slots(self, targets: Iterable[str]) -> list[Slot]:
        slots: list[Slot] = []
        for item in self.resolve(targets):
            for slot in item.slots if isinstance(item, Service) else [item]:
                if slot not in slots:
                    slots.append(slot)
        return slots

    @staticmethod
    async def _each(slots: list[Slot], op: Callable[[Slot], Awaitable[Outcome]]) -> list[Outcome]:
        """Run `op` on every slot at once; outcomes in the slots' order."""
        outcomes: dict[int, Outcome] = {}

        async def one(i: int, slot: Slot) -> None:
            outcomes[i] = await op(slot)

        async with anyio.create_task_group() as tg:
            for i, slot in enumerate(slots):
                tg.start_soon(one, i, slot)
        return [outcomes[i] for i in range(len(slots))]


def _settled(slot: Slot) -> bool:
    """Done starting, one way or the other: started, given up, or blocked by a dependency
    that gave up. A worker that crashed after it had started counts as started."""
    if slot.state in SETTLED:
        return True
    return (slot.state is WorkerState.BACKOFF and slot.ever_started) or slot.blocked()


def unknown_service(name: str, services: Iterable[str]) -> str:
    return f'unknown service "{name}"; services are: {", ".join(sorted(services))}'


def slot_range(count: int) -> str:
    if count == 0:
        return "no slots"
    return "slot 0" if count == 1 else f"slots 0-{count - 1}"


async def stop_on_signals(sup: Supervisor) -> None:
    """SIGINT, SIGTERM or SIGHUP stop everything in order; a second SIGINT kills what is left."""
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async for signum in signals:
            if sup.stopped.is_set():
                return
            if signum == signal.SIGINT and sup.shutdown_requested:
                sup.force()
            else:
                sup.request_shutdown(f"received {signal.Signals(signum).name}")
