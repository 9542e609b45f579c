"""The demo's thread workers: plain Python functions that corral calls in threads."""

from __future__ import annotations

import random

from corral.core.thread_worker import WorkerContext


def jobs(ctx: WorkerContext) -> None:
    """A job runner: picks up work until asked to stop."""
    ctx.logger.info("job runner %d of %d ready", ctx.slot + 1, ctx.workers)
    ctx.ready()
    done = 0
    while not ctx.wait(random.uniform(1.0, 4.0)):
        done += 1
        print(f"job {ctx.slot}-{done}: sent {random.randint(1, 20)} emails")
    print(f"job runner {ctx.slot}: finished {done} jobs, stopping")
