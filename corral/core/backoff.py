"""Restart delays: fixed for failed starts, exponential with jitter for crashes."""

from __future__ import annotations

JITTER = 0.1  # ±10%, so a fleet of crashed workers does not restart in lockstep


def crash_delay(crashes: int, base: float, cap: float, rand: float) -> float:
    """Delay before the next start after the `crashes`-th crash in a row (1-based).

    `rand` is a uniform draw from [0, 1); the result stays within [base·0.9, cap].
    """
    raw = base * 2.0 ** min(max(crashes - 1, 0), 64)
    raw = min(raw, cap)
    return min(cap, raw * (1.0 - JITTER + 2.0 * JITTER * rand))
