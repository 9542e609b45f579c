"""Thread worker targets used by the tests."""

from __future__ import annotations

import asyncio
import logging
import time

from corral.core.thread_worker import WorkerContext


def chat(ctx: WorkerContext) -> None:
    print(f"hello from {ctx.service}:{ctx.slot} of {ctx.workers}")
    ctx.logger.info("logged by the context logger")
    logging.getLogger("someone.else").warning("logged by a module logger")
    ctx.ready()
    ctx.wait()


def boom(ctx: WorkerContext) -> None:
    ctx.ready()
    raise ValueError("boom")


async def async_worker(ctx: WorkerContext) -> None:
    ctx.ready()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        print("cancelled cleanly")
        raise


def deaf(ctx: WorkerContext) -> None:
    ctx.ready()
    time.sleep(2.5)  # ignores the stop event


def spin(ctx: WorkerContext) -> None:
    ctx.ready()
    while not ctx.stopping:
        sum(range(1000))
