"""The supervisor with real subprocesses: restarts, failed starts, backoff, stops, dependencies."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from corral.core.states import WorkerState
from tests.conftest import PY, make_config, pid_alive, supervising, until

W = WorkerState
pytestmark = pytest.mark.anyio


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


async def test_crash_restarts_only_that_worker_after_the_delay(tmp_path: Path) -> None:
    # Slot 0 crashes once, half a second after it is up; slot 1 keeps running.
    script = _script(
        tmp_path,
        "w.py",
        "import os, sys, time\n"
        "flag = f'crashed-{os.environ[\"CORRAL_WORKER\"]}'\n"
        "if os.environ['CORRAL_WORKER'] == '0' and not os.path.exists(flag):\n"
        "    open(flag, 'w').close(); time.sleep(0.5); sys.exit(1)\n"
        "time.sleep(60)\n",
    )
    settings = make_config(
        tmp_path,
        f"""
        [services.web]
        command = ["{PY}", "{script}"]
        workers = 2
        ready_after = "100ms"
        restart_delay = "400ms"
        """,
    )
    async with supervising(settings) as (sup, rec):
        await until(lambda: rec.count("web:0", W.STARTED) == 2, what="web:0 restarted")
        crash = next(e for e in rec.states("web:0") if e.state is W.BACKOFF)
        restart = [e for e in rec.states("web:0") if e.state is W.STARTING][1]
        assert crash.exit_code == 1
        assert crash.reason == "crashed (exit 1)"
        assert 0.4 * 0.9 <= restart.at - crash.at < 0.4 * 1.1 + 0.3
        assert rec.count("web:1", W.STARTING) == 1
        assert sup.services["web"].slots[1].generation == 1
        assert sup.services["web"].slots[0].generation == 2
        assert sup.services["web"].slots[0].restarts == 1


async def test_failed_starts_end_in_failed_after_exactly_start_attempts(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    settings = make_config(
        tmp_path,
        f"""
        [services.bad]
        command = ["sh", "-c", "echo start >> {count}; exit 3"]
        restart_delay = "50ms"
        start_attempts = 3
        """,
    )
    async with supervising(settings) as (_sup, rec):
        await until(lambda: rec.count("bad:0", W.FAILED) == 1, what="bad:0 failed")
        await anyio.sleep(0.3)  # give a wrong extra start the chance to happen
        assert count.read_text().count("start") == 3
        assert rec.count("bad:0", W.STARTING) == 3
        failed = rec.states("bad:0")[-1]
        assert failed.state is W.FAILED
        assert failed.reason == "failed after 3 start attempts"
        assert failed.exit_code == 3
        backoffs = [e for e in rec.states("bad:0") if e.state is W.BACKOFF]
        assert [e.attempt for e in backoffs] == [1, 2]


async def test_command_not_found_is_a_failed_start(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.ghost]
        command = "no-such-program-anywhere --flag"
        restart_delay = "10ms"
        start_attempts = 2
        """,
    )
    async with supervising(settings) as (_sup, rec):
        await until(lambda: rec.count("ghost:0", W.FAILED) == 1)
        backoff = next(e for e in rec.states("ghost:0") if e.state is W.BACKOFF)
        assert "command not found: no-such-program-anywhere" in backoff.reason


async def test_backoff_grows_and_resets_after_stable_after(tmp_path: Path) -> None:
    # Generations 1-3 crash fast; generation 4 stays up past stable_after; 5 crashes fast again.
    counter = tmp_path / "gen"
    script = _script(
        tmp_path,
        "crash.py",
        "import sys, time\n"
        f"p = {str(counter)!r}\n"
        "try: n = int(open(p).read())\n"
        "except FileNotFoundError: n = 0\n"
        "open(p, 'w').write(str(n + 1))\n"
        "time.sleep(0.9 if n + 1 == 4 else 0.15)\n"
        "sys.exit(1)\n",
    )
    settings = make_config(
        tmp_path,
        f"""
        [services.loop]
        command = ["{PY}", "{script}"]
        ready_after = "50ms"
        restart_delay = "100ms"
        restart_delay_max = "10s"
        stable_after = "500ms"
        """,
    )
    async with supervising(settings) as (_sup, rec):
        await until(lambda: rec.count("loop:0", W.BACKOFF) >= 5, timeout=15)
        delays = [
            e.retry_at - e.at for e in rec.states("loop:0") if e.state is W.BACKOFF and e.retry_at
        ]
        base = 0.1
        expected = [base, base * 2, base * 4, base, base * 2]
        for got, want in zip(delays, expected, strict=False):
            assert want * 0.9 - 1e-6 <= got <= want * 1.1 + 1e-6, (delays, expected)


async def test_worker_ignoring_sigterm_is_killed_with_its_grandchildren(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    settings = make_config(
        tmp_path,
        f"""
        [services.stubborn]
        shell = true
        command = "trap '' TERM; sleep 300 & echo $! > {pids}; while true; do sleep 0.05; done"
        ready_after = "100ms"
        stop_timeout = "700ms"
        """,
    )
    async with supervising(settings) as (sup, rec):
        await until(lambda: rec.count("stubborn:0", W.STARTED) == 1 and pids.exists())
        await until(lambda: pids.read_text().strip() != "")
        grandchild = int(pids.read_text())
        leader = sup.services["stubborn"].slots[0].pid
        assert leader and pid_alive(grandchild)
        t0 = anyio.current_time()
        [outcome] = await sup.stop(["stubborn"])
        took = anyio.current_time() - t0
        assert outcome.killed and outcome.ok
        assert 0.7 <= took < 2.0
        await until(lambda: not pid_alive(grandchild) and not pid_alive(leader), timeout=3)
        assert rec.states("stubborn:0")[-1].reason == "killed"


async def test_dependencies_start_in_order_and_stop_in_reverse(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [defaults]
        ready_after = "200ms"
        stop_timeout = "2s"

        [services.api]
        command = "sleep 60"
        depends_on = ["web"]

        [services.web]
        command = "sleep 60"
        workers = 2
        depends_on = ["db"]

        [services.db]
        command = "sleep 60"
        """,
    )
    async with supervising(settings) as (sup, rec):
        await sup.started.wait()
        assert all(svc.all_started() for svc in sup.services.values())
        sup.request_shutdown()
        await sup.stopped.wait()
    order = [(f"{e.service}:{e.slot}", e.state) for e in rec.states()]

    def first(worker: str, state: W) -> int:
        return order.index((worker, state))

    assert first("db:0", W.STARTED) < first("web:0", W.STARTING)
    assert first("db:0", W.STARTED) < first("web:1", W.STARTING)
    assert max(first("web:0", W.STARTED), first("web:1", W.STARTED)) < first("api:0", W.STARTING)
    assert first("api:0", W.STOPPED) < first("web:0", W.STOPPING)
    assert max(first("web:0", W.STOPPED), first("web:1", W.STOPPED)) < first("db:0", W.STOPPING)
    assert first("web:0", W.WAITING) < first("db:0", W.STARTED)


async def test_selection_starts_named_services_and_their_dependencies_only(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [defaults]
        ready_after = "0s"
        [services.db]
        command = "sleep 60"
        [services.web]
        command = "sleep 60"
        depends_on = ["db"]
        [services.other]
        command = "sleep 60"
        """,
    )
    async with supervising(settings, "web") as (sup, rec):
        await sup.started.wait()
        assert sup.services["web"].all_started() and sup.services["db"].all_started()
        assert sup.services["other"].slots[0].state is W.STOPPED
        assert rec.count("other:0", W.STARTING) == 0


async def test_concurrent_restarts_share_one_restart(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.web]
        command = "sleep 60"
        ready_after = "200ms"
        """,
    )
    async with supervising(settings) as (sup, rec):
        await sup.started.wait()
        slot = sup.services["web"].slots[0]
        first_pid = slot.pid
        results = []

        async def restart() -> None:
            results.append(await sup.restart(["web:0"]))

        async with anyio.create_task_group() as tg:
            tg.start_soon(restart)
            await until(lambda: slot.state is not W.STARTED)
            tg.start_soon(restart)
        assert results[0] == results[1]
        [outcome] = results[0]
        assert outcome.ok and outcome.state is W.STARTED
        assert slot.generation == 2  # one restart, not two
        assert slot.pid != first_pid
        assert rec.count("web:0", W.STARTING) == 2


async def test_exit_zero_under_on_failure_is_exited_and_never_restarted(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.once]
        command = "true"
        ready_after = "0s"
        restart_delay = "10ms"
        [services.never]
        command = "sh -c 'sleep 0.2; exit 4'"
        restart = "never"
        ready_after = "50ms"
        """,
    )
    async with supervising(settings) as (_sup, rec):
        await until(lambda: rec.count("once:0", W.EXITED) and rec.count("never:0", W.FAILED))
        await anyio.sleep(0.2)
        assert rec.count("once:0", W.STARTING) == 1
        assert rec.count("never:0", W.STARTING) == 1
        assert rec.states("never:0")[-1].reason == "exit 4; restart = never"


async def test_restart_always_restarts_a_clean_exit(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.cron]
        command = "sh -c 'sleep 0.2'"
        restart = "always"
        ready_after = "50ms"
        restart_delay = "50ms"
        """,
    )
    async with supervising(settings) as (_sup, rec):
        await until(lambda: rec.count("cron:0", W.STARTED) >= 2)
        assert rec.count("cron:0", W.EXITED) == 0


async def test_stop_start_and_scale(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.web]
        command = "sleep 60"
        workers = 2
        ready_after = "50ms"
        """,
    )
    async with supervising(settings) as (sup, _rec):
        await sup.started.wait()
        [outcome] = await sup.stop(["web:1"])
        assert outcome.ok and outcome.state is W.STOPPED and not outcome.killed
        assert sup.services["web"].status()[0].value == "degraded"
        [outcome] = await sup.start(["web:1"])
        assert outcome.ok and outcome.state is W.STARTED
        outcomes = await sup.scale("web", 4)
        assert [o.worker for o in outcomes] == ["web:2", "web:3"]
        assert all(o.ok for o in outcomes)
        removed_pid = sup.services["web"].slots[3].pid
        assert removed_pid is not None
        outcomes = await sup.scale("web", 1)
        assert [o.worker for o in outcomes] == ["web:3", "web:2", "web:1"]
        assert len(sup.services["web"].slots) == 1
        await until(lambda: not pid_alive(removed_pid))
        assert sup.bus.services["web"].desired == 1


async def test_unknown_targets_list_what_exists(tmp_path: Path) -> None:
    from corral.core.supervisor import TargetError

    settings = make_config(
        tmp_path,
        """
        [services.web]
        command = "sleep 60"
        workers = 3
        [services.db]
        command = "sleep 60"
        """,
    )
    async with supervising(settings) as (sup, _rec):
        with pytest.raises(TargetError, match=r"^no worker web:7; web has slots 0-2$"):
            sup.resolve(["web:7"])
        with pytest.raises(TargetError, match=r'^unknown service "wbe"; services are: db, web$'):
            sup.resolve(["wbe"])


async def test_shutdown_exit_code_is_1_when_something_was_killed(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [runtime]
        shutdown_timeout = "500ms"
        [services.deaf]
        shell = true
        command = "trap '' TERM; while true; do sleep 0.05; done"
        ready_after = "50ms"
        stop_timeout = "20s"
        """,
    )
    async with supervising(settings) as (sup, _rec):
        await sup.started.wait()
        t0 = anyio.current_time()
        sup.request_shutdown()
        await sup.stopped.wait()
        # One deadline for everything: the 20 s stop_timeout is cut to the 0.5 s shutdown.
        assert anyio.current_time() - t0 < 2.0
    assert sup.exit_code == 1


async def test_supervision_survives_the_fork_server_being_killed(tmp_path: Path) -> None:
    import os
    import signal

    settings = make_config(
        tmp_path,
        """
        [services.web]
        command = "sleep 60"
        workers = 2
        ready_after = "50ms"
        restart_delay = "50ms"
        """,
    )
    async with supervising(settings) as (sup, rec):
        await sup.started.wait()
        assert sup.spawner is not None
        server = sup.spawner.pid
        old = [slot.pid for slot in sup.services["web"].slots]
        os.kill(server, signal.SIGKILL)
        await until(
            lambda: all(
                s.state is W.STARTED and s.pid not in old for s in sup.services["web"].slots
            ),
            what="both workers running again under a new fork server",
        )
        assert sup.spawner.pid != server
        await until(lambda: not any(pid_alive(p) for p in old if p))
        crash = next(e for e in rec.states("web:0") if e.state is W.BACKOFF)
        assert crash.reason == "crashed (the fork server died)"


async def test_a_failed_dependency_settles_startup_and_start_says_why(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.db]
        command = "sh -c 'exit 1'"
        restart_delay = "10ms"
        start_attempts = 2
        [services.web]
        command = "sleep 60"
        depends_on = ["db"]
        [services.api]
        command = "sleep 60"
        depends_on = ["web"]
        """,
    )
    async with supervising(settings) as (sup, rec):
        with anyio.fail_after(10):
            await sup.started.wait()  # startup is over: nothing more will start by itself
        assert sup.services["web"].slots[0].state is W.WAITING
        await until(lambda: rec.states("web:0")[-1].reason == "waiting for db (failed)")
        await until(lambda: rec.states("api:0")[-1].reason == "waiting for web (blocked)")
        with anyio.fail_after(10):
            [outcome] = await sup.start(["api"])
        assert not outcome.ok and outcome.message == "waiting for web (blocked)"


async def test_concurrent_scales_and_a_restart_never_lose_a_worker(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.web]
        command = "sleep 60"
        workers = 4
        ready_after = "50ms"
        """,
    )
    async with supervising(settings) as (sup, _):
        await sup.started.wait()
        pids = [s.pid for s in sup.services["web"].slots]
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(sup.restart, ["web"])
                tg.start_soon(sup.scale, "web", 3)
                tg.start_soon(sup.scale, "web", 2)
        slots = sup.services["web"].slots
        assert [s.index for s in slots] == [0, 1]
        assert all(s.state is W.STARTED for s in slots)
        await until(lambda: sum(pid_alive(p) for p in pids if p) <= 2)
        live = {s.pid for s in slots}
        assert all(not pid_alive(p) for p in pids if p and p not in live)
