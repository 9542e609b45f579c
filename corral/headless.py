"""`corral up --headless`: the supervisor in the foreground; log lines and state changes printed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import anyio

from corral.core.bus import Subscription
from corral.core.settings import Settings
from corral.core.supervisor import Supervisor, stop_on_signals
from corral.printer import Printer, worker_names


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


async def print_events(sub: Subscription, printer: Printer, fd: int = 1) -> None:
    """Until the subscription closes. Writes happen in a thread: a stdout nobody reads (a pipe
    into a stopped pager) stalls only this subscriber, which then drops lines, never supervision."""
    broken = False
    while True:
        batch = await sub.next_batch()
        if not batch:
            return
        text = printer.format(batch)
        if text and not broken:
            try:
                await anyio.to_thread.run_sync(
                    _write_all, fd, text.encode(), abandon_on_cancel=True
                )
            except OSError:
                broken = True  # stdout went away; keep supervising quietly


async def _main(settings: Settings, selection: Sequence[str], colour: bool) -> int:
    sup = Supervisor(settings, selection)
    sub = sup.bus.subscribe(max_lines=100_000)
    printer = Printer(colour, worker_names(settings))
    async with anyio.create_task_group() as tg:
        tg.start_soon(stop_on_signals, sup)
        printing = anyio.Event()

        async def printer_task() -> None:
            try:
                await print_events(sub, printer)
            finally:
                printing.set()

        tg.start_soon(printer_task)
        code = await sup.run()
        with anyio.move_on_after(2.0):
            await printing.wait()
        tg.cancel_scope.cancel()
    return code


def run_headless(settings: Settings, selection: Sequence[str] = (), colour: bool = False) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return anyio.run(_main, settings, selection, colour, backend="asyncio")
    return 1
