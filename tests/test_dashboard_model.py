"""The dashboard on scripted data: greyed-out actions, palette commands, markers, selection."""

from __future__ import annotations

from typing import Any

import pytest

from corral.core.events import LinesDropped, LogLines
from corral.core.states import WorkerState
from corral.tui.app import CorralApp
from corral.tui.logview import LogView
from corral.tui.table import WorkerTable
from tests.dashboard_data import NOW, ScriptedClient, demo_snapshot

W = WorkerState
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _ready(pilot: Any, app: CorralApp) -> None:
    for _ in range(200):
        if app.connected and app.model.services:
            break
        await pilot.pause(0.02)
    app.refresh_table()
    await pilot.pause()


async def _select(pilot: Any, app: CorralApp, key: str) -> None:
    table = app.query_one(WorkerTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    assert app.selection == key


def _app(changes: dict[str, Any] | None = None) -> tuple[CorralApp, ScriptedClient]:
    client = ScriptedClient(*demo_snapshot(changes))
    return CorralApp(client.connect, "foreground", clock=lambda: NOW), client


async def test_actions_that_do_not_fit_the_worker_are_greyed_out() -> None:
    app, _ = _app({"web:2": (W.FAILED, None, {"exit_code": 1})})
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        await _select(pilot, app, "web:1")
        assert app.check_action("start", ()) is None  # already started
        assert app.check_action("stop", ()) is True
        await _select(pilot, app, "web:2")
        assert app.check_action("start", ()) is True
        assert app.check_action("stop", ()) is None  # already failed
        assert app.check_action("detach", ()) is True
        assert app.check_action("stop_all", ()) is False  # an attach-only key, hidden here


async def test_keys_send_the_right_requests() -> None:
    app, client = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        await _select(pilot, app, "@web")
        await pilot.press("r")
        await pilot.press("plus")
        await _select(pilot, app, "chatty:0")
        await pilot.press("x")
        await pilot.press("R")
        for _ in range(50):
            if len(client.asked) >= 4:
                break
            await pilot.pause(0.02)
    assert client.asked == [
        ("restart", ["web"]),
        ("scale", ["web", "4"]),
        ("stop", ["chatty:0"]),
        ("restart", ["all"]),
    ]


async def test_every_action_is_a_palette_command() -> None:
    app, _ = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for title in (
        "restart web:2",
        "stop web",
        "start jobs:1",
        "scale web to 4",
        "scale web to 2",
        "Restart all",
        "Search logs",
        "Filter logs",
        "Toggle wrap",
        "Detach",
        "Quit",
    ):
        assert title in titles, title


async def test_selection_chooses_the_logs_and_new_lines_follow_it() -> None:
    app, _ = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        view = app.query_one(LogView)
        await _select(pilot, app, "@traffic")
        assert {line.worker for line in view.shown_lines()} == {"traffic:0"}
        app.model.apply(
            [
                LogLines(service="traffic", slot=0, stream="out", at=NOW, lines=["fresh line"]),
                LogLines(service="web", slot=0, stream="out", at=NOW, lines=["not for this view"]),
                LinesDropped(count=1234),
            ]
        )
        app.flush_logs()
        texts = [line.text for line in view.shown_lines()]
        assert texts[-2] == "fresh line"
        assert "1234 lines dropped" in texts[-1]
        assert "not for this view" not in texts
        await _select(pilot, app, "all")
        assert "not for this view" in [line.text for line in view.shown_lines()]
