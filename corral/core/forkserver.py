"""The fork server: a small single-threaded process that forks every worker and outlives nobody.

It runs as its own fresh interpreter (`python -I -S forkserver.py SOCK ALIVE`), importing only
the standard library, so it starts in milliseconds, stays small (cheap forks) and holds no lock
a thread of the supervisor could have taken. Why a separate process at all: forking from the
supervisor is unsafe once thread workers run, and a worker's grandchildren would be orphaned to
init if the supervisor were killed with SIGKILL. This server is the child subreaper, so every
orphaned descendant of a worker is re-parented to it; when the supervisor's end of the ALIVE
pipe closes, for whatever reason, it kills every process group it created and every descendant
it still has, then exits. Workers also get SIGKILL as their parent-death signal, which covers
this server itself being killed.

Protocol, over a Unix datagram socket, each message a marshal-encoded dict:
  request  {"op": "spawn", "id", "argv", "env", "cwd"} with the stdout and stderr pipe ends
  replies  {"op": "spawned", "id", "pid"} or {"op": "error", "id", "message"} (no fork)
  notices  {"op": "exit", "pid", "status", "error"?} when a worker is reaped; "status" is the
           raw wait status, "error" says why the exec failed (command not found, bad cwd)
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

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
MAX_MESSAGE = 1 << 20


def _prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fn = libc.prctl
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return lambda option, value: int(fn(option, value, 0, 0, 0))


IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP)
# Ignored signals stay ignored across exec: a worker gets these back to their defaults.
RESET = (*IGNORED, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD)


class _Server:
    def __init__(self, sock: socket.socket, alive_r: int) -> None:
        self.sock = sock
        self.alive_r = alive_r
        self.me = os.getpid()
        self.prctl = _prctl()
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        self.children: set[int] = set()
        self.execs: dict[int, int] = {}  # exec-error pipe -> pid, until the exec is confirmed
        self.failures: dict[int, str] = {}  # pid -> why its exec failed

    def run(self) -> None:
        # Inherited from the supervisor on purpose; our children must not inherit them in turn.
        os.set_inheritable(self.sock.fileno(), False)
        os.set_inheritable(self.alive_r, False)
        for sig in IGNORED:
            signal.signal(sig, signal.SIG_IGN)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        if self.prctl is not None:
            self.prctl(PR_SET_CHILD_SUBREAPER, 1)
        self.sock.setblocking(True)
        sock = self.sock.fileno()
        try:
            while True:
                ready, _, _ = select.select([sock, self.alive_r, wake_r, *self.execs], [], [])
                if self.alive_r in ready:
                    return  # the supervisor is gone, or it closed us on purpose
                for fd in ready:
                    if fd in self.execs:
                        self._exec_result(fd)
                if sock in ready:
                    self._request()
                if wake_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    self._reap()
        finally:
            _kill_everything(self.children, self.me)

    def _send(self, msg: dict[str, object]) -> None:
        with contextlib.suppress(OSError):
            self.sock.send(marshal.dumps(msg))

    def _request(self) -> None:
        data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 2)
        for fd in fds:
            os.set_inheritable(fd, False)
        msg = marshal.loads(data)
        try:
            err_r, err_w = os.pipe()
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(NameError, OSError):
                os.close(err_r)
                os.close(err_w)
            self._send({"op": "error", "id": msg["id"], "message": f"cannot fork: {exc.strerror}"})
            return
        if pid == 0:
            self._child(msg, fds, err_w)
        for fd in (*fds, err_w):
            os.close(fd)
        # Reply at once: the exec is confirmed (or its failure read) while the next one forks.
        self.children.add(pid)
        self.execs[err_r] = pid
        self._send({"op": "spawned", "id": msg["id"], "pid": pid})

    def _child(self, msg: dict[str, object], fds: list[int], err_w: int) -> None:
        argv: list[str] = msg["argv"]  # type: ignore[assignment]
        env: dict[str, str] = msg["env"]  # type: ignore[assignment]
        cwd: str = msg["cwd"]  # type: ignore[assignment]
        try:
            os.setsid()
            if self.prctl is not None:
                self.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != self.me:
                    os._exit(137)
            signal.set_wakeup_fd(-1)
            for sig in RESET:
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.dup2(self.devnull, 0)
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

    def _exec_result(self, fd: int) -> None:
        pid = self.execs.pop(fd)
        failure = b""
        while chunk := os.read(fd, 4096):  # the child execs or exits: this never blocks long
            failure += chunk
        os.close(fd)
        if failure:
            self.failures[pid] = failure.decode(errors="replace")

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid not in self.children:
                continue  # an orphan re-parented to us: reaped, nothing to report
            self.children.discard(pid)
            for fd, owner in list(self.execs.items()):
                if owner == pid:
                    self._exec_result(fd)
            msg: dict[str, object] = {"op": "exit", "pid": pid, "status": status}
            if pid in self.failures:
                msg["error"] = self.failures.pop(pid)
            self._send(msg)


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


def _kill_everything(groups: set[int], me: int) -> None:
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


if __name__ == "__main__":
    _Server(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2])).run()
