"""The daemon: the supervisor in a process of its own, owning the control socket (design §7).

Started detached (new session, stdin from /dev/null, output to `log_dir/corral.log`) by
`corral up`; a lock file held for its whole life makes it the only daemon of its config.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Sequence

import anyio

from corral.core.control import ControlServer
from corral.core.events import RuntimeChanged, WorkerChanged
from corral.core.rundir import lock_path, socket_path
from corral.core.settings import Settings
from corral.core.supervisor import Supervisor, stop_on_signals
from corral.core.wording import describe_change

DOWN_GRACE = 2.0  # after the last worker stopped, time left to answer `corral down`


def acquire_lock(config_path: str) -> int | None:
    """The daemon's lock, held until it exits; None when another daemon holds it."""
    fd = os.open(lock_path(config_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


async def _journal(sup: Supervisor) -> None:
    """State changes, one line each, on the daemon's own output (its log file)."""
    sub = sup.bus.subscribe(logs=False)
    while batch := await sub.next_batch():
        out = []
        for ev in batch:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            if isinstance(ev, WorkerChanged) and ev.previous is not None:
                out.append(f"{stamp} {ev.service}:{ev.slot} {describe_change(ev)}\n")
            elif isinstance(ev, RuntimeChanged):
                out.append(f"{stamp} corral {ev.state} {ev.reason}".rstrip() + "\n")
        if out:
            print("".join(out), end="", flush=True)


async def _main(settings: Settings, selection: Sequence[str], path: str) -> int:
    sup = Supervisor(settings, selection)
    server = ControlServer(sup, path, started_at=time.time())
    async with anyio.create_task_group() as tg:
        tg.start_soon(stop_on_signals, sup)
        tg.start_soon(_journal, sup)
        await tg.start(server.serve)
        code = await sup.run()
        with anyio.move_on_after(DOWN_GRACE):
            while server.down_replies:
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    return code


def run_daemon(settings: Settings, selection: Sequence[str]) -> int:
    lock = acquire_lock(settings.path)
    if lock is None:
        print(f"corral: a daemon is already running for {settings.path}")
        return 0
    path = socket_path(settings.path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # we hold the lock, so whatever is there was left by a dead daemon
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} corral daemon {os.getpid()} for {settings.path}")
    try:
        return anyio.run(_main, settings, selection, path, backend="asyncio")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(lock)
