"""A service's log file: append-only, rotated by size (web.log, web.log.1 … web.log.N).

Writes go straight to the descriptor with os.write, one call per block of lines: no Python
buffer, so a line is in the page cache (visible to `tail -f`, kept if corral dies) as soon as
write_lines returns.
"""

from __future__ import annotations

import contextlib
import math
import os
import time

# The date-and-seconds part only changes once a second; timestamps arrive far more often.
_second: tuple[int, str] = (0, "1970-01-01T00:00:00")


def format_timestamp(ts: float) -> str:
    """`ts` (seconds since the epoch) as UTC with milliseconds: 2026-12-04T15:21:28.123Z."""
    global _second
    # As datetime does: round the fraction to the microsecond, then truncate to the millisecond.
    fraction, whole = math.modf(ts)
    micros = round(fraction * 1_000_000)
    second = int(whole)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    elif micros < 0:
        second, micros = second - 1, micros + 1_000_000
    cached, text = _second
    if second != cached:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = (second, text)
    return f"{text}.{micros // 1000:03d}Z"


class RotatingLogFile:
    """Lines of one service, each `<timestamp> <worker> <stream> | <text>`.

    After a write takes the file to `max_bytes` or more it is rotated: with `backups` > 0 the
    files shift up one number and the oldest is dropped, with 0 the file is emptied. A block of
    lines from one write_lines call always lands in one file. `max_bytes` <= 0: never rotated.

    Writing never raises: an OSError (disk full, directory removed) loses that block, is kept in
    `last_error`, and the next write opens the file again. The file being removed or renamed
    from outside is noticed within a second (of `ts`) and a new one is created.
    """

    def __init__(self, path: str, max_bytes: int, backups: int) -> None:
        if backups < 0:
            raise ValueError(f"backups must be 0 or more, not {backups}")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.last_error: OSError | None = None
        self.lost_lines = 0
        self._fd = -1
        self._size = 0
        self._identity = (0, 0)
        self._checked = -math.inf  # ts of the last check that `path` is still our file
        self._ts = math.nan
        self._stamp = ""
        try:
            self._open()
        except OSError as exc:  # reported, and retried at the first write
            self.last_error = exc

    def write_lines(self, ts: float, worker: str, stream: str, lines: list[str]) -> None:
        """Append `lines` (without newlines) stamped with `ts`, `worker` ("web:2") and `stream`."""
        if not lines:
            return
        if ts != self._ts:
            self._ts = ts
            self._stamp = format_timestamp(ts)
        prefix = f"{self._stamp} {worker} {stream} | "
        data = (prefix + ("\n" + prefix).join(lines) + "\n").encode("utf-8", "replace")
        try:
            self._ensure_open(ts)
            _write_all(self._fd, data)
            self._size += len(data)
            if 0 < self.max_bytes <= self._size:
                self._rotate()
        except OSError as exc:
            self.last_error = exc
            self.lost_lines += len(lines)
            self._close_fd()

    def close(self) -> None:
        """Release the descriptor; a later write opens the file again."""
        self._close_fd()

    def __enter__(self) -> RotatingLogFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o644)
        info = os.fstat(fd)
        self._fd = fd
        self._size = info.st_size
        self._identity = (info.st_dev, info.st_ino)

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _ensure_open(self, ts: float) -> None:
        if self._fd >= 0:
            if abs(ts - self._checked) < 1.0:
                return
            self._checked = ts
            try:
                info = os.stat(self.path)
            except OSError:
                info = None
            if info is not None and (info.st_dev, info.st_ino) == self._identity:
                return
            self._close_fd()  # removed or renamed: writing on would go nowhere visible
        self._open()

    def _rotate(self) -> None:
        if self.backups == 0:
            os.ftruncate(self._fd, 0)  # O_APPEND: the next write lands at the new end, 0
            self._size = 0
            return
        self._close_fd()
        for index in range(self.backups - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}.{index}", f"{self.path}.{index + 1}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path, f"{self.path}.1")
        self._open()


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):  # rare for a regular file: a signal, or over 2 GiB in one call
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]
