"""Modal screens: the key help, and the confirmation before stopping everything."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Workers (table)", ""),
    ("↑ ↓", "select a worker, a service or all; the logs follow the selection"),
    ("s", "start the selected worker or service"),
    ("x", "stop it (stop signal, then SIGKILL after stop_timeout)"),
    ("r", "restart it (a service: one worker at a time)"),
    ("R", "restart everything"),
    ("+ / -", "add or remove a worker of the selected service"),
    ("l / Enter", "focus the logs"),
    ("Logs", ""),
    ("/", "search (Enter keeps it, Esc clears it); n / N next and previous match"),
    ("&", "filter: keep only the lines that match"),
    ("End / f", "follow the newest lines again (any scroll up pauses)"),
    ("w", "wrap long lines"),
    ("Tab, Esc", "switch between the table and the logs; Esc goes back to the table"),
    ("corral", ""),
    ("Ctrl+P", 'command palette: every action, e.g. "restart web:2"'),
    ("?", "this help"),
    ("q", "quit: `corral up` stops everything (asks first); `attach` detaches"),
    ("d", "detach: leave everything running (`corral up`)"),
    ("Q", "stop everything and quit (`attach`)"),
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 84; max-width: 95%; height: auto; max-height: 95%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen Static { width: 100%; }
    HelpScreen .title { text-style: bold; color: $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        lines = []
        for key, text in KEYS:
            if not text:
                lines.append(f"\n[b]{key}[/b]")
            else:
                lines.append(f"  [b $accent]{key:<10}[/] {text}")
        with Vertical():
            yield Static("corral keys", classes="title")
            yield Static("\n".join(lines).lstrip("\n"))
            yield Static("\n[dim]Esc closes this help[/dim]")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


class ConfirmStop(ModalScreen[str]):
    """Stop everything? Answers "stop", "detach" or "cancel"."""

    DEFAULT_CSS = """
    ConfirmStop { align: center middle; }
    ConfirmStop > Vertical {
        width: 64; max-width: 95%; height: auto;
        border: round $error; background: $surface; padding: 0 1;
    }
    ConfirmStop Static { width: 100%; }
    ConfirmStop .title { text-style: bold; color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer('stop')", "Stop everything"),
        Binding("d", "answer('detach')", "Detach instead", show=False),
        Binding("n,escape", "answer('cancel')", "Cancel"),
    ]

    def __init__(self, what: list[str], can_detach: bool) -> None:
        super().__init__()
        self._what = what
        self._can_detach = can_detach

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Stop everything and quit?", classes="title")
            yield Static("This stops:\n" + "\n".join(f"  {line}" for line in self._what))
            keys = "[b]y[/b]/Enter stop all   [b]n[/b]/Esc cancel"
            if self._can_detach:
                keys += "   [b]d[/b] detach, leave it running"
            yield Static("\n" + keys)

    def action_answer(self, answer: str) -> None:
        if answer == "detach" and not self._can_detach:
            return
        self.dismiss(answer)
