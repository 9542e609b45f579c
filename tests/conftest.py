from __future__ import annotations

import os
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from corral.core.bus import Subscription
from corral.core.config import load_config
from corral.core.events import Event, WorkerChanged
from corral.core.settings import Settings
from corral.core.states import WorkerState
from corral.core.supervisor import Supervisor

PY = sys.executable


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_config(tmp_path: Path, text: str, name: str = "corral.toml") -> Settings:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_config(str(path))


class Recorder:
    """Collects every event a supervisor publishes, for assertions on order and timing."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.events: list[Event] = []

    async def run(self) -> None:
        while batch := await self.sub.next_batch():
            self.events.extend(batch)

    def states(self, worker: str | None = None) -> list[WorkerChanged]:
        return [
            e
            for e in self.events
            if isinstance(e, WorkerChanged)
            and (worker is None or f"{e.service}:{e.slot}" == worker)
        ]

    def count(self, worker: str, state: WorkerState) -> int:
        return sum(1 for e in self.states(worker) if e.state is state)


async def until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll `predicate` until true, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await anyio.sleep(0.01)


@asynccontextmanager
async def supervising(
    settings: Settings, *selection: str
) -> AsyncIterator[tuple[Supervisor, Recorder]]:
    sup = Supervisor(settings, selection)
    rec = Recorder(sup.bus.subscribe(max_lines=10_000_000, max_events=1_000_000))
    async with anyio.create_task_group() as tg:
        tg.start_soon(rec.run)
        done = anyio.Event()

        async def run() -> None:
            await sup.run()
            done.set()

        tg.start_soon(run)
        try:
            yield sup, rec
        finally:
            sup.request_shutdown("test over")
            with anyio.fail_after(30):
                await done.wait()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """The synchronous twin of `until`, for tests that drive corral from outside."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)
