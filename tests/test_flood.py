"""A log flood is captured completely and in order, and does not delay other workers' restarts."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from corral.core.states import WorkerState
from tests.conftest import PY, make_config, supervising, until

W = WorkerState
pytestmark = pytest.mark.anyio
LINES = 1_000_000

FLOOD = """
import sys
out = sys.stdout
chunk = []
for i in range({n}):
    chunk.append(f"{{i:07d}} " + "x" * 92 + "\\n")
    if len(chunk) == 10000:
        out.write("".join(chunk)); chunk = []
out.write("".join(chunk)); out.flush()
"""


@pytest.mark.timeout(120)
async def test_a_million_lines_reach_the_file_while_restarts_keep_their_schedule(
    tmp_path: Path,
) -> None:
    (tmp_path / "flood.py").write_text(FLOOD.format(n=LINES))
    settings = make_config(
        tmp_path,
        f"""
        [runtime]
        log_max_size = "1GB"

        [services.flood]
        command = ["{PY}", "flood.py"]
        ready_after = "0s"

        [services.ticker]
        command = "sh -c 'sleep 0.05; exit 1'"
        ready_after = "10s"
        restart_delay = "200ms"
        start_attempts = 1000
        """,
    )
    async with supervising(settings) as (_, rec):
        await until(lambda: rec.count("flood:0", W.EXITED) == 1, timeout=60, what="the flood")
        # A few more ticker restarts after the flood, for comparison.
        ticks = rec.count("ticker:0", W.STARTING)
        await until(lambda: rec.count("ticker:0", W.STARTING) >= ticks + 3)
    log = (Path(settings.runtime.log_dir) / "flood.log").read_bytes().splitlines()
    assert len(log) == LINES
    numbers = [int(line.split(b" | ", 1)[1][:7]) for line in log]
    assert numbers == list(range(LINES))
    assert all(b" flood:0 out | " in line for line in log[:: LINES // 100])
    ticker = rec.states("ticker:0")
    gaps = [
        b.at - a.at
        for a, b in itertools.pairwise(ticker)
        if a.state is W.BACKOFF and b.state is W.STARTING
    ]
    assert len(gaps) >= 5
    late = [g for g in gaps if not 0.2 <= g < 0.35]
    assert not late, gaps
