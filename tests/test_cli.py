"""The command line as a user types it: check, demo, help, colours."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def corral(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "corral", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_prints_the_effective_values(tmp_path: Path) -> None:
    (tmp_path / "corral.toml").write_text(
        '[defaults]\nrestart_delay = "2s"\n'
        '[services.db]\ncommand = "sleep 60"\n'
        '[services.web]\ncommand = "sleep 60"\nworkers = 3\ndepends_on = ["db"]\n'
        'stop_signal = "INT"\n'
    )
    result = corral("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "start    1: db | 2: web" in out
    assert "[web] process, 3 workers" in out
    assert "restart_delay=2s restart_delay_max=30s start_attempts=5" in out
    assert "stop_signal=SIGINT stop_timeout=10s" in out
    assert "depends_on      db" in out


def test_check_reports_every_error_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "corral.toml").write_text(
        "[services.web]\n"
        'command = "sleep 60"\n'
        "workers = 0\n"
        'restart_dealy = "1s"\n'
        'stop_signal = "SIGFOO"\n'
        'depends_on = ["dbb"]\n'
    )
    result = corral("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert sorted(result.stderr.splitlines()) == sorted(
        [
            "corral.toml: services.web.workers: expected an integer from 1 to 10000, got 0",
            "corral.toml: services.web.restart_dealy: unknown key; did you mean restart_delay?",
            "corral.toml: services.web.stop_signal: expected a signal name like SIGTERM, SIGINT"
            " or SIGQUIT, got 'SIGFOO'",
            'corral.toml: services.web.depends_on: unknown service "dbb"; services are: web',
        ]
    )


def test_check_with_no_config_says_where_it_looked(tmp_path: Path) -> None:
    result = corral("check", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "corral.toml" in result.stderr and "-c FILE" in result.stderr


@pytest.mark.parametrize("verb", ["up", "check", "demo"])
def test_help(tmp_path: Path, verb: str) -> None:
    result = corral(verb, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: corral {verb}")


def test_unknown_verb_is_a_usage_error(tmp_path: Path) -> None:
    result = corral("upp", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'upp'" in result.stderr


@pytest.mark.timeout(60)
def test_demo_starts_every_service_and_stops_cleanly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "corral", "demo", "--headless"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert proc.stdout is not None
    started: set[str] = set()
    wanted = {
        "store:0",
        "web:0",
        "web:1",
        "web:2",
        "traffic:0",
        "flaky:0",
        "chatty:0",
        "jobs:0",
        "jobs:1",
    }
    deadline = time.monotonic() + 30
    try:
        while started != wanted and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if match := re.match(r"\d\d:\d\d:\d\d (\S+) +started", line):
                started.add(match.group(1))
        assert started == wanted
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert re.search(r"corral +stopped\n$", out)
        assert (tmp_path / f"corral-demo-{os.getuid()}" / "logs" / "web.log").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_only_on_a_terminal_without_no_color(tmp_path: Path, no_color: bool) -> None:
    (tmp_path / "corral.toml").write_text('[services.web]\ncommand = "echo hi"\n')
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "corral", "up", "--headless"],
        cwd=tmp_path,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 15
        while b"exited" not in seen and time.monotonic() < deadline:
            seen += os.read(leader, 4096)
        assert b"| hi" in seen
        assert (b"\x1b[" in seen) is not no_color
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scale", "web", "abc"), "corral scale: argument N: invalid int value: 'abc'"),
        (("logs", "-n", "x"), "corral logs: argument -n/--lines: invalid int value: 'x'"),
        (("logs", "--since", "5 parsecs"), "corral: --since: expected a duration like 500ms"),
        (("restart",), "corral restart: the following arguments are required: TARGET"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "corral.toml").write_text('[services.web]\ncommand = "sleep 60"\n')
    result = corral(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(message)
