"""How a generation ended."""

from __future__ import annotations

import os

import msgspec

from corral.core.signals import signal_name


class ExitInfo(msgspec.Struct, frozen=True, kw_only=True):
    code: int | None = None  # exit code, when it exited
    signal: str | None = None  # the signal that killed it
    reason: str = ""  # why it could not start, or the exception of a thread worker

    @classmethod
    def from_wait_status(cls, status: int) -> ExitInfo:
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            return cls(signal=signal_name(-code))
        return cls(code=code)

    @property
    def clean(self) -> bool:
        return self.code == 0 and not self.reason

    def describe(self) -> str:
        if self.reason:
            return self.reason
        if self.signal is not None:
            return f"killed by {self.signal}"
        return f"exit {self.code}"
