"""The daemon and its verbs, as a user drives them: real daemons, real sockets, real processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import pid_alive, wait_until

pytestmark = pytest.mark.timeout(90)


class Project:
    """A folder with a corral.toml, and the environment that isolates its daemon's socket."""

    def __init__(self, root: Path, config: str) -> None:
        self.root = root
        (root / "corral.toml").write_text(textwrap.dedent(config))
        runtime = root / "run"
        runtime.mkdir(mode=0o700)
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "NO_COLOR": "1"}

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "corral", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "corral", *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def status(self) -> dict[str, object]:
        result = self.run("status", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    def pids(self, service: str) -> list[int | None]:
        svc = next(s for s in self.status()["services"] if s["id"] == service)  # type: ignore[attr-defined]
        return [w["pid"] for w in svc["workers"]]

    def daemon_pid(self) -> int:
        return int(self.status()["runtime"]["pid"])  # type: ignore[index]


WEB = """
[services.web]
command = "sh -c 'echo web $CORRAL_WORKER up; exec sleep 300'"
workers = 3
ready_after = "100ms"
stop_timeout = "2s"
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    p = Project(tmp_path, WEB)
    yield p
    p.run("down")


def test_up_detached_status_restart_scale_logs_and_down(project: Project) -> None:
    up = project.run("up", "-d")
    assert up.returncode == 0, up.stderr
    assert "web              running 3/3" in up.stdout
    doc = project.status()
    assert doc["runtime"]["config"] == str(project.root / "corral.toml")  # type: ignore[index]
    [web] = doc["services"]  # type: ignore[misc]
    assert (web["id"], web["kind"], web["state"]) == ("web", "process", "running")
    assert (web["workers_desired"], web["workers_started"]) == (3, 3)
    worker = web["workers"][0]
    assert set(worker) >= {
        "slot",
        "generation",
        "pid",
        "state",
        "uptime_s",
        "restarts",
        "last_exit",
        "cpu_percent",
        "memory_bytes",
    }
    assert worker["memory_bytes"] > 0 and worker["last_exit"] is None

    before = project.pids("web")
    restart = project.run("restart", "web:1")
    assert restart.returncode == 0, restart.stderr
    after = project.pids("web")
    assert after[0] == before[0] and after[2] == before[2] and after[1] != before[1]
    assert not pid_alive(before[1])  # type: ignore[arg-type]

    scale = project.run("scale", "web", "5")
    assert scale.returncode == 0, scale.stderr
    assert "web: running 5/5" in scale.stdout
    removed = project.pids("web")[3:]
    scale = project.run("scale", "web", "2")
    assert scale.returncode == 0 and "web: running 2/2" in scale.stdout
    assert len(project.pids("web")) == 2
    wait_until(lambda: not any(pid_alive(p) for p in removed))  # type: ignore[arg-type]

    logs = project.run("logs", "-n", "2", "web:0")
    assert re.search(r"web:0 +\| web 0 up$", logs.stdout.splitlines()[-1])

    follow = project.popen("logs", "-f", "-n", "0", "web")
    try:
        time.sleep(0.5)  # let it subscribe; the line below must arrive live
        assert project.run("restart", "web:0").returncode == 0
        assert follow.stdout is not None
        line = follow.stdout.readline()
        assert re.search(r"web:0 +\| web 0 up$", line.rstrip()), line
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(timeout=10)

    pids = [p for p in project.pids("web") if p]
    daemon = project.daemon_pid()
    down = project.run("down")
    assert down.returncode == 0, down.stderr
    wait_until(lambda: not pid_alive(daemon) and not any(pid_alive(p) for p in pids))
    assert project.run("status").returncode == 3


def test_second_up_says_already_running_and_another_config_gets_its_own(
    project: Project, tmp_path: Path
) -> None:
    assert project.run("up", "-d").returncode == 0
    again = project.run("up", "-d")
    assert again.returncode == 0
    assert again.stdout.startswith("corral is already running for ./corral.toml (pid ")
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "corral.toml").write_text('[services.x]\ncommand = "sleep 300"\n')
    other = project.run("up", "-d", "-c", str(other_dir / "corral.toml"))
    try:
        assert other.returncode == 0, other.stderr
        mine = project.daemon_pid()
        theirs = project.run("status", "--json", "-c", str(other_dir / "corral.toml"))
        assert json.loads(theirs.stdout)["runtime"]["pid"] != mine
    finally:
        project.run("down", "-c", str(other_dir / "corral.toml"))


def test_verbs_without_a_daemon_exit_3(project: Project) -> None:
    for args in (
        ("status",),
        ("stop", "web"),
        ("logs",),
        ("down",),
        ("scale", "web", "2"),
        ("attach",),
    ):
        result = project.run(*args)
        assert result.returncode == 3
        assert result.stderr == (
            "corral: no corral is running for ./corral.toml (start it with: corral up -d)\n"
        )


def test_unknown_targets_exit_2_and_list_what_exists(project: Project) -> None:
    assert project.run("up", "-d").returncode == 0
    result = project.run("restart", "web:7")
    assert (result.returncode, result.stderr) == (2, "corral: no worker web:7; web has slots 0-2\n")
    result = project.run("stop", "wbe")
    assert result.returncode == 2
    assert result.stderr == 'corral: unknown service "wbe"; services are: web\n'
    result = project.run("scale", "web", "-1")
    assert result.returncode == 2


def test_up_detached_names_the_failed_service_and_exits_1(tmp_path: Path) -> None:
    project = Project(
        tmp_path,
        """
        [services.ok]
        command = "sleep 300"
        ready_after = "0s"
        [services.broken]
        command = "sh -c 'echo cannot open database >&2; exit 3'"
        restart_delay = "10ms"
        start_attempts = 2
        """,
    )
    try:
        up = project.run("up", "-d")
        assert up.returncode == 1
        assert "corral: broken:0 failed: failed after 2 start attempts" in up.stderr
        assert "cannot open database" in up.stderr
        assert project.status()["services"][0]["state"] == "running"  # type: ignore[index]
    finally:
        project.run("down")


def test_sigkill_of_the_daemon_leaves_nothing_and_up_starts_over_the_stale_socket(
    project: Project,
) -> None:
    assert project.run("up", "-d").returncode == 0
    pids = [p for p in project.pids("web") if p]
    daemon = project.daemon_pid()
    os.kill(daemon, signal.SIGKILL)
    wait_until(lambda: not any(pid_alive(p) for p in pids), what="workers to die")
    sockets = list((project.root / "run" / "corral").glob("*.sock"))
    assert sockets, "the dead daemon's socket is still there: the next up must cope"
    assert project.run("status").returncode == 3
    up = project.run("up", "-d")
    assert up.returncode == 0, up.stderr
    assert project.daemon_pid() != daemon


def test_the_daemon_survives_its_terminal_and_writes_nothing_to_it(project: Project) -> None:
    up = project.popen("up", "-d")
    _out, err = up.communicate(timeout=30)
    assert up.returncode == 0, err
    daemon = project.daemon_pid()
    # Its session is its own: no controlling terminal, stdin from /dev/null, output to its log.
    assert os.getsid(daemon) == daemon
    assert os.readlink(f"/proc/{daemon}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{daemon}/fd/1").endswith("/.corral/logs/corral.log")


def test_foreground_up_streams_logs_and_ctrl_c_stops_everything(project: Project) -> None:
    proc = project.popen("up")
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 20
    while not re.search(r"web:2 +\| web 2 up", seen) and time.monotonic() < deadline:
        seen += proc.stdout.readline()
    assert re.search(r"web:2 +\| web 2 up", seen)
    daemon = project.daemon_pid()
    pids = [p for p in project.pids("web") if p]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopping (SIGTERM)" in out
    wait_until(lambda: not pid_alive(daemon) and not any(pid_alive(p) for p in pids))


def test_the_daemon_ends_when_its_foreground_client_is_killed(project: Project) -> None:
    proc = project.popen("up")
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while not re.search(r"web:2 +\| web 2 up", proc.stdout.readline()):
        assert time.monotonic() < deadline
    daemon = project.daemon_pid()
    pids = [p for p in project.pids("web") if p]
    proc.kill()
    proc.wait()
    wait_until(lambda: not pid_alive(daemon) and not any(pid_alive(p) for p in pids), 15)


def test_an_interrupted_restart_still_completes(tmp_path: Path) -> None:
    project = Project(
        tmp_path,
        """
        [services.slow]
        shell = true
        command = "trap 'sleep 1; exit 0' TERM; while true; do sleep 0.1; done"
        ready_after = "100ms"
        """,
    )
    try:
        assert project.run("up", "-d").returncode == 0
        [before] = project.pids("slow")
        restart = project.popen("restart", "slow:0")
        time.sleep(0.3)  # it is now waiting for the slow stop
        restart.send_signal(signal.SIGINT)
        restart.communicate(timeout=10)
        wait_until(lambda: project.pids("slow")[0] not in (None, before), 15)
        status = project.status()["services"][0]["workers"][0]  # type: ignore[index]
        assert status["state"] == "started"
    finally:
        project.run("down")
