"""A thread worker: corral calls run(ctx) in a thread, once per slot."""

from __future__ import annotations

from typing import Any


def run(ctx: Any) -> None:
    ctx.logger.info("job runner %d of %d up", ctx.slot, ctx.workers)
    ctx.ready()
    ticks = 0
    while not ctx.wait(2.0):
        ticks += 1
        print(f"tick {ticks}")
    print("stopping after", ticks, "ticks")
