"""The worker state machine and a service's aggregate status."""

from __future__ import annotations

import pytest

from corral.core.backoff import crash_delay
from corral.core.states import (
    InvalidTransition,
    ServiceStatus,
    WorkerState,
    check_transition,
    service_status,
)

W = WorkerState


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (W.WAITING, W.STARTING),
        (W.STARTING, W.STARTED),
        (W.STARTING, W.BACKOFF),
        (W.STARTING, W.FAILED),
        (W.STARTED, W.BACKOFF),
        (W.STARTED, W.STOPPING),
        (W.STOPPING, W.STOPPED),
        (W.BACKOFF, W.STARTING),
        (W.BACKOFF, W.STOPPED),
        (W.FAILED, W.STARTING),
        (W.EXITED, W.STARTING),
    ],
)
def test_allowed_transitions(old: W, new: W) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (W.WAITING, W.STARTED),
        (W.STOPPED, W.STARTED),
        (W.BACKOFF, W.STARTED),
        (W.STOPPING, W.STARTED),
        (W.FAILED, W.BACKOFF),
        (W.EXITED, W.BACKOFF),
    ],
)
def test_forbidden_transitions(old: W, new: W) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(old, new)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([W.STARTED] * 3, (ServiceStatus.RUNNING, 3)),
        ([W.STARTED, W.STARTED, W.BACKOFF], (ServiceStatus.DEGRADED, 2)),
        ([W.STARTED, W.FAILED, W.STARTED], (ServiceStatus.DEGRADED, 2)),
        ([W.WAITING, W.STARTING], (ServiceStatus.STARTING, 0)),
        ([W.STOPPED, W.STOPPED], (ServiceStatus.STOPPED, 0)),
        ([W.EXITED], (ServiceStatus.STOPPED, 0)),
        ([W.FAILED, W.FAILED], (ServiceStatus.FAILED, 0)),
        ([W.FAILED, W.STARTING], (ServiceStatus.FAILED, 0)),
        ([W.BACKOFF], (ServiceStatus.DEGRADED, 0)),
    ],
)
def test_service_status(states: list[W], expected: tuple[ServiceStatus, int]) -> None:
    assert service_status(states, len(states)) == expected


def test_crash_delay_doubles_up_to_the_cap_within_jitter() -> None:
    mid = [crash_delay(n, 0.5, 30.0, 0.5) for n in range(1, 10)]
    assert mid == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert crash_delay(1, 0.5, 30.0, 0.0) == pytest.approx(0.45)
    assert crash_delay(1, 0.5, 30.0, 0.999999) == pytest.approx(0.55, abs=1e-5)
    assert crash_delay(20, 0.5, 30.0, 0.999999) == 30.0
    assert crash_delay(10_000, 0.5, 30.0, 0.0) == 27.0  # never overflows


@pytest.mark.parametrize(
    ("seconds", "fine", "coarse"),
    [
        (None, "-", "-"),
        (3, "3s", "<10s"),
        (42, "42s", "40s"),
        (185, "3m05s", "3m"),
        (3725, "1h02m", "1h02m"),
        (200_000, "2d07h", "2d07h"),
    ],
)
def test_durations_as_shown(seconds: float | None, fine: str, coarse: str) -> None:
    from corral.formatting import duration

    assert duration(seconds) == fine
    assert duration(seconds, fine=False) == coarse
