"""The client API of a running daemon: what the CLI verbs and the dashboard are built on.

    async with Client.connect("corral.toml") as client:
        doc = await client.status()
        outcomes = await client.restart(["web:2"])
        snapshot, events = await client.subscribe()
        async for batch in events: ...

Requests may be issued concurrently from several tasks; replies are matched by id.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TypeVar

import anyio
from anyio.abc import SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from corral.core.events import Event, LogLines, Outcome, Snapshot
from corral.core.protocol import (
    HEADER,
    MAX_REPLY,
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
    StatusDoc,
    StatusReply,
    StatusRequest,
    Subscribe,
    Subscribed,
    frame,
    reply_decoder,
)
from corral.core.rundir import socket_path

R = TypeVar("R")


class NotRunning(Exception):
    """No daemon answers for this config."""

    def __init__(self, config: str) -> None:
        shown = os.path.relpath(config)
        if not shown.startswith(("/", "..")):
            shown = "./" + shown
        super().__init__(f"no corral is running for {shown} (start it with: corral up -d)")


class DaemonError(Exception):
    """The daemon refused a request: `kind` is target, usage, protocol or internal."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ConnectionLost(Exception):
    """The daemon went away while we were talking to it."""


class _Pending:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.reply: Reply | None = None


class Client:
    def __init__(self, stream: SocketStream) -> None:
        self._stream = stream
        self._reader = BufferedByteReceiveStream(stream)
        self._sending = anyio.Lock()
        self._next_id = 0
        self._pending: dict[int, _Pending] = {}
        self._follows: dict[int, MemoryObjectSendStream[list[Event]]] = {}
        self._lost = False

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, config_path: str) -> AsyncIterator[Client]:
        path = socket_path(config_path)
        try:
            stream = await anyio.connect_unix(path)
        except (FileNotFoundError, ConnectionRefusedError):
            raise NotRunning(config_path) from None
        client = cls(stream)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client._read_replies)
                try:
                    yield client
                finally:
                    tg.cancel_scope.cancel()
        finally:
            # Outside the cancelled scope: an await in it would raise a cancellation that
            # replaces (and so hides) whatever the caller's code raised.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await stream.aclose()

    async def _read_replies(self) -> None:
        try:
            while True:
                size = HEADER.unpack(await self._reader.receive_exactly(HEADER.size))[0]
                if size > MAX_REPLY:
                    break
                reply = reply_decoder.decode(await self._reader.receive_exactly(size))
                if isinstance(reply, Events):
                    follow = self._follows.get(reply.id)
                    if follow is not None:
                        try:
                            await follow.send(reply.events)  # backpressure: we read no further
                        except anyio.BrokenResourceError:  # the caller stopped following
                            del self._follows[reply.id]
                    continue
                pending = self._pending.pop(reply.id, None)
                if pending is not None:
                    pending.reply = reply
                    pending.done.set()
                elif isinstance(reply, Error) and reply.id == 0:
                    break  # the daemon refused the connection or our frame
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, OSError):
            pass
        finally:
            self._lost = True
            for pending in self._pending.values():
                pending.done.set()
            for follow in self._follows.values():
                follow.close()

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _call(self, request: Request, expect: type[R]) -> R:
        if self._lost:
            raise ConnectionLost("the connection to corral was lost")
        pending = self._pending[request.id] = _Pending()
        async with self._sending:
            try:
                await self._stream.send(frame(request))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                raise ConnectionLost("the connection to corral was lost") from None
        await pending.done.wait()
        reply = pending.reply
        if reply is None:
            raise ConnectionLost("the connection to corral was lost")
        if isinstance(reply, Error):
            raise DaemonError(reply.kind, reply.message)
        assert isinstance(reply, expect), reply
        return reply

    # --- the API -------------------------------------------------------------------------------

    async def status(self) -> StatusDoc:
        return (await self._call(StatusRequest(id=self._id()), StatusReply)).status

    async def start(self, targets: list[str]) -> list[Outcome]:
        return await self._command("start", targets)

    async def stop(self, targets: list[str]) -> list[Outcome]:
        return await self._command("stop", targets)

    async def restart(self, targets: list[str]) -> list[Outcome]:
        return await self._command("restart", targets)

    async def _command(self, verb: str, targets: list[str]) -> list[Outcome]:
        request = Command(id=self._id(), verb=verb, targets=targets)  # type: ignore[arg-type]
        return (await self._call(request, Outcomes)).outcomes

    async def scale(self, service: str, count: int) -> list[Outcome]:
        request = Scale(id=self._id(), service=service, count=count)
        return (await self._call(request, Outcomes)).outcomes

    async def logs(
        self, targets: list[str], lines: int, since: float | None = None
    ) -> list[LogLines]:
        request = LogsRequest(id=self._id(), targets=targets, lines=lines, since=since)
        return (await self._call(request, LogsReply)).logs

    async def subscribe(
        self, targets: list[str] | None = None, lines: int | None = None
    ) -> tuple[Snapshot, MemoryObjectReceiveStream[list[Event]]]:
        """The current state, then every event after it: no gap, no duplicate."""
        send, receive = anyio.create_memory_object_stream[list[Event]](16)
        request = Subscribe(id=self._id(), targets=targets or [], lines=lines)
        self._follows[request.id] = send  # before asking: events may follow the reply at once
        try:
            reply = await self._call(request, Subscribed)
        except BaseException:
            self._follows.pop(request.id, None)
            send.close()
            raise
        return reply.snapshot, receive

    async def own(self) -> None:
        """Make this connection the foreground one: the daemon stops if it goes away."""
        await self._call(Own(id=self._id()), Ok)

    async def detach(self) -> None:
        await self._call(Detach(id=self._id()), Ok)

    async def down(self) -> int:
        """Stop everything and end the daemon; the exit code it ends with."""
        return (await self._call(Down(id=self._id()), DownReply)).exit_code
