"""Thread workers: a Python function called in a thread of the supervisor, with a context.

Their `print` and `logging` output is attributed to their own worker: sys.stdout and sys.stderr
are replaced once by routers that look up the calling thread's worker, and a root logging
handler does the same for log records.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from corral.core.capture import WorkerOutput
from corral.core.exits import ExitInfo
from corral.core.linesplit import LineSplitter
from corral.core.settings import ServiceSettings


class WorkerContext:
    """What a thread worker's function receives."""

    def __init__(
        self,
        service: str,
        slot: int,
        workers: int,
        generation: int,
        port: int | None,
        env: dict[str, str],
        on_ready: Callable[[], None],
    ) -> None:
        self.service = service
        self.slot = slot
        self.workers = workers
        self.generation = generation
        self.port = port
        self.env = env
        self.stop_event = threading.Event()
        self.logger = logging.getLogger(f"corral.worker.{service}.{slot}")
        self.logger.setLevel(logging.INFO)
        self._on_ready = on_ready

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds; True as soon as the worker is asked to stop."""
        return self.stop_event.wait(timeout)

    def ready(self) -> None:
        """Tell corral this worker is ready (otherwise `ready_after` decides)."""
        self._on_ready()


class _ThreadSink:
    """Text written by one worker thread, split into lines and handed to the event loop."""

    def __init__(
        self, output: WorkerOutput, call_soon: Callable[[Callable[[], None]], Any]
    ) -> None:
        self._output = output
        self._call_soon = call_soon
        self._lock = threading.Lock()
        self._pending: dict[str, list[str]] = {"out": [], "err": []}
        self._scheduled = False
        self._splitters = {"out": LineSplitter(), "err": LineSplitter()}

    def write(self, stream: str, text: str) -> None:
        with self._lock:
            self._pending[stream].append(text)
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the supervisor's loop is already closed
            self._call_soon(self.flush)

    def flush(self, final: bool = False) -> None:
        with self._lock:
            pending = self._pending
            self._pending = {"out": [], "err": []}
            self._scheduled = False
        at = self._output.clock()
        for stream, parts in pending.items():
            splitter = self._splitters[stream]
            if parts:
                self._output.emit(stream, splitter.feed("".join(parts).encode()), at)
            if final:
                self._output.emit(stream, splitter.flush(), at)


_current = threading.local()


class _Router:
    """Stands in for sys.stdout or sys.stderr: a worker thread's writes go to its worker."""

    def __init__(self, original: TextIO, stream: str) -> None:
        self._original = original
        self._stream = stream

    def write(self, text: str) -> int:
        sink: _ThreadSink | None = getattr(_current, "sink", None)
        if sink is None:
            return self._original.write(text)
        sink.write(self._stream, text)
        return len(text)

    def flush(self) -> None:
        if getattr(_current, "sink", None) is None:
            self._original.flush()

    def isatty(self) -> bool:
        return getattr(_current, "sink", None) is None and self._original.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _RecordRouter(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink: _ThreadSink | None = getattr(_current, "sink", None)
        if sink is not None:
            sink.write("err", self.format(record) + "\n")


_record_router = _RecordRouter()
_record_router.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _install_routers() -> None:
    """Checked at every start: something else may have replaced sys.stdout since."""
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout, "out")
    if not isinstance(sys.stderr, _Router):
        sys.stderr = _Router(sys.stderr, "err")
    root = logging.getLogger()
    if _record_router not in root.handlers:
        root.addHandler(_record_router)


def resolve_target(target: str, search_path: str) -> Callable[[WorkerContext], Any]:
    module_name, _, attr = target.partition(":")
    if search_path not in sys.path:
        sys.path.insert(0, search_path)
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{target} is not callable")
    return obj  # type: ignore[no-any-return]


class ThreadGeneration:
    """One run of the target in a daemon thread (Python cannot kill a thread; it may linger)."""

    pid: int | None = None
    thread_id: int | None = None  # the kernel's id of the thread, for its CPU time

    def __init__(
        self, service: ServiceSettings, slot: int, generation: int, env: dict[str, str]
    ) -> None:
        self._service = service
        self.ready = anyio.Event()
        self._done = anyio.Event()
        self._exit = ExitInfo(code=0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_task: asyncio.Task[Any] | None = None
        self._ctx = WorkerContext(
            service.id,
            slot,
            int(env["CORRAL_WORKERS"]),
            generation,
            service.worker_port(slot),
            env,
            self._ready_from_thread,
        )

    def _ready_from_thread(self) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self.ready.set)

    async def run(self, output: WorkerOutput) -> ExitInfo:
        _install_routers()
        self._loop = asyncio.get_running_loop()
        sink = _ThreadSink(output, self._loop.call_soon_threadsafe)
        thread = threading.Thread(
            target=self._main, args=(sink,), name=f"corral {output.name}", daemon=True
        )
        thread.start()
        self.thread_id = thread.native_id
        await self._done.wait()
        sink.flush(final=True)
        return self._exit

    def _main(self, sink: _ThreadSink) -> None:
        _current.sink = sink
        try:
            fn = resolve_target(self._service.target or "", self._service.cwd)
            if asyncio.iscoroutinefunction(fn):
                asyncio.run(self._run_async(fn))
            else:
                fn(self._ctx)
        except BaseException as exc:  # an exception ends the worker like a crash
            if not (isinstance(exc, asyncio.CancelledError) and self._ctx.stopping):
                sink.write("err", traceback.format_exc())
                self._exit = ExitInfo(code=1, reason=f"{type(exc).__name__}: {exc}")
        finally:
            _current.sink = None
            assert self._loop is not None
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._done.set)

    async def _run_async(self, fn: Callable[[WorkerContext], Any]) -> None:
        self._async_task = asyncio.current_task()
        if self._ctx.stopping:
            return
        await fn(self._ctx)

    def signal(self, signame: str) -> None:
        self._ctx.stop_event.set()
        task = self._async_task
        if task is not None:
            task.get_loop().call_soon_threadsafe(task.cancel)

    def kill(self) -> None:
        """Python cannot kill a thread: asking again is all there is."""
        self.signal("SIGKILL")
