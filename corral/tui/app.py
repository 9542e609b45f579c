"""The dashboard (design §9): a client of the daemon, never part of it.

Events from the daemon are applied to a plain model as they come; the UI reads the model on
timers (logs about 15 times a second, the table twice a second), never once per event.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import ClassVar, Literal, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from corral.core.events import Event, Outcome, Snapshot
from corral.core.protocol import StatusDoc
from corral.formatting import duration
from corral.tui.logview import LogView
from corral.tui.model import ALL, DashboardModel
from corral.tui.screens import ConfirmStop, HelpScreen
from corral.tui.table import NARROW, WorkerTable

Mode = Literal["foreground", "attach"]
LOG_LIMIT = 5000  # lines shown when the selection changes
METRICS_EVERY = 2.0


class DashboardClient(Protocol):
    """What the dashboard needs of a daemon: the methods of corral.core.client.Client."""

    async def subscribe(
        self, targets: list[str] | None = None, lines: int | None = None
    ) -> tuple[Snapshot, MemoryObjectReceiveStream[list[Event]]]: ...
    async def status(self) -> StatusDoc: ...
    async def start(self, targets: list[str]) -> list[Outcome]: ...
    async def stop(self, targets: list[str]) -> list[Outcome]: ...
    async def restart(self, targets: list[str]) -> list[Outcome]: ...
    async def scale(self, service: str, count: int) -> list[Outcome]: ...
    async def own(self) -> None: ...
    async def detach(self) -> None: ...
    async def down(self) -> int: ...


Connect = Callable[[], AbstractAsyncContextManager[DashboardClient]]


class CorralApp(App[int]):
    TITLE = "corral"
    CSS = """
    #header { height: 1; background: $panel; color: $text; padding: 0 1; }
    #banner { height: 1; background: $error; color: $text; padding: 0 1; display: none; }
    #banner.shown { display: block; }
    #logstatus { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    #search { dock: bottom; display: none; }
    #search.shown { display: block; }
    WorkerTable { height: auto; max-height: 45%; }
    LogView { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        Binding("x", "stop", "Stop"),
        Binding("r", "restart", "Restart"),
        Binding("R", "restart_all", "Restart all", show=False),
        Binding("plus,equals_sign", "scale(1)", "+Worker", key_display="+"),
        Binding("minus", "scale(-1)", "-Worker", key_display="-"),
        Binding("l", "focus_logs", "Logs", show=False),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("ampersand", "filter", "Filter", key_display="&", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("d", "detach", "Detach"),
        Binding("Q", "stop_all", "Stop all & quit"),
        Binding("q", "quit_dashboard", "Quit"),
        Binding("ctrl+c", "quit_dashboard", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        connect: Connect,
        mode: Mode,
        clock: Callable[[], float] = time.time,
        live: bool = True,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.mode: Mode = mode
        self.model = DashboardModel(clock)
        self.client: DashboardClient | None = None
        self.connected = False
        self.selection = ALL
        self._live = live  # timers and metrics polls; snapshot tests turn them off
        self._search_kind: Literal["search", "filter"] = "search"
        self._quitting = False
        self._matches = 0
        self._draw_pending = False
        self._header = ""

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Static("", id="banner")
        yield WorkerTable(id="table")
        yield Static("", id="logstatus")
        yield LogView(id="logs")
        yield Input(id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(WorkerTable).focus()
        self._on_size()
        if self._live:
            # Countdowns and uptimes move once a second; everything else is drawn on demand.
            self.set_interval(1.0, self._tick)
            self._link()
            self._metrics()

    def on_resize(self) -> None:
        self._on_size()

    def _on_size(self) -> None:
        self.query_one(WorkerTable).set_narrow(self.size.width < NARROW, self.model)

    # --- the link to the daemon ------------------------------------------------------------

    @work(exclusive=True, group="link")
    async def _link(self) -> None:
        """Connect, follow, and reconnect whenever the daemon goes away and comes back."""
        while not self._quitting:
            with contextlib.suppress(Exception):
                async with self._connect() as client:
                    if self.mode == "foreground":
                        await client.own()
                    snapshot, events = await client.subscribe()
                    self.show_snapshot(snapshot)
                    self.client = client
                    self._set_connected(True)
                    with contextlib.suppress(Exception):
                        self.model.apply_status(await client.status())
                    async for batch in events:
                        self.model.apply(batch)
                        self._schedule_draw()
            self.client = None
            if self._quitting:
                return
            self._set_connected(False)
            await anyio.sleep(1.0)

    @work(exclusive=True, group="metrics")
    async def _metrics(self) -> None:
        """CPU and memory: one request at a time, so polls never overlap."""
        while True:
            await anyio.sleep(METRICS_EVERY)
            client = self.client
            if client is not None:
                with contextlib.suppress(Exception):
                    self.model.apply_status(await client.status())
                    self._schedule_draw()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Load a snapshot into the model and show it all."""
        self.model.load(snapshot)
        self.refresh_table()
        self._show_selection()

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        banner = self.query_one("#banner", Static)
        banner.update("connection to the daemon lost: reconnecting every second…")
        banner.set_class(not connected, "shown")
        self.refresh_bindings()
        self._update_header()

    # --- refreshing ------------------------------------------------------------------------

    def flush_logs(self) -> None:
        lines = self.model.take_pending(self.selection)
        if lines:
            self.query_one(LogView).append(lines)

    def _schedule_draw(self) -> None:
        """Draw what the daemon sent: at most 15 times a second, and not at all when idle."""
        if not self._draw_pending:
            self._draw_pending = True
            self.set_timer(1 / 15, self._draw)

    def _draw(self) -> None:
        self._draw_pending = False
        with contextlib.suppress(NoMatches):  # a timer that fires while the app shuts down
            self.flush_logs()
            if self.model.dirty or self.model.metrics_changed:
                self.refresh_table()

    def _tick(self) -> None:
        with contextlib.suppress(NoMatches):
            self.refresh_table()

    def refresh_table(self) -> None:
        self.model.metrics_changed = False
        with self.batch_update():
            self.query_one(WorkerTable).refresh_from(self.model)
            self._update_header()
        if self.model.dirty:
            self.model.dirty = False
            self.refresh_bindings()

    def _update_header(self) -> None:
        m = self.model
        parts = [f"[b]corral[/b] · {m.name or '…'}", m.config]
        if m.daemon_pid:
            up = duration(m.clock() - m.daemon_started, fine=False) if m.daemon_started else "-"
            parts.append(f"daemon {m.daemon_pid} up {up}")
        if m.runtime_state != "running":  # starting, or stopping: say so
            parts.append(f"[b]{m.runtime_state}[/b] {m.runtime_reason}".rstrip())
        counts = m.counts()
        order = (
            "started",
            "starting",
            "waiting",
            "backoff",
            "stopping",
            "failed",
            "stopped",
            "exited",
        )
        parts.append("  ".join(f"{counts[s]} {s}" for s in order if counts.get(s)))
        header = "   ".join(p for p in parts if p)
        if header != self._header:  # an update re-lays the widget out: only when it changed
            self._header = header
            self.query_one("#header", Static).update(header)

    # --- selection and logs ----------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key != self.selection:
            self.selection = str(key)
            self._show_selection()
            self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_focus_logs()

    def _show_selection(self) -> None:
        self.model.take_pending(self.selection)  # already in the history loaded below
        self.query_one(LogView).set_lines(self.model.history_for(self.selection, LOG_LIMIT))
        self._update_log_status()

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        self._update_log_status()

    @on(LogView.SearchChanged)
    def _matches_changed(self, event: LogView.SearchChanged) -> None:
        self._matches = event.matches
        self._update_log_status()

    def _update_log_status(self) -> None:
        with contextlib.suppress(NoMatches):  # a late message while the app shuts down
            self._show_log_status(self.query_one(LogView))

    def _show_log_status(self, view: LogView) -> None:
        what = "all services" if self.selection == ALL else self._target() or ""
        parts = [f"logs · {what}"]
        if view.follow:
            parts.append("following")
        else:
            parts.append(f"paused · {view.pending} new lines (End/f follows)")
        if view.filter:
            parts.append(f"filter “{view.filter}”")
        if view.search:
            parts.append(f"search “{view.search}”: {self._matches} matches")
        if view.wrap:
            parts.append("wrap")
        self.query_one("#logstatus", Static).update(" · ".join(parts))

    def _target(self) -> str | None:
        if self.selection == ALL:
            return "all"
        if self.selection.startswith("@"):
            return self.selection[1:]
        return self.selection

    def _selected_service(self) -> str | None:
        target = self._target()
        if target is None or target == "all":
            return None
        return target.split(":")[0]

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "detach":
            return self.mode == "foreground"
        if action == "stop_all":
            return self.mode == "attach"
        if action not in ("start", "stop", "restart", "restart_all", "scale"):
            return True
        if not self.connected:
            return None  # shown greyed out
        worker = self.model.worker(self.selection)
        if action == "start" and worker is not None:
            return None if worker.state.value in ("started", "starting", "stopping") else True
        if action == "stop" and worker is not None:
            return None if worker.state.value in ("stopped", "exited", "failed") else True
        if action == "scale":
            service = self.model.services.get(self._selected_service() or "")
            if service is None:
                return None
            step = parameters[0] if parameters else 1
            return None if step == -1 and service.desired <= 0 else True
        return True

    def _run_command(self, verb: str, targets: list[str]) -> None:
        client = self.client
        if client is None:
            self.notify("not connected to the daemon", severity="error")
            return
        self.notify(f"{verb} {' '.join(targets)}…", timeout=2)
        self._command(client, verb, targets)

    @work(group="commands")
    async def _command(self, client: DashboardClient, verb: str, targets: list[str]) -> None:
        op = {"start": client.start, "stop": client.stop, "restart": client.restart}[verb]
        await self._report(op(targets))

    async def _report(self, pending: object) -> None:
        try:
            outcomes: list[Outcome] = await pending  # type: ignore[misc]
        except Exception as exc:
            self.notify(str(exc), title="corral", severity="error")
            return
        for o in outcomes:
            self.notify(
                f"{o.worker} {o.message}",
                severity="information" if o.ok else "error",
                timeout=4 if o.ok else 8,
            )

    def action_start(self) -> None:
        target = self._target()
        if target:
            self._run_command("start", [target])

    def action_stop(self) -> None:
        target = self._target()
        if target:
            self._run_command("stop", [target])

    def action_restart(self) -> None:
        target = self._target()
        if target:
            self._run_command("restart", [target])

    def action_restart_all(self) -> None:
        self._run_command("restart", ["all"])

    def action_scale(self, step: int) -> None:
        service = self.model.services.get(self._selected_service() or "")
        if service is None or self.client is None:
            self.notify("select a service or one of its workers to scale it", severity="warning")
            return
        count = max(0, service.desired + step)
        self.notify(f"scale {service.id} to {count}…", timeout=2)
        self._scale(self.client, service.id, count)

    @work(group="commands")
    async def _scale(self, client: DashboardClient, service: str, count: int) -> None:
        await self._report(client.scale(service, count))

    def action_focus_logs(self) -> None:
        self.query_one(LogView).focus()

    def action_search(self) -> None:
        self._open_input("search")

    def action_filter(self) -> None:
        self._open_input("filter")

    def _open_input(self, kind: Literal["search", "filter"]) -> None:
        self._search_kind = kind
        box = self.query_one("#search", Input)
        view = self.query_one(LogView)
        box.placeholder = (
            "search the logs (Enter keeps it, Esc clears)"
            if kind == "search"
            else ("keep only lines containing… (Enter keeps it, Esc clears)")
        )
        box.value = view.search if kind == "search" else view.filter
        box.add_class("shown")
        box.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        view = self.query_one(LogView)
        if self._search_kind == "search":
            view.search = event.value
            if event.value:
                view.next_match()
        else:
            view.filter = event.value
        self._update_log_status()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self._close_input()

    def key_escape(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_class("shown"):
            box.value = ""
            self._close_input()
        elif self.focused is self.query_one(LogView):
            self.query_one(WorkerTable).focus()

    def _close_input(self) -> None:
        self.query_one("#search", Input).remove_class("shown")
        self.query_one(LogView).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_detach(self) -> None:
        self._detach_and_exit()

    @work(exclusive=True, group="quit")
    async def _detach_and_exit(self) -> None:
        self._quitting = True
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.detach()
        self.exit(0)

    def action_quit_dashboard(self) -> None:
        if self.mode == "attach":
            self._quitting = True
            self.exit(0)
            return
        self._confirm_stop()

    def action_stop_all(self) -> None:
        self._confirm_stop()

    def _confirm_stop(self) -> None:
        what = [
            f"{svc.id} ({len(svc.workers)} worker{'s' if len(svc.workers) != 1 else ''})"
            for svc in self.model.services.values()
        ]

        def answered(answer: str | None) -> None:
            if answer == "stop":
                self._stop_everything()
            elif answer == "detach":
                self._detach_and_exit()

        self.push_screen(ConfirmStop(what, self.mode == "foreground"), answered)

    @work(exclusive=True, group="quit")
    async def _stop_everything(self) -> None:
        self._quitting = True
        client = self.client
        code = 1
        if client is not None:
            self.notify("stopping everything…", timeout=30)
            with contextlib.suppress(Exception):
                code = await client.down()
        self.exit(code)

    # --- command palette -------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: keys", "Every key of the dashboard", self.action_help)
        yield SystemCommand("Restart all", "Restart every worker", self.action_restart_all)
        yield SystemCommand("Search logs", "Search the log pane", self.action_search)
        yield SystemCommand("Filter logs", "Keep only matching lines", self.action_filter)
        yield SystemCommand("Follow logs", "Jump to the newest lines", self._resume_logs)
        yield SystemCommand("Toggle wrap", "Wrap long log lines", self._toggle_wrap)
        if self.mode == "foreground":
            yield SystemCommand("Detach", "Quit, leaving everything running", self.action_detach)
            yield SystemCommand("Quit", "Stop everything and quit", self._confirm_stop)
        else:
            yield SystemCommand("Quit", "Detach, leaving everything running", self.exit)
            yield SystemCommand("Stop everything and quit", "corral down", self._confirm_stop)
        for svc in self.model.services.values():
            names = [svc.id, *(w.name for w in svc.workers.values())]
            for name in names:
                for verb in ("start", "stop", "restart"):
                    yield SystemCommand(
                        f"{verb} {name}",
                        f"{verb.capitalize()} {'worker' if ':' in name else 'the service'} {name}",
                        lambda verb=verb, name=name: self._run_command(verb, [name]),
                    )
            for step in (1, -1):
                count = max(0, svc.desired + step)
                yield SystemCommand(
                    f"scale {svc.id} to {count}",
                    f"{'Add' if step > 0 else 'Remove'} a worker of {svc.id}",
                    lambda s=svc.id, c=count: self._scale_to(s, c),
                )

    def _scale_to(self, service: str, count: int) -> None:
        if self.client is not None:
            self._scale(self.client, service, count)

    def _resume_logs(self) -> None:
        self.query_one(LogView).resume()

    def _toggle_wrap(self) -> None:
        view = self.query_one(LogView)
        view.wrap = not view.wrap
        self._update_log_status()
