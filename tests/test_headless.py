"""`corral up --headless` as a user runs it: prefixed lines, state changes, clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from corral.core.events import LogLines, WorkerChanged
from corral.core.states import WorkerState
from corral.printer import Printer, worker_names
from tests.conftest import make_config


def _start(
    tmp_path: Path, config: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    (tmp_path / "corral.toml").write_text(textwrap.dedent(config))
    return subprocess.Popen(
        [sys.executable, "-m", "corral", "up", "--headless", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 10.0) -> list[str]:
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), True)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if re.search(pattern, line):
            return seen
    raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(seen))


@pytest.mark.timeout(30)
def test_headless_prints_prefixed_lines_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = _start(
        tmp_path,
        """
        [services.web]
        command = "sh -c 'echo hello from $CORRAL_WORKER; sleep 60'"
        workers = 2
        ready_after = "100ms"
        """,
    )
    try:
        seen = _read_until(proc, r"web:1 +\| hello from 1")
        seen += _read_until(proc, r"web:\d +started \(pid \d+\)")
        assert any(re.fullmatch(r"\d\d:\d\d:\d\d web:0 +\| hello from 0", line) for line in seen)
        assert not any("\x1b" in line for line in seen)  # no colour: stdout is a pipe
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert re.search(r"web:0 +stopping \(SIGTERM\)", out)
        assert re.search(r"corral +stopped", out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(30)
def test_headless_starts_only_the_named_service_and_its_dependencies(tmp_path: Path) -> None:
    proc = _start(
        tmp_path,
        """
        [defaults]
        ready_after = "0s"
        [services.db]
        command = "sh -c 'echo db up; sleep 60'"
        [services.web]
        command = "sh -c 'echo web up; sleep 60'"
        depends_on = ["db"]
        [services.other]
        command = "sh -c 'echo other up; sleep 60'"
        """,
        "web",
    )
    try:
        seen = _read_until(proc, r"web:0 +\| web up")
        assert not any("other up" in line for line in seen)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
        assert "other up" not in out
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], 'corral: unknown service "nope"; services are: web'),
        (["-c", "missing.toml"], "missing.toml: no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "corral.toml").write_text('[services.web]\ncommand = "sleep 60"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "corral", "up", "--headless", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [message] or message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / ".corral").exists()  # nothing was started


def test_printer_colours_each_worker_and_describes_state_changes(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.web]
        command = "x"
        workers = 2
        [services.worker]
        command = "x"
        """,
    )
    printer = Printer(True, worker_names(settings))
    text = printer.format(
        [
            LogLines(service="web", slot=0, stream="out", at=0.0, lines=["a", "b"]),
            LogLines(service="web", slot=1, stream="out", at=0.0, lines=["c"]),
            WorkerChanged(
                service="worker",
                slot=0,
                generation=1,
                pid=None,
                state=WorkerState.BACKOFF,
                previous=WorkerState.STARTED,
                at=10.0,
                reason="crashed (exit 1)",
                exit_code=1,
                retry_at=11.0,
            ),
        ]
    )
    lines = text.splitlines()
    assert len(lines) == 4
    colour0 = re.search(r"\x1b\[(\d+)m", lines[0])
    colour1 = re.search(r"\x1b\[(\d+)m", lines[2])
    assert colour0 and colour1 and colour0.group(1) != colour1.group(1)
    assert lines[3].endswith("worker:0 crashed (exit 1), restarting in 1.0s\x1b[0m")
    plain = Printer(False, worker_names(settings)).format(
        [
            WorkerChanged(
                service="worker",
                slot=0,
                generation=5,
                pid=None,
                state=WorkerState.FAILED,
                previous=WorkerState.STARTING,
                at=10.0,
                reason="failed after 5 start attempts",
                exit_code=1,
            )
        ]
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d worker:0 failed after 5 start attempts\n", plain)
