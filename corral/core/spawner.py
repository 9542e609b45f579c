"""The fork server: a small single-threaded process that forks every worker and outlives nobody.

Why a separate process: forking from the supervisor itself is unsafe once thread workers run
(a child could inherit a held lock), and a worker's grandchildren would be orphaned to init
if the supervisor were killed with SIGKILL. The spawner is forked from the supervisor before
any thread exists, becomes the child subreaper (so every orphaned descendant of a worker is
re-parented to it), and when the supervisor's end of a pipe closes, for whatever reason, it
kills every process group it created and every descendant it still has, then exits. Workers
also get SIGKILL as their parent-death signal, which covers the spawner itself being killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import marshal
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
MAX_MESSAGE = 1 << 20
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031


def _prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fn = libc.prctl
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return lambda option, value: int(fn(option, value, 0, 0, 0))


class SpawnError(Exception):
    """The program could not be started (not found, not executable, bad cwd)."""


@dataclass
class ChildExit:
    """Set once the spawner has reaped the child: `status` is the raw wait status."""

    pid: int
    event: anyio.Event = field(default_factory=anyio.Event)
    status: int | None = None

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
    with contextlib.suppress(OSError):
        import fcntl

        fcntl.fcntl(w, F_SETPIPE_SZ, PIPE_SIZE)
    os.set_blocking(r, False)
    return r, w


class Spawner:
    """The supervisor's handle on the fork server."""

    def __init__(self, sock: socket.socket, alive_w: int, pid: int) -> None:
        self._sock = sock
        self._alive_w = alive_w
        self.pid = pid
        self._next_id = 0
        self._requests: dict[int, _Request] = {}
        self._children: dict[int, ChildExit] = {}
        self._closed = False

    @classmethod
    def launch(cls) -> Spawner:
        """Fork the server. Call before any thread exists in this process."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        alive_r, alive_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked server
            try:
                ours.close()
                os.close(alive_w)
                _serve(theirs, alive_r)
            finally:
                os._exit(0)
        theirs.close()
        os.close(alive_r)
        ours.setblocking(False)
        return cls(ours, alive_w, pid)

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
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


# --- the server side: plain blocking code, single-threaded ---------------------------------


def _serve(sock: socket.socket, alive_r: int) -> None:  # pragma: no cover - forked process
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    children: set[int] = set()
    me = os.getpid()
    sock.setblocking(True)
    try:
        while True:
            ready, _, _ = select.select([sock.fileno(), alive_r, wake_r], [], [])
            if wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                _reap(sock, children)
            if alive_r in ready:
                return  # the supervisor is gone, or it closed us on purpose
            if sock.fileno() in ready:
                data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 2)
                for fd in fds:
                    os.set_inheritable(fd, False)
                msg = marshal.loads(data)
                reply = _spawn(msg, fds, devnull, me, prctl)
                for fd in fds:
                    os.close(fd)
                pid = reply.get("pid")
                if isinstance(pid, int):
                    children.add(pid)
                with contextlib.suppress(OSError):
                    sock.send(marshal.dumps(reply))
                _reap(sock, children)
    finally:
        _kill_everything(children, me)


def _spawn(
    msg: dict[str, object],
    fds: list[int],
    devnull: int,
    me: int,
    prctl: Callable[[int, int], int] | None,
) -> dict[str, object]:  # pragma: no cover - forked process
    argv: list[str] = msg["argv"]  # type: ignore[assignment]
    env: dict[str, str] = msg["env"]  # type: ignore[assignment]
    cwd: str = msg["cwd"]  # type: ignore[assignment]
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if prctl is not None:
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != me:
                    os._exit(137)
            signal.set_wakeup_fd(-1)
            # Ignored signals stay ignored across exec; give the program the defaults.
            for sig in range(1, signal.NSIG):
                with contextlib.suppress(OSError, ValueError, RuntimeError):
                    signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.dup2(devnull, 0)
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            try:
                os.chdir(cwd)
            except OSError as exc:
                os.write(err_w, f"cannot enter {cwd}: {exc.strerror}".encode())
                os._exit(127)
            try:
                os.execvpe(argv[0], argv, env)
            except OSError as exc:
                what = "command not found" if exc.errno == errno.ENOENT else exc.strerror
                os.write(err_w, f"{what}: {argv[0]}".encode())
        except BaseException:
            pass
        os._exit(127)
    os.close(err_w)
    failure = b""
    while chunk := os.read(err_r, 4096):
        failure += chunk
    os.close(err_r)
    if failure:
        os.waitpid(pid, 0)
        return {"op": "error", "id": msg["id"], "message": failure.decode(errors="replace")}
    return {"op": "spawned", "id": msg["id"], "pid": pid}


def _reap(sock: socket.socket, children: set[int]) -> None:  # pragma: no cover - forked process
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in children:
            children.discard(pid)
            with contextlib.suppress(OSError):
                sock.send(marshal.dumps({"op": "exit", "pid": pid, "status": status}))


def descendants(root: int) -> list[int]:
    """Every live descendant of `root`, parents before children (from /proc; empty elsewhere)."""
    parent_of: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat.rsplit(b")", 1)[-1].split()
            parent_of[int(name)] = int(fields[1])
    children: dict[int, list[int]] = {}
    for pid, ppid in parent_of.items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    todo = [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def _kill_everything(groups: set[int], me: int) -> None:  # pragma: no cover - forked process
    deadline = time.monotonic() + 5.0
    while True:
        for pgid in groups:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        left = descendants(me)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)
