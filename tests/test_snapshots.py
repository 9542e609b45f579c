"""Snapshot tests of the dashboard: scripted daemon data, a fixed clock, a fixed terminal size."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from corral.core.states import WorkerState
from corral.tui.app import CorralApp
from tests.dashboard_data import NOW, ScriptedClient, demo_snapshot, wait_ready

W = WorkerState
SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def make_app(changes: dict[str, Any] | None = None) -> CorralApp:
    client = ScriptedClient(*demo_snapshot(changes))
    return CorralApp(client.connect, "foreground", clock=lambda: NOW)


def ready(*keys: str) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        await wait_ready(pilot, *keys)

    return run_before


def test_demo_overview(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=ready())


def test_backoff_and_failed_workers(snap_compare: SnapCompare) -> None:
    changes = {
        "web:2": (W.FAILED, None, {"exit_code": 1, "reason": "failed after 5 start attempts"}),
        "store:0": (W.STARTING, 4101, {"attempt": 2}),
    }
    assert snap_compare(make_app(changes), terminal_size=(120, 40), run_before=ready())


def test_help_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=ready("question_mark"))


def test_search_in_the_log_pane(snap_compare: SnapCompare) -> None:
    keys = ("slash", "o", "r", "d", "e", "r", "enter")
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=ready(*keys))


def test_narrow_terminal(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=ready())


def test_large_terminal(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(200, 60), run_before=ready())


def test_quit_confirmation_lists_what_stops(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=ready("q"))


def test_no_color(snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert os.environ["NO_COLOR"] == "1"
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=ready())
