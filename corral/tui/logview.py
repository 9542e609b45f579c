"""A line-API log pane for many workers that stays responsive under a log flood.

Only the rows on screen are ever rendered (`render_line`), rendered rows are cached, and each
appended batch costs time in proportion to its own size, not to the lines already held.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["WORKER_COLOURS", "LogLine", "LogView"]

# Plain ANSI colour names rather than theme colours: the dashboard's themes (ANSI ones included)
# map them to their own palette, and NO_COLOR strips them without losing any text.
WORKER_COLOURS: tuple[str, ...] = (
    "cyan",
    "yellow",
    "green",
    "magenta",
    "blue",
    "red",
    "bright_cyan",
    "bright_yellow",
    "bright_green",
    "bright_magenta",
    "bright_blue",
    "bright_red",
)

TIME_WIDTH = 8  # HH:MM:SS
# Wrapping never leaves the text column narrower than this, even in a very narrow pane: below it,
# a row would hold so few characters that a long line becomes a wall of rows.
MIN_TEXT_WIDTH = 10

_CacheKey = tuple[int, int, bool, str, bool]


def _width(text: str) -> int:
    # Lines arrive without control characters, so ASCII is one cell a character; the fast
    # path matters under a flood.
    return len(text) if text.isascii() else cell_len(text)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One captured line, as the log pane shows it."""

    at: float
    """Capture time, seconds since the epoch."""
    worker: str
    """Worker name such as "web:2"; "" for a marker line."""
    stream: str
    """"out", "err" or "marker"."""
    text: str
    """The line, already free of control characters."""
    colour: int
    """Index into WORKER_COLOURS."""


class LogView(ScrollView, can_focus=True):
    """Log lines of one or more workers, with follow, filter, search and wrap."""

    DEFAULT_CSS = """
    LogView {
        background: $surface;
        color: $text;
        overflow-x: auto;
        /* always there, so that the wrap width never depends on the number of rows */
        overflow-y: scroll;
    }
    LogView:focus {
        background-tint: $foreground 5%;
    }
    LogView > .logview--time {
        color: $text-muted;
    }
    LogView > .logview--separator {
        color: $text-muted;
    }
    LogView > .logview--err {
        color: $error;
        text-style: bold;
    }
    LogView > .logview--marker {
        color: $text-muted;
        text-style: italic;
    }
    LogView > .logview--match {
        color: $warning;
        text-style: reverse;
    }
    LogView > .logview--current {
        color: $success;
        text-style: reverse bold underline;
    }
    LogView > .logview--current-line {
        background: $primary 25%;
    }
    /* ANSI themes have no muted text colour: let the terminal dim instead */
    LogView:ansi > .logview--time, LogView:ansi > .logview--separator {
        text-style: dim;
    }
    LogView:ansi > .logview--marker {
        text-style: dim italic;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "logview--time",
        "logview--separator",
        "logview--err",
        "logview--marker",
        "logview--match",
        "logview--current",
        "logview--current-line",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Oldest line", show=False),
        Binding("end,f", "resume", "Follow", key_display="End/f"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("n", "next_match", "Next match", group=Binding.Group("Match")),
        Binding("N", "prev_match", "Previous match", group=Binding.Group("Match")),
    ]

    class FollowChanged(Message):
        """Following started or stopped, or the count of lines that came in while paused changed."""

        def __init__(self, log_view: LogView, following: bool, pending: int) -> None:
            super().__init__()
            self.log_view = log_view
            self.following = following
            self.pending = pending

        @property
        def control(self) -> LogView:
            return self.log_view

        def can_replace(self, message: Message) -> bool:
            # Under a flood only the latest count matters.
            return isinstance(message, LogView.FollowChanged)

    class SearchChanged(Message):
        """The number of search matches, or the current one, changed."""

        def __init__(self, log_view: LogView, matches: int, current: int) -> None:
            super().__init__()
            self.log_view = log_view
            self.matches = matches
            self.current = current

        @property
        def control(self) -> LogView:
            return self.log_view

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LogView.SearchChanged)

    max_lines: int = 20_000
    """Lines kept in memory; the oldest are dropped beyond this."""

    follow: reactive[bool] = reactive(True, bindings=True)
    """Stay at the newest line as lines arrive."""
    wrap: reactive[bool] = reactive(False)
    """Wrap long lines to the pane's width instead of scrolling horizontally."""
    search: reactive[str] = reactive("", bindings=True)
    """Case-insensitive text to highlight and to move between with n/N."""
    filter: reactive[str] = reactive("")
    """Case-insensitive text a line must contain to be shown (markers are always shown)."""

    def __init__(
        self,
        *,
        max_lines: int | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if max_lines is not None:
            if max_lines < 1:
                raise ValueError("max_lines must be at least 1")
            self.max_lines = max_lines
        # Lines are addressed by an absolute number that never changes, so dropping the oldest
        # lines costs nothing per line and cached strips stay valid. _lines[0] is line _base;
        # lines before _first are dropped but not yet deleted (deleting is batched).
        self._lines: list[LogLine] = []
        self._widths: list[int] = []
        self._base = 0
        self._first = 0
        # The shown (filtered) lines in order, as absolute numbers, and the running total of
        # visual rows through each: one row per line, more when wrapping. Entries before
        # _shown_head are dropped; _row_base is the running total just before _shown_head.
        self._shown: list[int] = []
        self._row_end: list[int] = []
        self._shown_head = 0
        self._row_base = 0
        # Shown lines that contain the search text, as absolute numbers.
        self._matches: list[int] = []
        self._matches_head = 0
        self._current: int | None = None
        self._pending = 0
        self._worker_width = 0
        self._max_text_width = 0
        self._max_marker_width = 0
        # Width the rows were laid out for; 0 means one row per line.
        self._layout_width = 0
        self._filter_re: re.Pattern[str] | None = None
        self._search_re: re.Pattern[str] | None = None
        self._strips: LRUCache[_CacheKey, tuple[tuple[Strip, ...], Style]] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        # Nonzero while this widget moves its own scroll position, so that the move is not
        # mistaken for the user scrolling.
        self._own_scroll = 0

    # --- public API -----------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Lines shown since following stopped."""
        return self._pending

    @property
    def line_count(self) -> int:
        """Lines held (shown or filtered out)."""
        return self._base + len(self._lines) - self._first

    @property
    def shown_count(self) -> int:
        """Lines that pass the filter."""
        return len(self._shown) - self._shown_head

    @property
    def row_count(self) -> int:
        """Visual rows: the shown lines, plus continuation rows when wrapping."""
        return self._total_end() - self._row_base

    @property
    def match_count(self) -> int:
        """Shown lines that contain the search text."""
        return len(self._matches) - self._matches_head

    @property
    def current_match(self) -> int:
        """Index of the current match among the matches, or -1."""
        if self._current is None:
            return -1
        return bisect_left(self._matches, self._current, lo=self._matches_head) - (
            self._matches_head
        )

    def shown_lines(self) -> list[LogLine]:
        """The lines that pass the filter, oldest first (a copy)."""
        return [self._line(a) for a in self._shown[self._shown_head :]]

    def set_lines(self, lines: Iterable[LogLine]) -> None:
        """Replace every line (the selection changed); following stays as it was."""
        self._lines = list(lines)[-self.max_lines :]
        self._widths = [_width(line.text) for line in self._lines]
        self._base = self._first = 0
        self._worker_width = max(
            (cell_len(line.worker) for line in self._lines if line.stream != "marker"),
            default=0,
        )
        self._current = None
        self._strips.clear()
        self._rebuild()
        self._update_virtual_size()
        changed_pending = self._pending != 0
        self._pending = 0
        if self.follow:
            self._scroll_end()
        else:
            self._scroll_quietly(min(self.scroll_y, self._max_scroll_y()))
        self.refresh()
        if changed_pending:
            self._post_follow()
        self._post_search()

    def append(self, lines: Sequence[LogLine]) -> None:
        """Add one batch of lines; call it a few times a second, not once a line."""
        if not lines:
            return
        before = self.match_count
        first_new = self._base + len(self._lines)
        self._lines.extend(lines)
        self._widths.extend([_width(line.text) for line in lines])
        worker_width = max(
            (cell_len(line.worker) for line in lines if line.stream != "marker"), default=0
        )
        anchor = None if self.follow else self._top_anchor()
        dropped = self._drop_oldest()
        relaid = worker_width > self._worker_width
        if relaid:
            # The worker column widens, so every row (and its wrapping) changes: rare.
            self._worker_width = worker_width
            self._strips.clear()
            new_shown = self._rebuild(count_from=first_new)
        else:
            new_shown = self._add_shown(max(first_new, self._first))
            if dropped:
                self._compact()
        self._update_virtual_size()
        if self.follow:
            self._scroll_end()
        else:
            if anchor is not None and (dropped or relaid):
                self._restore_anchor(anchor)
            if new_shown:
                self._pending += new_shown
                self._post_follow()
        self.refresh()
        if self.match_count != before or dropped:
            self._post_search()

    def next_match(self) -> None:
        """Move to the next line containing the search text (wrapping around)."""
        self._move_match(forward=True)

    def prev_match(self) -> None:
        """Move to the previous line containing the search text (wrapping around)."""
        self._move_match(forward=False)

    def resume(self) -> None:
        """Follow again: jump to the newest line and forget the pending count."""
        if self.follow:
            self._scroll_end()
            if self._pending:
                self._pending = 0
                self._post_follow()
        else:
            self.follow = True

    # --- actions --------------------------------------------------------------------------

    # The scroll actions skip the animation: instant moves read better in a moving log and
    # cost nothing over a slow SSH link.

    def action_scroll_up(self) -> None:
        self._user_scroll(self.scroll_y - 1)

    def action_scroll_down(self) -> None:
        self._user_scroll(self.scroll_y + 1)

    def action_page_up(self) -> None:
        self._user_scroll(self.scroll_y - self._page_height())

    def action_page_down(self) -> None:
        self._user_scroll(self.scroll_y + self._page_height())

    def action_scroll_home(self) -> None:
        self._user_scroll(0)

    def action_resume(self) -> None:
        self.resume()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_next_match(self) -> None:
        self.next_match()

    def action_prev_match(self) -> None:
        self.prev_match()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next_match", "prev_match") and not self.search:
            return None  # shown dimmed in the footer: there is nothing to move between
        return True

    # --- reactive watchers ----------------------------------------------------------------

    def watch_follow(self, following: bool) -> None:
        self._pending = 0
        if following:
            self._scroll_end()
        self._post_follow()

    def watch_filter(self, text: str) -> None:
        self._filter_re = re.compile(re.escape(text), re.IGNORECASE) if text else None
        anchor = None if self.follow else self._top_anchor()
        self._rebuild()
        self._update_virtual_size()
        if self.follow:
            self._scroll_end()
        elif anchor is not None:
            self._restore_anchor(anchor)
        self.refresh()
        self._post_search()

    def watch_search(self, text: str) -> None:
        self._search_re = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self._current = None
        self._find_matches()
        self._strips.clear()
        self.refresh()
        self._post_search()

    def watch_wrap(self, wrap: bool) -> None:
        self._relayout()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._own_scroll:
            return
        # Clamping after the content shrinks moves scroll_y down to the end: that is not the
        # user scrolling up, so only a move that leaves the end counts.
        at_end = new_value >= self.max_scroll_y
        if self.follow and new_value < old_value and not at_end:
            self.follow = False
        elif not self.follow and new_value > old_value and at_end:
            self.follow = True

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # The scrollbar appears during layout, after this widget scrolled to the end, and
        # takes a row: scroll again once the layout is done.
        if self.follow and self.is_mounted:
            self.call_after_refresh(self._stick_to_end)

    # --- events ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        # No super() call: Textual itself calls the handlers of the base classes.
        self._relayout()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Theme, focus tint or CSS changed: every cached strip has stale colours.
        self._styles.clear()
        self._strips.clear()

    # --- rendering ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._base_style()
        found = self._locate(scroll_y + y)
        if found is None:
            return Strip.blank(width, base)
        number, sub = found
        strips, pad = self._line_strips(number, base)
        if self._layout_width:
            if sub >= len(strips):
                return Strip.blank(width, pad)
            return strips[sub].crop_extend(0, width, pad)
        return strips[0].crop_extend(scroll_x, scroll_x + width, pad)

    def _line_strips(self, number: int, base: Style) -> tuple[tuple[Strip, ...], Style]:
        current = number == self._current
        key: _CacheKey = (number, self._layout_width, self.wrap, self.search, current)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        index = number - self._base
        line = self._lines[index]
        text_width = self._widths[index]
        console = self.app.console
        row_style = base + self._style("logview--current-line") if current else base

        prefix: Strip | None = None
        if line.stream == "marker":
            body_text = self._text(line.text, row_style + self._style("logview--marker"))
            avail = self._layout_width
        else:
            prefix = Strip(list(self._prefix(line, row_style).render(console)), self._prefix_width)
            body_text = self._text(line.text, row_style)
            avail = max(self._layout_width - self._prefix_width, MIN_TEXT_WIDTH)
        self._highlight(body_text, current)
        body = Strip(list(body_text.render(console)), text_width)

        if not self._layout_width:
            strips: tuple[Strip, ...] = (body if prefix is None else Strip.join([prefix, body]),)
        else:
            rows = max(1, -(-text_width // avail))
            cuts = [avail * k for k in range(1, rows)] + [text_width]
            parts = body.divide(cuts) if text_width else [body]
            indent = Strip.blank(self._prefix_width, row_style)
            out: list[Strip] = []
            for k, part in enumerate(parts):
                if prefix is not None:
                    part = Strip.join([prefix if k == 0 else indent, part])
                out.append(part.extend_cell_length(self._layout_width, row_style))
            strips = tuple(out)
        result = (strips, row_style)
        self._strips.set(key, result)
        return result

    def _prefix(self, line: LogLine, style: Style) -> Text:
        prefix = Text(end="")
        prefix.append(
            time.strftime("%H:%M:%S", time.localtime(line.at)), self._style("logview--time")
        )
        prefix.append(" ")
        colour = WORKER_COLOURS[line.colour % len(WORKER_COLOURS)]
        prefix.append(line.worker, Style(color=colour, bold=True))
        prefix.append(" " * (self._worker_width - cell_len(line.worker) + 1))
        if line.stream == "err":
            prefix.append("!", self._style("logview--err"))
        else:
            prefix.append("|", self._style("logview--separator"))
        prefix.append(" ")
        prefix.stylize_before(style)
        return prefix

    @staticmethod
    def _text(text: str, style: Style) -> Text:
        # Text.render ignores Text.style (only Console rendering applies it), so the row's
        # style goes in as the first span, under every highlight.
        result = Text(text, end="")
        result.stylize_before(style)
        return result

    def _highlight(self, text: Text, current: bool) -> None:
        pattern = self._search_re
        if pattern is None:
            return
        style = self._style("logview--current" if current else "logview--match")
        for match in pattern.finditer(text.plain):
            text.stylize(style, match.start(), match.end())

    def _base_style(self) -> Style:
        # Walking the ancestors for every row shows up under a flood; styles changes clear it.
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _style(self, component: str) -> Style:
        """A component's colours and text style, to lay over a row's own background.

        The full component style is used for its colours because those have transparency
        (e.g. $text-muted) resolved against the background, but its background is kept only
        where the component sets one, so that the current line's tint shows through.
        """
        style = self._styles.get(component)
        if style is None:
            full = self.get_component_rich_style(component)
            has_background = self.get_component_styles(component).has_rule("background")
            style = full.without_color + Style.from_color(
                full.color, full.bgcolor if has_background else None
            )
            self._styles[component] = style
        return style

    # --- line bookkeeping -----------------------------------------------------------------

    @property
    def _prefix_width(self) -> int:
        return TIME_WIDTH + 1 + self._worker_width + 3

    def _line(self, number: int) -> LogLine:
        return self._lines[number - self._base]

    def _rows_for(self, index: int) -> int:
        """Visual rows of the line at list position `index` in the current layout."""
        width = self._layout_width
        if not width:
            return 1
        if self._lines[index].stream == "marker":
            avail = width
        else:
            avail = max(width - self._prefix_width, MIN_TEXT_WIDTH)
        return max(1, -(-self._widths[index] // avail))

    def _shows(self, line: LogLine) -> bool:
        pattern = self._filter_re
        return pattern is None or line.stream == "marker" or pattern.search(line.text) is not None

    def _add_shown(self, start: int) -> int:
        """Extend the shown lines, rows and matches with lines from `start` on; O(new lines)."""
        shown, row_end, matches = self._shown, self._row_end, self._matches
        total = self._total_end()
        search = self._search_re
        added = 0
        for index in range(start - self._base, len(self._lines)):
            line = self._lines[index]
            if not self._shows(line):
                continue
            number = index + self._base
            shown.append(number)
            total += self._rows_for(index)
            row_end.append(total)
            if line.stream == "marker":
                self._max_marker_width = max(self._max_marker_width, self._widths[index])
            else:
                self._max_text_width = max(self._max_text_width, self._widths[index])
            if search is not None and search.search(line.text) is not None:
                matches.append(number)
            added += 1
        return added

    def _rebuild(self, count_from: int | None = None) -> int:
        """Recompute the shown lines, their rows and the matches; O(lines held).

        Returns how many shown lines are numbered `count_from` or later (the new ones).
        """
        self._shown, self._row_end, self._matches = [], [], []
        self._shown_head = self._matches_head = self._row_base = 0
        self._max_text_width = self._max_marker_width = 0
        self._add_shown(self._first)
        if self._current is not None and not self._is_match(self._current):
            self._current = None
        if count_from is None:
            return 0
        return len(self._shown) - bisect_left(self._shown, count_from)

    def _relayout(self) -> None:
        """Recount every shown line's rows for the current width and wrap; O(shown lines)."""
        width = self._wrap_width() if self.wrap else 0
        if width == self._layout_width and self.wrap == bool(self._layout_width):
            if self.follow:
                self._stick_to_end()
            return
        anchor = None if self.follow else self._top_anchor()
        self._layout_width = width
        base = self._base
        total = self._row_base
        row_end = self._row_end
        for i in range(self._shown_head, len(self._shown)):
            total += self._rows_for(self._shown[i] - base)
            row_end[i] = total
        self._strips.clear()
        self._update_virtual_size()
        if self.follow:
            self._scroll_end()
        elif anchor is not None:
            self._restore_anchor(anchor)
        self.refresh()

    def _find_matches(self) -> None:
        self._matches = []
        self._matches_head = 0
        search = self._search_re
        if search is None:
            return
        for number in self._shown[self._shown_head :]:
            if search.search(self._line(number).text) is not None:
                self._matches.append(number)

    def _is_match(self, number: int) -> bool:
        i = bisect_left(self._matches, number, lo=self._matches_head)
        return i < len(self._matches) and self._matches[i] == number

    def _drop_oldest(self) -> int:
        """Forget lines beyond max_lines, oldest first; O(1) per line, amortised."""
        excess = self.line_count - self.max_lines
        if excess <= 0:
            return 0
        self._first += excess
        head = bisect_left(self._shown, self._first, lo=self._shown_head)
        if head > self._shown_head:
            self._row_base = self._row_end[head - 1]
            self._shown_head = head
        self._matches_head = bisect_left(self._matches, self._first, lo=self._matches_head)
        if self._current is not None and self._current < self._first:
            self._current = None
        return excess

    def _compact(self) -> None:
        """Delete dropped entries once they outnumber the live ones, so that it stays cheap."""
        dead = self._first - self._base
        if dead > len(self._lines) - dead:
            del self._lines[:dead]
            del self._widths[:dead]
            self._base = self._first
            # The widest lines may have gone; this is the cheap moment to find out.
            self._max_text_width = self._max_marker_width = 0
            for number in self._shown[self._shown_head :]:
                index = number - self._base
                if self._lines[index].stream == "marker":
                    self._max_marker_width = max(self._max_marker_width, self._widths[index])
                else:
                    self._max_text_width = max(self._max_text_width, self._widths[index])
        if self._shown_head > len(self._shown) - self._shown_head:
            del self._shown[: self._shown_head]
            del self._row_end[: self._shown_head]
            self._shown_head = 0
        if self._matches_head > len(self._matches) - self._matches_head:
            del self._matches[: self._matches_head]
            self._matches_head = 0

    def _total_end(self) -> int:
        return self._row_end[-1] if len(self._row_end) > self._shown_head else self._row_base

    def _row_of(self, i: int) -> int:
        """First visual row of the shown entry at list position `i`."""
        start = self._row_end[i - 1] if i > self._shown_head else self._row_base
        return start - self._row_base

    def _locate(self, row: int) -> tuple[int, int] | None:
        """The line number shown at visual `row`, and which of its rows it is."""
        if row < 0:
            return None
        i = bisect_right(self._row_end, row + self._row_base, lo=self._shown_head)
        if i >= len(self._shown):
            return None
        return self._shown[i], row - self._row_of(i)

    def _top_anchor(self) -> tuple[int, int] | None:
        return self._locate(round(self.scroll_y))

    def _restore_anchor(self, anchor: tuple[int, int]) -> None:
        """Scroll so that the line at the top before a change is at the top again."""
        number, sub = anchor
        i = bisect_left(self._shown, number, lo=self._shown_head)
        if i >= len(self._shown):
            self._scroll_quietly(self._max_scroll_y())
            return
        row = self._row_of(i)
        if self._shown[i] == number:
            rows = (self._row_end[i] - self._row_base) - row
            row += min(sub, rows - 1)
        self._scroll_quietly(row)

    def _update_virtual_size(self) -> None:
        if self._layout_width:
            width = self._layout_width
        elif self.shown_count:
            width = max(self._prefix_width + self._max_text_width, self._max_marker_width)
        else:
            width = 0
        self.virtual_size = Size(width, self.row_count)

    # --- scrolling ------------------------------------------------------------------------

    def _wrap_width(self) -> int:
        if not self.is_mounted:
            return 0
        return max(0, self.scrollable_content_region.width)

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _max_scroll_y(self) -> int:
        return self.max_scroll_y if self.is_mounted else 0

    def _user_scroll(self, y: float) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()  # let an enclosing container have the key
        self.scroll_to(y=y, animate=False)

    def _scroll_quietly(self, y: float, x: float | None = None) -> None:
        if not self.is_mounted:
            return
        self._own_scroll += 1
        try:
            self.scroll_to(x=x, y=y, animate=False, immediate=True)
        finally:
            self._own_scroll -= 1

    def _scroll_end(self) -> None:
        self._scroll_quietly(self._max_scroll_y())

    def _stick_to_end(self) -> None:
        if self.follow and self.is_mounted and self.scroll_y != self.max_scroll_y:
            self._scroll_end()

    def _move_match(self, *, forward: bool) -> None:
        head, matches = self._matches_head, self._matches
        if len(matches) <= head:
            return
        if self._current is not None:
            if forward:
                i = bisect_right(matches, self._current, lo=head)
            else:
                i = bisect_left(matches, self._current, lo=head) - 1
        else:
            # No current match yet: start from what is on screen.
            top = self._locate(round(self.scroll_y))
            if forward:
                i = bisect_left(matches, top[0], lo=head) if top else len(matches)
            else:
                bottom = self._locate(round(self.scroll_y) + self._page_height() - 1)
                if bottom is None:
                    i = len(matches) - 1
                else:
                    i = bisect_right(matches, bottom[0], lo=head) - 1
        if i >= len(matches):
            i = head
        elif i < head:
            i = len(matches) - 1
        self._current = matches[i]
        self.follow = False
        self._centre(self._current)
        self.refresh()
        self._post_search()

    def _centre(self, number: int) -> None:
        i = bisect_left(self._shown, number, lo=self._shown_head)
        if i >= len(self._shown) or self._shown[i] != number:
            return
        row = self._row_of(i)
        rows = (self._row_end[i] - self._row_base) - row
        y = row - max(0, (self._page_height() - rows) // 2)
        self._scroll_quietly(max(0, y), self._match_x(number))

    def _match_x(self, number: int) -> int | None:
        """Without wrap, a horizontal scroll that brings the line's first match into view."""
        pattern = self._search_re
        if self._layout_width or pattern is None:
            return None
        line = self._line(number)
        found = pattern.search(line.text)
        if found is None:
            return None
        offset = 0 if line.stream == "marker" else self._prefix_width
        start = offset + cell_len(line.text[: found.start()])
        end = offset + cell_len(line.text[: found.end()])
        width = self.scrollable_content_region.width
        if self.scroll_x <= start and end <= self.scroll_x + width:
            return None
        return 0 if end <= width else max(0, start - width // 3)

    # --- messages -------------------------------------------------------------------------

    def _post_follow(self) -> None:
        self.post_message(self.FollowChanged(self, self.follow, self._pending))

    def _post_search(self) -> None:
        self.post_message(self.SearchChanged(self, self.match_count, self.current_match))
