"""The worker table: a row per service, its workers under it, updated by a keyed diff.

Only cells whose text changed are updated, with fixed column widths; rows are rebuilt only
when the set of rows changes (a service scaled), never on a refresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from corral.formatting import duration, last_exit, memory, service_text, worker_state
from corral.tui.model import ALL, DashboardModel, WorkerView, service_key

# Semantic colours: plain ANSI names, so the ANSI themes and NO_COLOR (monochrome) both work.
STATE_STYLES = {
    "started": "green",
    "running": "green",
    "starting": "cyan",
    "waiting": "dim",
    "stopping": "yellow",
    "stopped": "dim",
    "exited": "dim",
    "backoff": "yellow",
    "degraded": "yellow",
    "failed": "bold red",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    wide_only: bool = False  # hidden on narrow terminals


COLUMNS = (
    Column("service", "SERVICE", 14),
    Column("slot", "SLOT", 4),
    Column("pid", "PID", 7),
    Column("state", "STATE", 16),
    Column("uptime", "UPTIME", 7),
    Column("restarts", "RESTARTS", 8, wide_only=True),
    Column("exit", "LAST EXIT", 9),
    Column("cpu", "CPU%", 6, wide_only=True),
    Column("mem", "MEM", 7, wide_only=True),
)
NARROW = 100  # below this many columns, the lower-priority columns are hidden

Row = tuple[str, ...]


def _styled(text: str, state: str) -> Text:
    return Text(text, style=STATE_STYLES.get(state, ""))


class WorkerTable(DataTable[Text | str]):
    DEFAULT_CSS = """
    WorkerTable { height: auto; max-height: 45%; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.narrow = False
        self._rows: dict[str, Row] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        self._add_columns()

    def _columns(self) -> list[Column]:
        return [c for c in COLUMNS if not (self.narrow and c.wide_only)]

    def _add_columns(self) -> None:
        for col in self._columns():
            self.add_column(col.label, width=col.width, key=col.key)

    def set_narrow(self, narrow: bool, model: DashboardModel) -> None:
        if narrow == self.narrow:
            return
        self.narrow = narrow
        selected = self.selected_key()
        self.clear(columns=True)
        self._rows.clear()
        self._order = []
        self._add_columns()
        self.refresh_from(model, selected)

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def refresh_from(self, model: DashboardModel, keep: str | None = None) -> None:
        """Bring the table in line with the model: changed cells only."""
        wanted = self._wanted(model)
        order = [key for key, _ in wanted]
        keys = [c.key for c in self._columns()]
        if order != self._order:
            keep = keep or self.selected_key()
            self.clear()
            self._rows.clear()
            for key, cells in wanted:
                self.add_row(*self._styled_cells(key, cells, model), key=key)
                self._rows[key] = cells
            self._order = order
            if keep in self._rows:
                self.move_cursor(row=self.get_row_index(keep), animate=False)
            return
        for key, cells in wanted:
            old = self._rows[key]
            if old == cells:
                continue
            rendered = self._styled_cells(key, cells, model)
            for i, (before, after) in enumerate(zip(old, cells, strict=True)):
                if before != after:
                    self.update_cell(key, keys[i], rendered[i], update_width=False)
            self._rows[key] = cells

    def _styled_cells(self, key: str, cells: Row, model: DashboardModel) -> list[Text | str]:
        """Cells as shown: the state coloured, service names bold."""
        out: list[Text | str] = [Text(cell) for cell in cells]
        names = [c.key for c in self._columns()]
        state_at = names.index("state")
        state = cells[state_at].split(" ")[0]
        out[state_at] = _styled(cells[state_at], state)
        if key == ALL or key.startswith("@"):
            out[0] = Text(cells[0], style="bold")
        return out

    def _wanted(self, model: DashboardModel) -> list[tuple[str, Row]]:
        now = model.clock()
        counts = model.counts()
        total = sum(counts.values())
        started = counts.get("started", 0)
        rows: list[tuple[str, Row]] = [
            (ALL, self._cells("all", "", "", f"{started}/{total} started", "", "", "", "", ""))
        ]
        for svc in model.services.values():
            state = service_text(svc.status, svc.started, svc.desired)
            rows.append(
                (service_key(svc.id), self._cells(svc.id, "", "", state, "", "", "", "", ""))
            )
            for w in svc.workers.values():
                rows.append((w.name, self._worker_cells(w, now)))
        return rows

    def _worker_cells(self, w: WorkerView, now: float) -> Row:
        retry_in = w.retry_at - now if w.retry_at is not None else None
        state = worker_state(w.state.value, w.attempt, w.max_attempts, retry_in)
        if w.reason == "unresponsive":
            state = "stopping (unresponsive)"
        return self._cells(
            "",
            str(w.slot),
            str(w.pid)
            if w.pid
            else ("thread" if w.state.value in ("started", "starting") else "-"),
            state,
            duration(now - w.started_at, fine=False) if w.started_at is not None else "-",
            str(w.restarts),
            last_exit(w.exit_code, w.signal),
            "-" if w.cpu_percent is None else f"{w.cpu_percent:.1f}",
            memory(w.memory_bytes),
        )

    def _cells(self, *values: str) -> Row:
        """Values for every column, then only those shown at this width."""
        return tuple(
            v for v, c in zip(values, COLUMNS, strict=True) if not (self.narrow and c.wide_only)
        )
