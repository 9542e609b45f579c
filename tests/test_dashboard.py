"""The real dashboard, driven by keys through Pilot, against a real daemon."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from corral.core.client import Client
from corral.tui.app import CorralApp
from corral.tui.logview import LogView
from corral.tui.table import WorkerTable
from tests.conftest import pid_alive, wait_until
from tests.test_daemon import Project

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

CONFIG = """
[services.web]
command = "sh -c 'echo web $CORRAL_WORKER up; exec sleep 300'"
workers = 2
ready_after = "100ms"
stop_timeout = "2s"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    p = Project(tmp_path, CONFIG)
    monkeypatch.setenv("XDG_RUNTIME_DIR", p.env["XDG_RUNTIME_DIR"])
    assert p.run("up", "-d").returncode == 0
    yield p
    p.run("down")


def _app(project: Project, mode: str) -> CorralApp:
    config = str(project.root / "corral.toml")
    return CorralApp(lambda: Client.connect(config), mode)  # type: ignore[arg-type]


async def _until(pilot: object, predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def _select(pilot: object, app: CorralApp, key: str) -> None:
    table = app.query_one(WorkerTable)
    await _until(pilot, lambda: key in table.rows)
    table.move_cursor(row=table.get_row_index(key))
    await _until(pilot, lambda: app.selection == key)


async def test_r_restarts_the_selected_worker(project: Project) -> None:
    app = _app(project, "attach")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.connected and app.model.worker("web:1") is not None)
        before = project.pids("web")
        await _select(pilot, app, "web:1")
        await pilot.press("r")
        await _until(pilot, lambda: project.pids("web")[1] not in (None, before[1]))
        after = project.pids("web")
        assert after[0] == before[0]
        # ...and the table shows the new pid.
        await _until(pilot, lambda: app.model.worker("web:1").pid == after[1])  # type: ignore[union-attr]
        # The log pane follows the selection: web:1's lines only.
        await _until(pilot, lambda: app.query_one(LogView).line_count > 0)
        shown = {line.worker for line in app.query_one(LogView).shown_lines()}
        assert shown == {"web:1"}


async def test_plus_adds_a_worker_to_the_selected_service(project: Project) -> None:
    app = _app(project, "attach")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.connected and "web" in app.model.services)
        await _select(pilot, app, "@web")
        await pilot.press("plus")
        await _until(pilot, lambda: len(project.pids("web")) == 3)
        await _until(pilot, lambda: "web:2" in app.query_one(WorkerTable).rows)


async def test_q_in_the_foreground_stops_everything(project: Project) -> None:
    daemon = project.daemon_pid()
    pids = [p for p in project.pids("web") if p]
    app = _app(project, "foreground")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.connected)
        await pilot.press("q")
        await pilot.pause(0.2)
        await pilot.press("y")
        await _until(pilot, lambda: not app.is_running or app.return_value is not None, 30)
    assert app.return_value == 0
    wait_until(lambda: not pid_alive(daemon) and not any(pid_alive(p) for p in pids), 15)


async def test_d_detaches_and_leaves_the_daemon_running(project: Project) -> None:
    daemon = project.daemon_pid()
    app = _app(project, "foreground")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.connected)
        await pilot.press("d")
        await _until(pilot, lambda: app.return_value is not None)
    time.sleep(0.5)  # had the daemon taken the closed connection for a vanished owner...
    assert pid_alive(daemon)
    assert project.status()["runtime"]["state"] == "running"  # type: ignore[index]


async def test_the_banner_shows_when_the_daemon_goes_away_and_reconnects(
    project: Project,
) -> None:
    app = _app(project, "attach")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.connected)
        assert project.run("down").returncode == 0
        await _until(pilot, lambda: not app.connected)
        assert app.query_one("#banner").has_class("shown")
        assert project.run("up", "-d").returncode == 0
        await _until(pilot, lambda: app.connected, 20)
        assert not app.query_one("#banner").has_class("shown")
