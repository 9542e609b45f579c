"""The verbs that talk to a daemon (design §8), each a thin layer over the Client API."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import anyio
import msgspec

from corral.core.client import Client, ConnectionLost, DaemonError, NotRunning
from corral.core.events import Event, LinesDropped, LogLines, Outcome, RuntimeChanged
from corral.core.protocol import StatusDoc
from corral.core.settings import Settings
from corral.formatting import duration, last_exit, memory, service_text, worker_state
from corral.printer import Printer, use_colour, worker_names

NOT_RUNNING = 3
LAUNCH_TIMEOUT = 30.0


class LaunchError(Exception):
    """The daemon did not come up; the message includes the end of its log."""


def _daemon_log(settings: Settings) -> str:
    return os.path.join(settings.runtime.log_dir, "corral.log")


async def ensure_daemon(settings: Settings, selection: Sequence[str]) -> bool:
    """Start the daemon for this config unless one runs. True when this call started it."""
    try:
        async with Client.connect(settings.path):
            return False
    except NotRunning:
        pass
    os.makedirs(settings.runtime.log_dir, exist_ok=True)
    log_path = _daemon_log(settings)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "corral", "_daemon", "-c", settings.path),
                *("--log-dir", settings.runtime.log_dir, *selection),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # no terminal: closing it, or Ctrl-C in it, reaches us not
            close_fds=True,
            cwd=os.path.dirname(settings.path),
        )
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    while time.monotonic() < deadline:
        try:
            async with Client.connect(settings.path):
                return True
        except NotRunning:
            pass
        if proc.poll() is not None and proc.returncode != 0:
            raise LaunchError(f"the daemon exited with {proc.returncode}:\n{_tail(log_path)}")
        await anyio.sleep(0.01)
    raise LaunchError(f"the daemon did not answer within {LAUNCH_TIMEOUT:g}s; see {log_path}")


def _tail(path: str, lines: int = 10) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# --- up -d -------------------------------------------------------------------------------------


async def up_detached(settings: Settings, selection: Sequence[str]) -> int:
    if not await ensure_daemon(settings, selection):
        async with Client.connect(settings.path) as client:
            doc = await client.status()
        print(f"corral is already running for {_shown(settings.path)} (pid {doc.runtime.pid})")
        return 0
    try:
        return await _report_startup(settings)
    except* ConnectionLost:  # task groups deliver it inside an exception group
        log = _daemon_log(settings)
        raise LaunchError(f"the daemon ended while starting:\n{_tail(log)}") from None


async def _report_startup(settings: Settings) -> int:
    async with Client.connect(settings.path) as client:
        snapshot, events = await client.subscribe(targets=["all"], lines=0)
        if snapshot.runtime.state == "starting":
            async for batch in events:
                if any(isinstance(e, RuntimeChanged) and e.state != "starting" for e in batch):
                    break
        await events.aclose()  # or the events would hold up the replies below
        doc = await client.status()
        failed = [(svc.id, w) for svc in doc.services for w in svc.workers if w.state == "failed"]
        print(f"corral: {doc.runtime.name} is up (daemon pid {doc.runtime.pid})")
        for svc in doc.services:
            text = service_text(svc.state, svc.workers_started, svc.workers_desired)
            print(f"  {svc.id:16} {text}")
        for sid, worker in failed:
            print(f"corral: {sid}:{worker.slot} failed: {worker.reason}", file=sys.stderr)
            for recent in await client.logs([f"{sid}:{worker.slot}"], 5):
                for line in recent.lines:
                    print(f"    {line}", file=sys.stderr)
    config = "" if os.path.dirname(settings.path) == os.getcwd() else f" -c {settings.path}"
    print(
        f"status: corral status{config}   logs: corral logs -f{config}   stop: corral down{config}"
    )
    return 1 if failed else 0


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else "./" + rel


# --- up (foreground) -----------------------------------------------------------------------------


async def up_foreground(settings: Settings, selection: Sequence[str]) -> int:
    """Start (or join) the daemon and stream its logs; Ctrl-C, SIGTERM or a lost terminal stop
    everything and end it. If this process is killed outright, the daemon ends too."""
    await ensure_daemon(settings, selection)
    printer = Printer(use_colour(), worker_names(settings))
    code = 1
    async with Client.connect(settings.path) as client:
        await client.own()
        snapshot, events = await client.subscribe()
        _out(printer.format(list(snapshot.logs)))
        async with anyio.create_task_group() as tg:
            done = anyio.Event()
            result: list[int] = []

            async def stop_on_signal() -> None:
                sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
                with anyio.open_signal_receiver(*sigs) as received:
                    async for _ in received:
                        if not result:
                            tg.start_soon(ask_down)

            async def ask_down() -> None:
                result.append(1)
                with contextlib.suppress(ConnectionLost):
                    result[0] = await client.down()
                done.set()

            tg.start_soon(stop_on_signal)
            async for batch in events:
                _out(printer.format(batch))
            with anyio.move_on_after(5):
                await done.wait()
            code = result[0] if result else 1
            if not result:
                print("corral: the daemon went away", file=sys.stderr)
            tg.cancel_scope.cancel()
    return code


# --- the dashboard -------------------------------------------------------------------------------


async def check_running(config: str) -> int:
    async with Client.connect(config):
        return 0


async def _start_daemon(settings: Settings, selection: Sequence[str]) -> int:
    await ensure_daemon(settings, selection)
    return 0


def dashboard(
    config: str,
    mode: str,
    mouse: bool,
    theme: str | None,
    settings: Settings | None = None,
    selection: Sequence[str] = (),
) -> int:
    """`corral up` and `demo` (foreground: start the daemon first) or `corral attach`."""
    if settings is not None:
        code = run(_start_daemon, settings, selection)
    else:
        code = run(check_running, config)
    if code:
        return code
    from corral.tui.app import CorralApp

    app = CorralApp(
        lambda: Client.connect(config), "foreground" if mode == "foreground" else "attach"
    )
    if theme:
        app.theme = theme
    result = app.run(mouse=mouse)
    return result if isinstance(result, int) else 0


# --- status --------------------------------------------------------------------------------------


async def status(config: str, as_json: bool) -> int:
    async with Client.connect(config) as client:
        doc = await client.status()
    if as_json:
        _out(msgspec.json.encode(doc).decode() + "\n")
    else:
        _out(format_status(doc))
    return 0


def format_status(doc: StatusDoc) -> str:
    rt = doc.runtime
    head = f"{rt.name}  {rt.config}  daemon pid {rt.pid}, up {duration(rt.uptime_s)}\n"
    rows = [
        ("SERVICE", "SLOT", "GEN", "PID", "STATE", "UPTIME", "RESTARTS", "LAST EXIT", "CPU%", "MEM")
    ]
    for svc in doc.services:
        rows.append(
            (
                svc.id,
                "",
                "",
                "",
                service_text(svc.state, svc.workers_started, svc.workers_desired),
                "",
                "",
                "",
                "",
                "",
            )
        )
        for w in svc.workers:
            state = worker_state(w.state, w.attempt, w.max_attempts, w.retry_in_s)
            last = last_exit(w.last_exit.code, w.last_exit.signal) if w.last_exit else "-"
            rows.append(
                (
                    "",
                    str(w.slot),
                    str(w.generation),
                    str(w.pid) if w.pid else "-",
                    state,
                    duration(w.uptime_s),
                    str(w.restarts),
                    last,
                    "-" if w.cpu_percent is None else f"{w.cpu_percent:.1f}",
                    memory(w.memory_bytes),
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    return head + "\n".join(lines) + "\n"


# --- start, stop, restart, scale -----------------------------------------------------------------


def _report(outcomes: list[Outcome]) -> int:
    for o in outcomes:
        line = f"{o.worker} {o.message}"
        print(line if o.ok else f"corral: {line}", file=sys.stdout if o.ok else sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


async def command(config: str, verb: str, targets: list[str]) -> int:
    async with Client.connect(config) as client:
        op = {"start": client.start, "stop": client.stop, "restart": client.restart}[verb]
        return _report(await op(targets))


async def scale(config: str, service: str, count: int) -> int:
    async with Client.connect(config) as client:
        outcomes = await client.scale(service, count)
        doc = await client.status()
    code = _report(outcomes)
    svc = next(s for s in doc.services if s.id == service)
    print(f"{service}: {service_text(svc.state, svc.workers_started, svc.workers_desired)}")
    return code


# --- logs ----------------------------------------------------------------------------------------


async def logs(
    config: str, targets: list[str], lines: int, follow: bool, since: float | None
) -> int:
    printer = Printer(use_colour())
    async with Client.connect(config) as client:
        if not follow:
            _out(printer.format(list(await client.logs(targets, lines, since))))
            return 0
        snapshot, events = await client.subscribe(targets=targets or ["all"], lines=lines)
        _out(printer.format([b for b in snapshot.logs if since is None or b.at >= since]))
        async for batch in events:
            shown: list[Event] = [e for e in batch if isinstance(e, LogLines | LinesDropped)]
            if shown:
                _out(printer.format(shown))
    return 0


# --- down ----------------------------------------------------------------------------------------


async def down(config: str) -> int:
    async with Client.connect(config) as client:
        code = await client.down()
    print("corral: stopped" + (" (some workers had to be killed)" if code else ""))
    return code


def run(coro_fn: object, *args: object) -> int:
    """Run a verb; map the daemon's answers to exit codes and one-line errors."""
    try:
        return anyio.run(coro_fn, *args, backend="asyncio")  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # task groups deliver ours wrapped in exception groups
        known = _known(exc)
        if known is None:
            raise
        print(f"corral: {known}", file=sys.stderr)
        if isinstance(known, NotRunning):
            return NOT_RUNNING
        if isinstance(known, DaemonError) and known.kind in ("target", "usage"):
            return 2
        return 1


def _known(exc: BaseException) -> Exception | None:
    if isinstance(exc, NotRunning | DaemonError | ConnectionLost | LaunchError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _known(inner)) is not None:
                return found
    return None
