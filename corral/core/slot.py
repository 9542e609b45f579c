"""One slot of a service (`web:2`): its lifecycle task, restart policy and commands.

A slot's state changes only in its own lifecycle task. Commands (start, stop, restart) set what
is wanted, wake the task and wait for the state they asked for, so a command never races the
supervision logic, and two restarts asked for at once share one restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import anyio
import msgspec

from corral.core.backoff import crash_delay
from corral.core.capture import WorkerOutput
from corral.core.events import Outcome, WorkerChanged
from corral.core.exits import ExitInfo
from corral.core.process_worker import ProcessGeneration, worker_env
from corral.core.spawner import SpawnError
from corral.core.states import WorkerState, check_transition
from corral.core.thread_worker import ThreadGeneration

if TYPE_CHECKING:
    from corral.core.service import Service

W = WorkerState
T = TypeVar("T")
AT_REST = frozenset({W.STOPPED, W.EXITED, W.FAILED})
FRESH = frozenset({W.WAITING, W.STOPPED, W.EXITED, W.FAILED})


class Generation(Protocol):
    pid: int | None
    ready: anyio.Event

    async def run(self, output: WorkerOutput) -> ExitInfo: ...
    def signal(self, signame: str) -> None: ...
    def kill(self) -> None: ...


class Pulse:
    """A wake-up that any number of tasks can wait for; firing it wakes all current waiters."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = anyio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class SharedResult(Generic[T]):
    """One in-flight operation that several callers await."""

    def __init__(self) -> None:
        self._done = anyio.Event()
        self._result: T | None = None

    def set(self, result: T) -> None:
        self._result = result
        self._done.set()

    async def wait(self) -> T:
        await self._done.wait()
        assert self._result is not None
        return self._result


class Slot:
    def __init__(self, service: Service, index: int, wanted: bool) -> None:
        self.service = service
        self.index = index
        self.name = f"{service.id}:{index}"
        self.state = W.WAITING if wanted else W.STOPPED
        self.generation = 0
        self.pid: int | None = None
        self.restarts = 0
        self.attempt = 0  # failed starts in a row
        self.crashes = 0  # crashes since the last stable generation
        self.last_exit: ExitInfo | None = None
        self.started_at: float | None = None
        self.retry_at: float | None = None
        self.unresponsive = False
        self.killed = False
        self.ever_started = False  # a crash after this is not a failure to start
        self._running = False  # a generation is being spawned or runs
        self._current: Generation | None = None
        self._wanted = wanted
        self._retry_now = False
        self._removed = False
        self._pulse = Pulse()  # fired on every command
        self._changed = Pulse()  # fired on every state change
        self._restart: SharedResult[Outcome] | None = None
        self._stop_deadline: float | None = None  # monotonic, set by a shutdown
        self.output = WorkerOutput(
            service.id, index, service.logfile, service.sup.bus, service.sup.clock
        )

    # --- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """The slot's lifecycle task: runs generations while wanted, until removed."""
        self._publish(self.state, None, reason="" if self._wanted else "not selected")
        while True:
            if not self._wanted:
                if self.state in (W.WAITING, W.BACKOFF):
                    self._set(W.STOPPED, reason="stopped")
                if self._removed:
                    return
                await self._pulse.wait()
                continue
            if self.state in FRESH and not await self._dependencies_started():
                continue
            self._running = True
            try:
                info, was_started, stop_requested = await self._run_generation()
            finally:
                self._running = False
            self.last_exit = info
            self.pid = None
            if stop_requested:
                self._set(W.STOPPED, reason="killed" if self.killed else "stopped")
            else:
                self._after_exit(info, was_started)
            if self.state is W.BACKOFF:
                await self._backoff()

    async def _dependencies_started(self) -> bool:
        while self._wanted:
            missing = [d for d in self.service.deps if not d.all_started()]
            if not missing:
                return True
            reason = "waiting for " + ", ".join(
                f"{d.id} ({d.stuck_because()})" if d.hopeless() else d.id for d in missing
            )
            if self.state is not W.WAITING or self.reason != reason:
                self._set(W.WAITING, reason=reason)
            await self._pulse.wait()
        return False

    async def _run_generation(self) -> tuple[ExitInfo, bool, bool]:
        self.generation += 1
        if self.generation > 1:
            self.restarts += 1
        self.killed = False
        self.unresponsive = False
        self.retry_at = None
        self._was_started = False
        self._stop_requested = False
        self.started_at = self.service.sup.clock()
        try:
            gen = await self._spawn()
        except (SpawnError, OSError) as exc:
            self._set(W.STARTING, reason="spawning")
            return ExitInfo(code=127, reason=str(exc)), False, False
        self.pid = gen.pid
        self._current = gen
        self._set(W.STARTING, reason="spawned")
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._readiness, gen)
            tg.start_soon(self._stop_when_unwanted, gen)
            info = await gen.run(self.output)
            tg.cancel_scope.cancel()
        self._current = None
        return info, self._was_started, self._stop_requested

    async def _spawn(self) -> Generation:
        svc = self.service.settings
        env = worker_env(svc, self.index, self.service.desired, self.service.sup.environ)
        if svc.kind == "thread":
            return ThreadGeneration(svc, self.index, self.generation, env)
        spawner = self.service.sup.spawner
        assert spawner is not None, "the supervisor runs the fork server before any slot"
        return await ProcessGeneration.spawn(spawner, svc, self.index, env)

    async def _readiness(self, gen: Generation) -> None:
        svc = self.service.settings
        with anyio.move_on_after(svc.ready_after):
            await gen.ready.wait()
        if self.state is not W.STARTING:
            return
        self._was_started = True
        self.ever_started = True
        self.attempt = 0
        self._set(W.STARTED, reason="ready" if gen.ready.is_set() else "up")
        await anyio.sleep(svc.stable_after)
        self.crashes = 0

    async def _stop_when_unwanted(self, gen: Generation) -> None:
        while self._wanted:
            await self._pulse.wait()
        self._stop_requested = True
        svc = self.service.settings
        self._set(W.STOPPING, reason=svc.stop_signal if gen.pid else "stop requested")
        gen.signal(svc.stop_signal)
        kill_at = anyio.current_time() + svc.stop_timeout
        while (left := self._kill_at(kill_at) - anyio.current_time()) > 0:
            with anyio.move_on_after(left):
                await self._pulse.wait()  # a shutdown may bring the deadline forward
        self.killed = True
        gen.kill()
        if gen.pid is None:  # a thread cannot be killed: say so, and wait for it to return
            self.unresponsive = True
            self._publish(W.STOPPING, W.STOPPING, reason="unresponsive")

    def _kill_at(self, kill_at: float) -> float:
        return kill_at if self._stop_deadline is None else min(kill_at, self._stop_deadline)

    def _after_exit(self, info: ExitInfo, was_started: bool) -> None:
        svc = self.service.settings
        sup = self.service.sup
        if info.clean and svc.restart != "always":
            self._wanted = False
            self._set(W.EXITED, reason=info.describe())
        elif svc.restart == "never":
            self._wanted = False
            self._set(W.FAILED, reason=f"{info.describe()}; restart = never")
        elif not was_started:
            self.attempt += 1
            if self.attempt >= svc.start_attempts:
                self._wanted = False
                self._set(W.FAILED, reason=f"failed after {self.attempt} start attempts")
            else:
                self.retry_at = sup.clock() + svc.restart_delay
                self._set(W.BACKOFF, reason=f"failed to start ({info.describe()})")
        else:
            self.crashes += 1
            delay = crash_delay(self.crashes, svc.restart_delay, svc.restart_delay_max, sup.rand())
            self.retry_at = sup.clock() + delay
            self._set(W.BACKOFF, reason=f"crashed ({info.describe()})")

    async def _backoff(self) -> None:
        assert self.retry_at is not None
        self._retry_now = False
        with anyio.move_on_after(max(0.0, self.retry_at - self.service.sup.clock())):
            while self._wanted and not self._retry_now:
                await self._pulse.wait()

    # --- commands ------------------------------------------------------------------------------

    async def start(self) -> Outcome:
        if self.service.sup.shutdown_requested or self._removed:
            return self._outcome(False, "corral is stopping" if not self._removed else "removed")
        if self.state is W.STARTED:
            return self._outcome(True, "already started")
        if self.state in AT_REST:
            self.attempt = 0
            self.crashes = 0
        self._wanted = True
        self._retry_now = True
        self._pulse.fire()
        await self._until(lambda: self.state is W.STARTED or not self._wanted or self.blocked())
        if self.current_state() is W.STARTED:
            return self._outcome(True, f"started (pid {self.pid})" if self.pid else "started")
        return self._outcome(False, self.reason or str(self.state))

    async def stop(self) -> Outcome:
        if self.state in AT_REST and not self._wanted:
            return self._outcome(True, f"already {self.state}")
        self._wanted = False
        self._pulse.fire()
        await self._until(lambda: self.at_rest)
        if self.unresponsive:
            return self._outcome(False, "unresponsive: the thread did not return", killed=True)
        return self._outcome(True, "killed" if self.killed else "stopped", killed=self.killed)

    async def restart(self) -> Outcome:
        """Stop, then start. A restart asked for while one is in flight shares its result."""
        if self._restart is not None:
            return await self._restart.wait()
        shared = self._restart = SharedResult[Outcome]()
        result = self._outcome(False, "restart interrupted")
        try:
            stopped = await self.stop()
            result = await self.start() if stopped.ok else stopped
            if result.ok and self.pid:
                result = msgspec.structs.replace(result, message=f"restarted (pid {self.pid})")
        finally:
            self._restart = None
            shared.set(result)
        return result

    async def remove(self) -> Outcome:
        self._removed = True  # first: no start from now on can bring it back
        result = await self.stop()
        self._pulse.fire()
        return result

    def wake(self) -> None:
        self._pulse.fire()

    def shutdown(self, deadline: float) -> None:
        """Stop with every wait bounded by the shutdown deadline (monotonic)."""
        self._stop_deadline = deadline
        self._wanted = False
        self._pulse.fire()

    def kill_now(self) -> None:
        """The deadline is here: whatever still runs is killed."""
        self._stop_deadline = anyio.current_time()
        self._pulse.fire()

    def current_state(self) -> WorkerState:
        """The state now (after an await, where a narrowed `self.state` would mislead mypy)."""
        return self.state

    @property
    def thread_id(self) -> int | None:
        """The kernel's id of a running thread worker's thread."""
        return getattr(self._current, "thread_id", None)

    def blocked(self) -> bool:
        """Waiting for a dependency that has come to rest without starting: it will not start
        unless someone starts that dependency."""
        return self.state is W.WAITING and any(d.hopeless() for d in self.service.deps)

    @property
    def at_rest(self) -> bool:
        """No generation runs (or the one left is a thread that will not return)."""
        return (self.state in AT_REST and not self._running) or self.unresponsive

    async def wait_at_rest(self) -> None:
        await self._until(lambda: self.at_rest)

    async def _until(self, done: Callable[[], bool]) -> None:
        while not done():
            await self._changed.wait()

    # --- events --------------------------------------------------------------------------------

    reason = ""

    def _set(self, state: WorkerState, reason: str = "") -> None:
        if state is not self.state:
            check_transition(self.state, state)
        previous, self.state = self.state, state
        self._publish(state, previous, reason)

    def _publish(self, state: WorkerState, previous: WorkerState | None, reason: str) -> None:
        self.reason = reason
        self.state = state
        svc = self.service.settings
        info = self.last_exit if state in (W.EXITED, W.BACKOFF, W.FAILED, W.STOPPED) else None
        self.service.sup.bus.publish(
            WorkerChanged(
                service=self.service.id,
                slot=self.index,
                generation=self.generation,
                pid=self.pid if state not in AT_REST and state is not W.BACKOFF else None,
                state=state,
                previous=previous,
                at=self.service.sup.clock(),
                reason=reason,
                exit_code=info.code if info else None,
                signal=info.signal if info else None,
                attempt=self.attempt,
                max_attempts=svc.start_attempts,
                retry_at=self.retry_at if state is W.BACKOFF else None,
                restarts=self.restarts,
                started_at=self.started_at if state in (W.STARTING, W.STARTED) else None,
            )
        )
        self._changed.fire()
        self.service.slot_changed(self)

    def _outcome(self, ok: bool, message: str, killed: bool = False) -> Outcome:
        return Outcome(worker=self.name, ok=ok, state=self.state, message=message, killed=killed)
