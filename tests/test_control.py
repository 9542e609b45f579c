"""The control socket under abuse: other users, garbage frames, clients that never read."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import msgspec
import pytest

from corral.core.client import Client
from corral.core.events import LogLines
from corral.core.protocol import HEADER, StatusRequest, Subscribe, frame, reply_decoder
from corral.core.rundir import socket_path
from tests.test_daemon import Project

pytestmark = pytest.mark.timeout(90)

FLOOD = """
[services.web]
command = "sleep 300"
workers = 2
ready_after = "0s"

[services.flood]
command = ["{python}", "-c", "import sys\\nwhile True: sys.stdout.write('x' * 99 + '\\\\n')"]
ready_after = "0s"

[services.ticker]
command = ["{python}", "-u", "-c", "import time\\nfor i in range(9**6): print(i); time.sleep(.01)"]
ready_after = "0s"
"""


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Project]:
    project = Project(tmp_path, '[services.web]\ncommand = "sleep 300"\nready_after = "0s"\n')
    assert project.run("up", "-d").returncode == 0
    yield project
    project.run("down")


def _sock(project: Project) -> str:
    os.environ["XDG_RUNTIME_DIR"] = project.env["XDG_RUNTIME_DIR"]
    try:
        return socket_path(str(project.root / "corral.toml"))
    finally:
        del os.environ["XDG_RUNTIME_DIR"]


def _connect(project: Project) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(_sock(project))
    return s


def _reply(s: socket.socket) -> object:
    header = _exactly(s, HEADER.size)
    return reply_decoder.decode(_exactly(s, HEADER.unpack(header)[0]))


def _exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def test_socket_and_directory_permissions(daemon: Project) -> None:
    path = _sock(daemon)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700


OTHER_PYTHON = shutil.which("python3", path="/usr/bin:/bin")  # one that `nobody` may run


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
@pytest.mark.skipif(OTHER_PYTHON is None, reason="no system python3 for another user")
def test_a_client_of_another_uid_is_refused() -> None:
    # Everything on the way is opened on purpose, so that only the peer-credential check
    # stands between another user and the daemon.
    root = Path(tempfile.mkdtemp(prefix="corral-uid-test-"))
    os.chmod(root, 0o755)
    project = Project(root, '[services.web]\ncommand = "sleep 300"\nready_after = "0s"\n')
    os.chmod(root / "run", 0o755)
    try:
        assert project.run("up", "-d").returncode == 0
        path = _sock(project)
        os.chmod(os.path.dirname(path), 0o755)
        os.chmod(path, 0o666)
        code = (
            "import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])\n"
            "data = b''\n"
            "try:\n"
            f"    s.sendall({frame(StatusRequest(id=1))!r})\n"
            "    while chunk := s.recv(65536): data += chunk\n"
            "except (BrokenPipeError, ConnectionResetError): pass  # refused and closed\n"
            "sys.stdout.buffer.write(data)\n"
        )
        nobody = pwd.getpwnam("nobody")
        result = subprocess.run(
            [str(OTHER_PYTHON), "-I", "-c", code, path],
            user=nobody.pw_uid,
            group=nobody.pw_gid,
            capture_output=True,
            timeout=20,
            cwd="/",
        )
        assert result.returncode == 0, result.stderr
        # Refused: an error frame (unless the close overtook it), and never a status.
        if result.stdout:
            size = HEADER.unpack(result.stdout[: HEADER.size])[0]
            reply = reply_decoder.decode(result.stdout[HEADER.size : HEADER.size + size])
            assert reply.kind == "usage" and "refused" in reply.message  # type: ignore[union-attr]
            assert len(result.stdout) == HEADER.size + size
        assert project.run("status").returncode == 0
    finally:
        project.run("down")
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\x00\x00\x05hello",  # not msgpack of a request
        HEADER.pack(3) + msgspec.msgpack.encode([1, 2]),  # msgpack, not a request
        HEADER.pack(1 << 30) + b"x" * 100,  # a frame far over the limit
        HEADER.pack(100) + b"short",  # cut short, then the client goes away
        b"\xff\xff",  # not even a header
        HEADER.pack(20) + msgspec.msgpack.encode({"type": "status", "id": "x"}),
    ],
)
def test_garbage_frames_never_crash_the_daemon(daemon: Project, garbage: bytes) -> None:
    s = _connect(daemon)
    s.sendall(garbage)
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
    result = daemon.run("status")
    assert result.returncode == 0, result.stderr
    assert "web" in result.stdout


def test_many_clients_at_once(daemon: Project) -> None:
    procs = [daemon.popen("status", "--json") for _ in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert '"id":"web"' in out


def test_a_client_that_never_reads_slows_nobody(tmp_path: Path) -> None:
    project = Project(tmp_path, FLOOD.format(python=sys.executable))
    try:
        assert project.run("up", "-d").returncode == 0
        stuck = _connect(project)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(frame(Subscribe(id=1)))  # ...and never reads a byte
        time.sleep(1.0)  # the flood fills its socket buffer
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            s = _connect(project)
            s.sendall(frame(StatusRequest(id=7)))
            reply = _reply(s)
            times.append(time.monotonic() - t0)
            s.close()
            assert reply.id == 7  # type: ignore[attr-defined]
        assert max(times) < 0.5, times

        async def follow_live() -> list[int]:
            os.environ["XDG_RUNTIME_DIR"] = project.env["XDG_RUNTIME_DIR"]
            seen: list[int] = []
            async with Client.connect(str(project.root / "corral.toml")) as client:
                snapshot, events = await client.subscribe(targets=["ticker"], lines=5)
                seen += [int(x) for b in snapshot.logs for x in b.lines]
                with anyio.fail_after(10):
                    async for batch in events:
                        for e in batch:
                            if isinstance(e, LogLines):
                                seen += [int(x) for x in e.lines]
                        if len(seen) >= 30:
                            break
            return seen

        try:
            seen = anyio.run(follow_live)
        finally:
            del os.environ["XDG_RUNTIME_DIR"]
        # Snapshot then live: consecutive, no gap and no duplicate, while the other client
        # is stuck and the flood goes on.
        assert seen == list(range(seen[0], seen[0] + len(seen)))
        stuck.close()
    finally:
        project.run("down")


def test_a_truncated_header_from_a_vanishing_client_is_harmless(daemon: Project) -> None:
    s = _connect(daemon)
    s.sendall(struct.pack(">H", 7))
    s.close()
    assert daemon.run("status").returncode == 0
