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
        """Start the server as a fresh interpreter that inherits only its two descriptors."""
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
        return cls(ours, alive_w, proc)

    async def serve(self) -> None:
        """Deliver replies and exit notices; runs for the supervisor's lifetime."""
        while True:
            await anyio.wait_readable(self._sock)
            while True:
                try:
                    data = self._sock.recv(MAX_MESSAGE)
                except BlockingIOError:
                    break
                msg = marshal.loads(data)
                if msg["op"] == "exit":
                    child = self._children.pop(msg["pid"], None)
                    if child is not None:
                        child.status = msg["status"]
                        child.error = msg.get("error")
                        child.event.set()
                else:
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
