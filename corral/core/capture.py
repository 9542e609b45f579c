"""Where a worker's output goes: its service's log file (lossless) and the bus (ring, subscribers).

The file is written on the capture path itself rather than by a bus subscriber: a subscriber may
drop lines when it falls behind, and the log file must never lose one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import anyio

from corral.core.bus import Bus
from corral.core.events import LogLines
from corral.core.linesplit import LineSplitter
from corral.core.logfile import RotatingLogFile

READ_SIZE = 1 << 20


class WorkerOutput:
    def __init__(
        self,
        service: str,
        slot: int,
        logfile: RotatingLogFile,
        bus: Bus,
        clock: Callable[[], float],
    ) -> None:
        self.service = service
        self.slot = slot
        self.name = f"{service}:{slot}"
        self._logfile = logfile
        self._bus = bus
        self.clock = clock

    def emit(self, stream: str, lines: list[str], at: float | None = None) -> None:
        if not lines:
            return
        at = self.clock() if at is None else at
        self._logfile.write_lines(at, self.name, stream, lines)
        self._bus.publish(
            LogLines(service=self.service, slot=self.slot, stream=stream, at=at, lines=lines)
        )


async def pump(fd: int, stream: str, output: WorkerOutput) -> None:
    """Drain one pipe in large reads until end of file, splitting and emitting lines."""
    splitter = LineSplitter()
    try:
        while True:
            await anyio.wait_readable(fd)
            while True:
                try:
                    chunk = os.read(fd, READ_SIZE)
                except BlockingIOError:
                    break
                if not chunk:
                    return
                output.emit(stream, splitter.feed(chunk))
                if len(chunk) < READ_SIZE:
                    break
    finally:
        # Whatever is left when the generation is over (or we gave up waiting) still counts.
        with contextlib.suppress(OSError):
            for _ in range(4):  # bounded: a leftover grandchild may still be writing
                chunk = os.read(fd, READ_SIZE)
                if not chunk:
                    break
                output.emit(stream, splitter.feed(chunk))
        output.emit(stream, splitter.flush())
        os.close(fd)
