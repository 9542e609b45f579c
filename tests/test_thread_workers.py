"""Thread workers: context, output attribution, exceptions as crashes, stopping."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from corral.core.events import LogLines
from corral.core.states import WorkerState
from tests.conftest import make_config, supervising, until

W = WorkerState
pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, target: str, extra: str = "") -> str:
    return f"""
        [services.t]
        target = "tests.workers.threads:{target}"
        cwd = "{ROOT}"
        ready_after = "5s"
        restart_delay = "100ms"
        stop_timeout = "500ms"
        {extra}
        """


def _lines(rec: object, worker: str) -> list[tuple[str, str]]:
    return [
        (e.stream, line)
        for e in rec.events  # type: ignore[attr-defined]
        if isinstance(e, LogLines) and f"{e.service}:{e.slot}" == worker
        for line in e.lines
    ]


async def test_print_and_logging_are_attributed_to_their_worker(tmp_path: Path) -> None:
    settings = make_config(tmp_path, _config(tmp_path, "chat", "workers = 2"))
    async with supervising(settings) as (sup, rec):
        await sup.started.wait()  # ready() was called: well before ready_after's 5 s
        await until(lambda: len(_lines(rec, "t:1")) >= 3)
        lines = _lines(rec, "t:1")
        assert ("out", "hello from t:1 of 2") in lines
        assert ("err", "INFO corral.worker.t.1: logged by the context logger") in lines
        assert ("err", "WARNING someone.else: logged by a module logger") in lines
        assert all("t:0" not in text for _, text in lines)
        log = (Path(settings.runtime.log_dir) / "t.log").read_text()
        assert " t:1 out | hello from t:1 of 2" in log
        [outcome] = await sup.stop(["t:0"])
        assert outcome.ok and not outcome.killed


async def test_an_exception_ends_the_worker_like_a_crash(tmp_path: Path) -> None:
    settings = make_config(tmp_path, _config(tmp_path, "boom"))
    async with supervising(settings) as (_sup, rec):
        await until(lambda: rec.count("t:0", W.BACKOFF) >= 1)
        crash = next(e for e in rec.states("t:0") if e.state is W.BACKOFF)
        assert crash.reason == "crashed (ValueError: boom)"
        assert crash.exit_code == 1
        await until(lambda: any("ValueError: boom" in text for _, text in _lines(rec, "t:0")))


async def test_an_async_target_is_cancelled_on_stop(tmp_path: Path) -> None:
    settings = make_config(tmp_path, _config(tmp_path, "async_worker"))
    async with supervising(settings) as (sup, rec):
        await sup.started.wait()
        [outcome] = await sup.stop(["t"])
        assert outcome.ok and outcome.state is W.STOPPED and not outcome.killed
        await until(lambda: ("out", "cancelled cleanly") in _lines(rec, "t:0"))


async def test_a_thread_that_ignores_stop_is_reported_unresponsive(tmp_path: Path) -> None:
    settings = make_config(tmp_path, _config(tmp_path, "deaf"))
    async with supervising(settings) as (sup, rec):
        await sup.started.wait()
        t0 = anyio.current_time()
        [outcome] = await sup.stop(["t"])
        assert 0.5 <= anyio.current_time() - t0 < 2.0
        assert not outcome.ok and outcome.killed
        assert outcome.message == "unresponsive: the thread did not return"
        last = rec.states("t:0")[-1]
        assert (last.state, last.reason) == (W.STOPPING, "unresponsive")
        # When the thread finally returns, the worker is stopped.
        await until(lambda: sup.services["t"].slots[0].state is W.STOPPED, timeout=5)


async def test_a_busy_thread_worker_shows_its_cpu(tmp_path: Path) -> None:
    from corral.core.metrics import Metrics
    from corral.core.status import build_status

    settings = make_config(tmp_path, _config(tmp_path, "spin"))
    async with supervising(settings) as (sup, _):
        await sup.started.wait()
        metrics = Metrics()
        build_status(sup, metrics, 0.0)
        await anyio.sleep(0.3)
        [worker] = build_status(sup, metrics, 0.0).services[0].workers
        assert worker.pid is None and worker.memory_bytes is None
        assert worker.cpu_percent is not None and worker.cpu_percent > 20, worker
