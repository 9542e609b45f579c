"""Printing a benchmark's runs: the median of each figure, and every run beside it."""

from __future__ import annotations

import statistics


def print_medians(title: str, runs: list[dict[str, float]]) -> None:
    print(title)
    width = max(len(key) for key in runs[0])
    for key in runs[0]:
        values = [r[key] for r in runs]
        each = ", ".join(f"{v:.3f}" for v in values)
        print(f"  {key:{width}} {statistics.median(values):8.3f}   (runs: {each})")
