"""The bus: bounded subscriptions, never-lost state events, drop markers, snapshot then follow."""

from __future__ import annotations

import anyio
import pytest

from corral.core.bus import Bus
from corral.core.events import LinesDropped, LogLines, RuntimeChanged, WorkerChanged
from corral.core.states import WorkerState

pytestmark = pytest.mark.anyio


def _bus(ring: int = 100) -> Bus:
    return Bus(ring, RuntimeChanged(state="starting", at=0.0))


def _lines(n: int, slot: int = 0, start: int = 0) -> LogLines:
    return LogLines(
        service="web",
        slot=slot,
        stream="out",
        at=float(start),
        lines=[str(start + i) for i in range(n)],
    )


def _state(slot: int, state: WorkerState, at: float) -> WorkerChanged:
    return WorkerChanged(
        service="web", slot=slot, generation=1, pid=None, state=state, previous=None, at=at
    )


async def test_a_stuck_subscriber_blocks_nobody_and_loses_only_log_lines() -> None:
    bus = _bus()
    stuck = bus.subscribe(max_lines=1000, max_events=50)
    live = bus.subscribe(max_lines=1_000_000)
    with anyio.fail_after(5):  # publishing never waits, however full `stuck` is
        for i in range(1000):
            bus.publish(_lines(100, start=i * 100))
            bus.publish(_state(i % 3, WorkerState.STARTED if i % 2 else WorkerState.STARTING, i))
    got = await live.next_batch()
    assert sum(len(e.lines) for e in got if isinstance(e, LogLines)) == 100_000
    batch = await stuck.next_batch()
    kept = sum(len(e.lines) for e in batch if isinstance(e, LogLines))
    dropped = sum(e.count for e in batch if isinstance(e, LinesDropped))
    assert kept <= 1000 and kept + dropped == 100_000
    # State is coalesced, never lost: the latest state of every worker is there.
    latest = {e.slot: e for e in batch if isinstance(e, WorkerChanged)}
    assert {slot: e.at for slot, e in latest.items()} == {0: 999.0, 1: 997.0, 2: 998.0}


async def test_drop_marker_sits_where_the_lines_were_lost() -> None:
    bus = _bus()
    sub = bus.subscribe(max_lines=10)
    bus.publish(_lines(8, start=0))
    bus.publish(_lines(5, start=8))  # does not fit: dropped
    first = await sub.next_batch()
    assert [type(e) for e in first] == [LogLines, LinesDropped]
    assert first[1] == LinesDropped(count=5)
    bus.publish(_lines(2, start=13))
    assert await sub.next_batch() == [_lines(2, start=13)]


async def test_snapshot_then_follow_has_no_gap_and_no_duplicate() -> None:
    bus = _bus(ring=50)
    for i in range(10):
        bus.publish(_lines(10, start=i * 10))
    bus.publish(_state(0, WorkerState.STARTED, 1.0))
    snap, sub = bus.snapshot_and_subscribe()
    bus.publish(_lines(10, start=100))
    follow = await sub.next_batch()
    seen = [int(x) for b in snap.logs for x in b.lines] + [
        int(x) for e in follow if isinstance(e, LogLines) for x in e.lines
    ]
    assert seen == list(range(50, 110))  # the ring kept the last 50, then live continues
    assert [w.state for w in snap.workers] == [WorkerState.STARTED]


async def test_ring_keeps_the_last_lines_per_worker() -> None:
    bus = _bus(ring=25)
    bus.publish(_lines(30, slot=0))
    bus.publish(_lines(5, slot=1))
    bus.publish(_lines(7, slot=0, start=30))
    ring0 = [x for b in bus.rings[("web", 0)].batches for x in b.lines]
    assert ring0 == [str(i) for i in range(12, 37)]
    assert bus.rings[("web", 1)].lines == 5


async def test_closing_wakes_a_waiting_subscriber() -> None:
    bus = _bus()
    sub = bus.subscribe()
    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sub.next_batch)
            await anyio.sleep(0)
            bus.close()
    assert await sub.next_batch() == []
