"""Regenerate screenshots/*.svg: the dashboard renders itself on scripted demo data.

.venv/bin/python -m tests.screenshots
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio

from corral.core.states import WorkerState
from corral.tui.app import CorralApp
from tests.dashboard_data import NOW, ScriptedClient, demo_snapshot, wait_ready

OUT = Path(__file__).resolve().parent.parent / "screenshots"

SCENES: list[tuple[str, tuple[int, int], tuple[str, ...], dict[str, object] | None]] = [
    ("demo", (120, 40), (), None),
    ("help", (120, 40), ("question_mark",), None),
    ("search", (120, 40), ("slash", "o", "r", "d", "e", "r", "enter"), None),
    ("narrow-80x24", (80, 24), (), None),
    (
        "failed-worker",
        (120, 40),
        ("down", "down", "down", "down", "down", "down"),
        {
            "web:2": (
                WorkerState.FAILED,
                None,
                {"exit_code": 1, "reason": "failed after 5 start attempts"},
            )
        },
    ),
]


async def shoot(
    name: str, size: tuple[int, int], keys: tuple[str, ...], changes: dict[str, object] | None
) -> None:
    client = ScriptedClient(*demo_snapshot(changes))  # type: ignore[arg-type]
    app = CorralApp(client.connect, "foreground", clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot, *keys)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for scene in SCENES:
        anyio.run(shoot, *scene)
        print(f"screenshots/{scene[0]}.svg")


if __name__ == "__main__":
    main()
