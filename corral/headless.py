"""`corral up --headless`: the supervisor in the foreground; log lines and state changes printed."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence

import anyio

from corral.core.bus import Subscription
from corral.core.events import (
    Event,
    LinesDropped,
    LogLines,
    RuntimeChanged,
    WorkerChanged,
)
from corral.core.settings import Settings
from corral.core.supervisor import Supervisor, stop_on_signals
from corral.core.wording import describe_change

# Bright and normal ANSI colours that read on dark and light backgrounds alike.
PALETTE = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94, 31, 91)
RESET = "\x1b[0m"


def use_colour(fd: int = 1) -> bool:
    return os.isatty(fd) and not os.environ.get("NO_COLOR")


class Printer:
    """Formats events as `15:21:28 web:2 | text`, one colour per worker."""

    def __init__(self, settings: Settings, colour: bool) -> None:
        names = [f"{sid}:{i}" for sid, svc in settings.services.items() for i in range(svc.workers)]
        self._width = max([len(n) for n in names] + [len("corral")])
        self._colour = colour
        self._colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
        self._clock_cache: tuple[int, str] = (-1, "")

    def _clock(self, at: float) -> str:
        second = int(at)
        if self._clock_cache[0] != second:
            self._clock_cache = (second, time.strftime("%H:%M:%S", time.localtime(at)))
        return self._clock_cache[1]

    def _prefix(self, at: float, name: str) -> str:
        label = name.ljust(self._width)
        if self._colour:
            code = self._colours.setdefault(name, PALETTE[len(self._colours) % len(PALETTE)])
            label = f"\x1b[{code}m{label}{RESET}"
        return f"{self._clock(at)} {label} | "

    def format(self, events: list[Event], now: Callable[[], float] = time.time) -> str:
        out: list[str] = []
        for ev in events:
            if isinstance(ev, LogLines):
                prefix = self._prefix(ev.at, f"{ev.service}:{ev.slot}")
                out.append(prefix + ("\n" + prefix).join(ev.lines) + "\n")
            elif isinstance(ev, WorkerChanged):
                if ev.previous is None:
                    continue  # a slot's first appearance says nothing yet
                out.append(self._state_line(ev.at, f"{ev.service}:{ev.slot}", describe_change(ev)))
            elif isinstance(ev, LinesDropped):
                text = f"{ev.count} lines dropped here (output too slow); all are in the log files"
                out.append(self._state_line(now(), "corral", text))
            elif isinstance(ev, RuntimeChanged):
                text = ev.state + (f" ({ev.reason})" if ev.reason else "")
                out.append(self._state_line(ev.at, "corral", text))
        return "".join(out)

    def _state_line(self, at: float, name: str, text: str) -> str:
        label = name.ljust(self._width)
        if self._colour:
            code = self._colours.get(name, 37)
            return f"{self._clock(at)} \x1b[1;{code}m{label} {text}{RESET}\n"
        return f"{self._clock(at)} {label} {text}\n"


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
    printer = Printer(settings, colour)
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
