"""No worker and no descendant of a worker outlives corral, even when corral gets SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import pid_alive, wait_until

ESCAPER = textwrap.dedent(
    """
    import os, signal, sys, time
    out = sys.argv[1]

    def note():
        with open(out, "a") as f:
            f.write(f"{os.getpid()}\\n")

    note()
    # A grandchild that stays in the worker's process group.
    if os.fork() == 0:
        note()
        signal.pause()
    # A great-grandchild that leaves the group and the session (setsid) and is orphaned when
    # its parent exits: only a subreaper can still find it.
    if os.fork() == 0:
        middle = os.getpid()
        if os.fork() == 0:
            os.setsid()
            while os.getppid() == middle:  # until its parent is gone and it is re-parented
                time.sleep(0.01)
            note()
            signal.pause()
        os._exit(0)
    signal.pause()
    """
)


def _wait_lines(path: Path, n: int) -> list[int]:
    wait_until(lambda: path.exists() and len(path.read_text().split()) >= n, what=f"{n} pids")
    return [int(x) for x in path.read_text().split()]


def _wait_dead(pids: list[int]) -> None:
    wait_until(lambda: not any(pid_alive(p) for p in pids), what="every process to be gone")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGHUP"])
def test_nothing_survives_corral(tmp_path: Path, how: str) -> None:
    (tmp_path / "escaper.py").write_text(ESCAPER)
    (tmp_path / "corral.toml").write_text(
        textwrap.dedent(
            f"""
            [services.tree]
            command = ["{sys.executable}", "escaper.py", "pids-$CORRAL_WORKER"]
            workers = 2
            ready_after = "100ms"
            stop_timeout = "1s"
            """
        )
    )
    corral = subprocess.Popen(
        [sys.executable, "-m", "corral", "up", "--headless"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        pids = _wait_lines(tmp_path / "pids-0", 3) + _wait_lines(tmp_path / "pids-1", 3)
        assert all(pid_alive(p) for p in pids)
        corral.send_signal(getattr(signal, how))
        corral.wait(timeout=15)
        _wait_dead(pids)
        if how != "SIGKILL":
            # A worker that honoured SIGTERM: nothing had to be killed, so exit 0.
            assert corral.returncode == 0, corral.stderr.read() if corral.stderr else ""
    finally:
        if corral.poll() is None:
            os.kill(corral.pid, signal.SIGKILL)
            corral.wait()
