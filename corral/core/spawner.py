"""The supervisor's side of the fork server (see forkserver.py): spawn requests, exit notices."""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import anyio

MAX_MESSAGE = 1 << 20
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031
SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forkserver.py")


class SpawnError(Exception):
    """The fork server could not fork."""


@dataclass
class ChildExit:
    """Set once the spawner has reaped the child: `status` is the raw wait status."""

    pid: int
    event: anyio.Event = field(default_factory=anyio.Event)
    status: int | None = None
    error: str | None = None  # why the program could not be executed

    async def wait(self) -> int:
        await self.event.wait()
        assert self.status is not None
        return self.status


@dataclass
class _Request:
    event: anyio.Event = field(default_factory=anyio.Event)
    reply: dict[str, object] = field(default_factory=dict)
    child: ChildExit | None = None


def make_pipe() -> tuple[int, int]:
    """A pipe for a worker's stream: large, so a burst never blocks the child on us."""
    r, w = os.pipe()
    with contextlib.suppress(OSError):  # Linux only; elsewhere the default size will do
        fcntl.fcntl(w, F_SETPIPE_SZ, PIPE_SIZE)
    os.set_blocking(r, False)
    return r, w


class Spawner:
    """The supervisor's handle on the fork server."""

    def __init__(self, sock: socket.socket, alive_w: int, proc: subprocess.Popen[bytes]) -> None:
        self._sock = sock
        self._alive_w = alive_w
        self._proc = proc
        self.pid = proc.pid
        self._next_id = 0
        self._requests: dict[int, _Request] = {}
        self._children: dict[int, ChildExit] = {}
        self._closed = False
        self._sending = anyio.Lock()

    @classmethod
    def launch(cls) -> Spawner:
        return cls(*_start_server())

    async def serve(self) -> None:
        """Deliver replies and exit notices; if the server dies, fail what it owed and start a
        new one, so supervision goes on. Runs for the supervisor's lifetime."""
        while True:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read)
                await anyio.to_thread.run_sync(self._proc.wait, abandon_on_cancel=True)
                tg.cancel_scope.cancel()
            if self._closed:
                return
            self._fail_all("the fork server died")
            self._sock.close()
            os.close(self._alive_w)
            self._sock, self._alive_w, self._proc = _start_server()
            self.pid = self._proc.pid

    def _fail_all(self, why: str) -> None:
        for child in self._children.values():
            child.status = 9  # as if SIGKILLed: the server's death sent them SIGKILL
            child.error = why
            child.event.set()
        self._children.clear()
        for req in self._requests.values():
            req.reply = {"op": "error", "message": why}
            req.event.set()
        self._requests.clear()

    async def _read(self) -> None:
        while True:
            await anyio.wait_readable(self._sock)
            while True:
                try:
                    data = self._sock.recv(MAX_MESSAGE)
                except BlockingIOError:
                    break
                try:
                    self._deliver(marshal.loads(data))
                except (ValueError, EOFError, TypeError, KeyError):
                    continue  # not from our server: only it can write here, but never crash

    def _deliver(self, msg: dict[str, Any]) -> None:
        if msg["op"] == "exit":
            child = self._children.pop(msg["pid"], None)
            if child is not None:
                child.status = msg["status"]
                child.error = msg.get("error")
                child.event.set()
            return
        req = self._requests.pop(msg["id"])
        if msg["op"] == "spawned":
            # Its exit may be in the very next message, before the caller resumes.
            req.child = self._children[msg["pid"]] = ChildExit(msg["pid"])
        req.reply = msg
        req.event.set()

    async def spawn(
        self, argv: list[str], env: dict[str, str], cwd: str, out_w: int, err_w: int
    ) -> ChildExit:
        """Fork and exec `argv` in a new session with stdout/stderr on the given pipe ends."""
        self._next_id += 1
        rid = self._next_id
        req = self._requests[rid] = _Request()
        payload = marshal.dumps({"op": "spawn", "id": rid, "argv": argv, "env": env, "cwd": cwd})
        async with self._sending:  # one writer at a time when the socket's queue is full
            while True:
                try:
                    socket.send_fds(self._sock, [payload], [out_w, err_w])
                    break
                except BlockingIOError:
                    await anyio.wait_writable(self._sock)
        await req.event.wait()
        if req.child is None:
            raise SpawnError(str(req.reply["message"]))
        return req.child

    def close(self) -> None:
        """Let the server kill whatever is left and exit; reap it."""
        if self._closed:
            return
        self._closed = True
        os.close(self._alive_w)
        self._sock.close()
        self._proc.wait()


def _start_server() -> tuple[socket.socket, int, subprocess.Popen[bytes]]:
    """A fresh interpreter that inherits only its two descriptors."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    alive_r, alive_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", SERVER, str(theirs.fileno()), str(alive_r)],
        pass_fds=(theirs.fileno(), alive_r),
        stdin=subprocess.DEVNULL,
        close_fds=True,
    )
    theirs.close()
    os.close(alive_r)
    ours.setblocking(False)
    return ours, alive_w, proc
