"""Lines for a terminal or a pipe: `15:21:28 web:2 | text`, one colour per worker."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from corral.core.events import Event, LinesDropped, LogLines, RuntimeChanged, WorkerChanged
from corral.core.settings import Settings
from corral.core.wording import describe_change

# Bright and normal ANSI colours that read on dark and light backgrounds alike.
PALETTE = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94, 31, 91)
RESET = "\x1b[0m"


def use_colour(fd: int = 1) -> bool:
    return os.isatty(fd) and not os.environ.get("NO_COLOR")


class Printer:
    """Formats events as `15:21:28 web:2 | text`, one colour per worker."""

    def __init__(self, colour: bool, names: Iterable[str] = ()) -> None:
        """`names`: the workers known in advance, for aligned columns from the first line."""
        self._width = len("corral")
        self._colour = colour
        self._colours: dict[str, int] = {}
        for name in names:
            self._learn(name)
        self._clock_cache: tuple[int, str] = (-1, "")

    def _learn(self, name: str) -> None:
        self._colours[name] = PALETTE[len(self._colours) % len(PALETTE)]
        self._width = max(self._width, len(name))

    def _clock(self, at: float) -> str:
        second = int(at)
        if self._clock_cache[0] != second:
            self._clock_cache = (second, time.strftime("%H:%M:%S", time.localtime(at)))
        return self._clock_cache[1]

    def _prefix(self, at: float, name: str) -> str:
        if name not in self._colours:
            self._learn(name)
        label = name.ljust(self._width)
        if self._colour:
            label = f"\x1b[{self._colours[name]}m{label}{RESET}"
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


def worker_names(settings: Settings) -> list[str]:
    return [f"{sid}:{i}" for sid, svc in settings.services.items() for i in range(svc.workers)]
