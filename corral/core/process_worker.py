"""Process workers: environment, `$VAR` expansion, spawning through the fork server, output."""

from __future__ import annotations

import contextlib
import os
import re
import signal

import anyio

from corral.core.capture import WorkerOutput, pump
from corral.core.exits import ExitInfo
from corral.core.settings import ServiceSettings
from corral.core.spawner import ChildExit, Spawner, make_pipe

_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")
PIPE_GRACE = 0.5  # after the exit, how long the pipes may still deliver what was written


def worker_env(
    service: ServiceSettings, slot: int, workers: int, base: dict[str, str]
) -> dict[str, str]:
    env = dict(base)
    env.update(service.env)
    env["CORRAL_SERVICE"] = service.id
    env["CORRAL_WORKER"] = str(slot)
    env["CORRAL_WORKERS"] = str(workers)
    port = service.worker_port(slot)
    if port is not None:
        env["PORT"] = str(port)
    return env


def expand(arg: str, env: dict[str, str]) -> str:
    """`$NAME` and `${NAME}` from the worker's environment (unset: empty); `$$` is a `$`."""
    return _VAR.sub(lambda m: "$" if m.group(3) else env.get(m.group(1) or m.group(2), ""), arg)


def worker_argv(service: ServiceSettings, env: dict[str, str]) -> list[str]:
    assert service.command is not None
    if service.shell:
        return list(service.command)  # the shell expands, from the same environment
    return [expand(arg, env) for arg in service.command]


class ProcessGeneration:
    """One process filling a slot; the leader of its own process group."""

    def __init__(self, child: ChildExit, out_r: int, err_r: int) -> None:
        self.pid: int | None = child.pid
        self._child = child
        self._fds = (out_r, err_r)
        self.ready = anyio.Event()  # processes become ready by `ready_after` only

    @classmethod
    async def spawn(
        cls, spawner: Spawner, service: ServiceSettings, slot: int, env: dict[str, str]
    ) -> ProcessGeneration:
        out_r, out_w = make_pipe()
        err_r, err_w = make_pipe()
        try:
            child = await spawner.spawn(worker_argv(service, env), env, service.cwd, out_w, err_w)
        except BaseException:
            os.close(out_r)
            os.close(err_r)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        return cls(child, out_r, err_r)

    async def run(self, output: WorkerOutput) -> ExitInfo:
        drained = [anyio.Event(), anyio.Event()]

        async def drain(fd: int, stream: str, done: anyio.Event) -> None:
            try:
                await pump(fd, stream, output)
            finally:
                done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain, self._fds[0], "out", drained[0])
            tg.start_soon(drain, self._fds[1], "err", drained[1])
            status = await self._child.wait()
            # A generation's leftovers (its process group) must not outlive it and hold ports.
            self.kill()
            with anyio.move_on_after(PIPE_GRACE):
                for done in drained:
                    await done.wait()
            tg.cancel_scope.cancel()
        if self._child.error:
            return ExitInfo(code=127, reason=self._child.error)
        return ExitInfo.from_wait_status(status)

    def signal(self, signame: str) -> None:
        self._killpg(getattr(signal, signame))

    def kill(self) -> None:
        self._killpg(signal.SIGKILL)

    def _killpg(self, sig: int) -> None:
        assert self.pid is not None
        with contextlib.suppress(OSError):
            os.killpg(self.pid, sig)
