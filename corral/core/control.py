"""The daemon's control socket: one task group per client, requests served concurrently.

A client that stops reading only blocks its own connection: replies wait for it, and its
subscription drops log lines (with a marker) while the supervisor and other clients go on.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import sys
from collections.abc import Awaitable, Callable

import anyio
import msgspec
from anyio.abc import SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from corral.core.events import LogLines, Outcome, Snapshot
from corral.core.metrics import Metrics
from corral.core.protocol import (
    HEADER,
    MAX_REQUEST,
    Command,
    Detach,
    Down,
    DownReply,
    Error,
    Events,
    LogsReply,
    LogsRequest,
    Ok,
    Outcomes,
    Own,
    Reply,
    Request,
    Scale,
    StatusReply,
    StatusRequest,
    Subscribe,
    Subscribed,
    frame,
    request_decoder,
)
from corral.core.status import build_status
from corral.core.supervisor import Supervisor, TargetError

TargetFilter = Callable[[str, int], bool]


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end (Linux); None where it cannot be known."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def target_filter(sup: Supervisor, targets: list[str]) -> TargetFilter:
    """A predicate on (service, slot) for `web`, `web:2` or `all`; TargetError if unknown."""
    if not targets or "all" in targets:
        return lambda service, slot: True
    sup.resolve(targets)  # raises on anything unknown
    services = {t for t in targets if ":" not in t}
    slots = {(t.split(":")[0], int(t.split(":")[1])) for t in targets if ":" in t}
    return lambda service, slot: service in services or (service, slot) in slots


def last_lines(
    batches: list[LogLines], wanted: TargetFilter, count: int, since: float | None
) -> list[LogLines]:
    """The last `count` lines of the wanted workers, merged in time order, as batches."""
    picked = [b for b in batches if wanted(b.service, b.slot) and (since is None or b.at >= since)]
    picked.sort(key=lambda b: b.at)
    result: list[LogLines] = []
    left = count
    for batch in reversed(picked):
        if left <= 0:
            break
        lines = batch.lines[-left:]
        left -= len(lines)
        result.append(msgspec.structs.replace(batch, lines=lines))
    result.reverse()
    return result


class Connection:
    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self.reader = BufferedByteReceiveStream(stream)
        self._sending = anyio.Lock()
        self.owner = False

    async def read(self) -> Request:
        size = HEADER.unpack(await self.reader.receive_exactly(HEADER.size))[0]
        if size > MAX_REQUEST:
            raise ValueError(f"frame of {size} bytes is over the limit of {MAX_REQUEST}")
        return request_decoder.decode(await self.reader.receive_exactly(size))

    async def send(self, reply: Reply) -> None:
        data = frame(reply)
        async with self._sending:
            await self.stream.send(data)


class ControlServer:
    def __init__(self, sup: Supervisor, path: str, started_at: float) -> None:
        self.sup = sup
        self.path = path
        self.started_at = started_at
        self.metrics = Metrics()
        self.down_replies = 0  # pending replies to `down`, to be sent before the daemon exits
        self._operations: anyio.abc.TaskGroup

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        old_umask = os.umask(0o177)  # the socket is created 0600, never briefly wider
        try:
            listener = await anyio.create_unix_listener(self.path)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        task_status.started()
        async with listener, anyio.create_task_group() as self._operations:
            await listener.serve(self._client)

    async def _client(self, stream: SocketStream) -> None:
        conn = Connection(stream)
        raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        uid = peer_uid(raw)
        if uid is not None and uid != os.getuid():
            with contextlib.suppress(Exception):
                await conn.send(Error(id=0, kind="usage", message="refused: not the daemon's user"))
            await stream.aclose()
            return
        try:
            async with anyio.create_task_group() as tg:
                await self._requests(conn, tg)
                tg.cancel_scope.cancel()
        except Exception as exc:  # a bug must cost this connection, never the daemon
            print(f"corral: internal error on a connection: {exc!r}", file=sys.stderr)
        finally:
            if conn.owner:
                self.sup.request_shutdown("the foreground client went away")
            with contextlib.suppress(Exception):
                await stream.aclose()

    async def _requests(self, conn: Connection, tg: anyio.abc.TaskGroup) -> None:
        """Read requests until the client goes away or sends garbage."""
        try:
            while True:
                tg.start_soon(self._dispatch, conn, await conn.read())
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            with contextlib.suppress(Exception):
                await conn.send(Error(id=0, kind="protocol", message=f"bad frame: {exc}"))
        except (
            anyio.EndOfStream,
            anyio.IncompleteRead,
            anyio.BrokenResourceError,
            anyio.ClosedResourceError,
            OSError,
        ):
            pass

    async def _dispatch(self, conn: Connection, request: Request) -> None:
        try:
            await self._handle(conn, request)
        except TargetError as exc:
            await conn.send(Error(id=request.id, kind="target", message=str(exc)))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        except Exception as exc:  # a bug must cost one request, never the daemon
            print(f"corral: internal error on {type(request).__name__}: {exc!r}", file=sys.stderr)
            with contextlib.suppress(Exception):
                await conn.send(Error(id=request.id, kind="internal", message=repr(exc)))

    async def _handle(self, conn: Connection, request: Request) -> None:
        sup = self.sup
        if isinstance(request, StatusRequest):
            doc = build_status(sup, self.metrics, self.started_at)
            await conn.send(StatusReply(id=request.id, status=doc))
        elif isinstance(request, Command):
            if sup.shutdown_requested:
                await conn.send(Error(id=request.id, kind="usage", message="corral is stopping"))
                return
            op = {"start": sup.start, "stop": sup.stop, "restart": sup.restart}[request.verb]
            outcomes = await self._detached(lambda: op(request.targets))
            await conn.send(Outcomes(id=request.id, outcomes=outcomes))
        elif isinstance(request, Scale):
            if sup.shutdown_requested:
                await conn.send(Error(id=request.id, kind="usage", message="corral is stopping"))
                return
            if not 0 <= request.count <= 10_000:
                message = f"expected a worker count from 0 to 10000, got {request.count}"
                await conn.send(Error(id=request.id, kind="usage", message=message))
                return
            outcomes = await self._detached(lambda: sup.scale(request.service, request.count))
            await conn.send(Outcomes(id=request.id, outcomes=outcomes))
        elif isinstance(request, LogsRequest):
            wanted = target_filter(sup, request.targets)
            batches = [b for ring in sup.bus.rings.values() for b in ring.batches]
            logs = last_lines(batches, wanted, request.lines, request.since)
            await conn.send(LogsReply(id=request.id, logs=logs))
        elif isinstance(request, Subscribe):
            await self._follow(conn, request)
        elif isinstance(request, Own):
            conn.owner = True
            await conn.send(Ok(id=request.id))
        elif isinstance(request, Detach):
            conn.owner = False
            await conn.send(Ok(id=request.id))
        elif isinstance(request, Down):
            conn.owner = False
            self.down_replies += 1
            try:
                sup.request_shutdown("corral down")
                await sup.stopped.wait()
                await conn.send(DownReply(id=request.id, exit_code=sup.exit_code))
            finally:
                self.down_replies -= 1

    async def _detached(self, operation: Callable[[], Awaitable[list[Outcome]]]) -> list[Outcome]:
        """Run an operation in the daemon's own task group: a client that goes away halfway
        (Ctrl-C on `corral restart`) must not leave a worker half-restarted."""
        done = anyio.Event()
        result: list[list[Outcome] | Exception] = []

        async def run() -> None:
            try:
                result.append(await operation())
            except Exception as exc:
                result.append(exc)
            finally:
                done.set()

        self._operations.start_soon(run)
        await done.wait()
        if not result:
            raise RuntimeError("the daemon is stopping")
        if isinstance(result[0], Exception):
            raise result[0]
        return result[0]

    async def _follow(self, conn: Connection, request: Subscribe) -> None:
        wanted = target_filter(self.sup, request.targets)
        snapshot, sub = self.sup.bus.snapshot_and_subscribe()
        try:
            if request.targets or request.lines is not None:
                snapshot = _trim(snapshot, wanted, request.lines)
            await conn.send(Subscribed(id=request.id, snapshot=snapshot))
            while batch := await sub.next_batch():
                if request.targets:
                    batch = [
                        e for e in batch if not isinstance(e, LogLines) or wanted(e.service, e.slot)
                    ]
                await conn.send(Events(id=request.id, events=batch))
        finally:
            sub.close()


def _trim(snapshot: Snapshot, wanted: TargetFilter, lines: int | None) -> Snapshot:
    logs = last_lines(snapshot.logs, wanted, lines if lines is not None else 1 << 62, None)
    return msgspec.structs.replace(snapshot, logs=logs)
