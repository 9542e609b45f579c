"""LogView driven through a real (headless) Textual app: what the rows show, not only state."""

from __future__ import annotations

import time

import pytest
from rich.segment import Segment
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.pilot import Pilot
from textual.scrollbar import ScrollTo

from corral.tui.logview import WORKER_COLOURS, LogLine, LogView

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.0
SIZE = (80, 14)


def line(i: int, text: str | None = None, worker: str = "web:1", stream: str = "out") -> LogLine:
    return LogLine(T0 + i, worker, stream, f"line {i}" if text is None else text, 0)


def lines(start: int, stop: int, worker: str = "web:1") -> list[LogLine]:
    return [line(i, worker=worker) for i in range(start, stop)]


def marker(text: str) -> LogLine:
    return LogLine(T0, "", "marker", text, 0)


class LogApp(App[None]):
    def __init__(self, view: LogView | None = None) -> None:
        super().__init__()
        self.view = view or LogView()
        self.follows: list[tuple[bool, int]] = []
        self.searches: list[tuple[int, int]] = []

    def compose(self) -> ComposeResult:
        yield self.view

    def on_log_view_follow_changed(self, event: LogView.FollowChanged) -> None:
        self.follows.append((event.following, event.pending))

    def on_log_view_search_changed(self, event: LogView.SearchChanged) -> None:
        self.searches.append((event.matches, event.current))


def rows(view: LogView) -> list[str]:
    """The text of every visible row, as rendered through the line API."""
    width, height = view.scrollable_content_region.size  # the scrollbars cover the rest
    return [view.render_line(y).crop(0, width).text.rstrip() for y in range(height)]


def last_row(view: LogView) -> str:
    return [r for r in rows(view) if r][-1]


def styled(view: LogView, y: int, text: str) -> list[Segment]:
    """Segments of row `y` whose text is exactly `text`."""
    return [seg for seg in view.render_line(y) if seg.text == text]


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause()


async def test_row_layout_time_worker_stream_and_marker() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(
            [
                line(0, "hello", worker="web:1"),
                line(1, "boom", worker="worker:12", stream="err"),
                marker("── web:1 restarted ──"),
            ]
        )
        await settle(pilot)
        shown = rows(view)
        hhmmss = time.strftime("%H:%M:%S", time.localtime(T0))
        # The worker column is padded to the widest name seen; stderr is marked with "!".
        assert shown[0] == f"{hhmmss} web:1     | hello"
        assert shown[1].endswith("worker:12 ! boom")
        assert shown[2] == "── web:1 restarted ──"  # no time or worker columns
        (worker,) = styled(view, 0, "web:1")
        assert worker.style is not None and worker.style.bold
        assert worker.style.color is not None and worker.style.color.name == WORKER_COLOURS[0]
        (bang,) = styled(view, 1, "!")
        assert bang.style is not None and bang.style.bold
        (mark,) = styled(view, 2, "── web:1 restarted ──")
        assert mark.style is not None and mark.style.italic


async def test_following_keeps_the_newest_line_at_the_bottom() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(lines(0, 100))
        await settle(pilot)
        assert view.follow
        assert last_row(view).endswith("| line 99")
        view.append(lines(100, 105))
        await settle(pilot)
        assert last_row(view).endswith("| line 104")
        assert view.scroll_y == view.max_scroll_y
        # What the terminal would show, not only the widget's strips.
        assert "line&#160;104" in app.export_screenshot()


async def test_scrolling_up_pauses_counts_pending_and_f_resumes() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(lines(0, 100))
        await settle(pilot)
        await pilot.press("up", "up", "up")
        await settle(pilot)
        assert not view.follow
        assert app.follows[-1] == (False, 0)
        before = rows(view)
        assert before[-1].endswith("| line 96")

        view.append(lines(100, 150))
        await settle(pilot)
        assert rows(view) == before  # the view does not move
        assert view.pending == 50
        assert app.follows[-1] == (False, 50)

        await pilot.press("f")
        await settle(pilot)
        assert view.follow and view.pending == 0
        assert app.follows[-1] == (True, 0)
        assert last_row(view).endswith("| line 149")


async def test_end_key_mouse_wheel_and_scrolling_to_the_bottom() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(lines(0, 100))
        await settle(pilot)
        view.post_message(events.MouseScrollUp(view, 5, 5, 0, -1, 0, False, False, False))
        await settle(pilot)
        assert not view.follow

        await pilot.press("end")
        await settle(pilot)
        assert view.follow

        view.post_message(ScrollTo(y=3, animate=False))  # what dragging the scrollbar sends
        await settle(pilot)
        assert not view.follow
        assert rows(view)[0].endswith("| line 3")
        view.resume()
        await settle(pilot)
        assert view.follow

        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert not view.follow
        view.append(lines(100, 110))
        await settle(pilot)
        assert view.pending == 10
        # Paging back down to the very end by hand follows again.
        await pilot.press("pagedown", "pagedown", "pagedown")
        await settle(pilot)
        assert view.follow and view.pending == 0
        view.append(lines(110, 111))
        await settle(pilot)
        assert last_row(view).endswith("| line 110")

        await pilot.press("home")
        await settle(pilot)
        assert not view.follow
        assert rows(view)[0].endswith("| line 0")


async def test_filter_shows_matching_lines_and_markers_only() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        batch = [line(i, f"GET /item/{i}" if i % 3 == 0 else f"POST /x/{i}") for i in range(60)]
        batch.insert(30, marker("── 12 lines dropped here ──"))
        view.append(batch)
        await settle(pilot)
        view.filter = "get"
        await settle(pilot)
        assert view.shown_count == 21  # 20 GETs and the marker
        shown = [r for r in rows(view) if r]
        assert shown and all("GET /item/" in r or "dropped here" in r for r in shown)
        assert shown[-1].endswith("GET /item/57")
        assert any("dropped here" in text for text in (x.text for x in view.shown_lines()))

        view.append([line(60, "POST /no"), line(61, "get /yes")])
        await settle(pilot)
        assert last_row(view).endswith("get /yes")

        view.filter = ""
        await settle(pilot)
        assert view.shown_count == 63
        assert last_row(view).endswith("get /yes")


async def test_search_highlights_and_moves_between_matches() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        needles = {10, 40, 41, 90}
        view.append([line(i, f"x Needle {i}" if i in needles else f"hay {i}") for i in range(100)])
        await settle(pilot)
        view.search = "needle"
        await settle(pilot)
        assert app.searches[-1] == (4, -1)
        # Visible matches are highlighted before any is current.
        (y,) = [y for y, r in enumerate(rows(view)) if r.endswith("Needle 90")]
        (seg,) = styled(view, y, "Needle")
        assert seg.style is not None and seg.style.reverse and not seg.style.underline

        view.scroll_to(y=0, animate=False)  # by hand, to the top
        await settle(pilot)
        view.next_match()
        await settle(pilot)
        assert not view.follow
        assert app.searches[-1] == (4, 0)
        view.next_match()
        await settle(pilot)
        assert app.searches[-1] == (4, 1)
        shown = rows(view)
        (y,) = [y for y, r in enumerate(shown) if r.endswith("Needle 40")]
        assert abs(y - len(shown) // 2) <= 1  # centred
        (current,) = styled(view, y, "Needle")
        assert current.style is not None and current.style.underline and current.style.bold
        # The neighbour is a match but not the current one.
        (other,) = styled(view, y + 1, "Needle")
        assert other.style is not None and other.style.reverse and not other.style.underline

        await pilot.press("n", "n")
        await settle(pilot)
        assert app.searches[-1] == (4, 3)
        await pilot.press("n")  # wraps around to the first
        await settle(pilot)
        assert app.searches[-1] == (4, 0)
        await pilot.press("N")  # and back to the last
        await settle(pilot)
        assert app.searches[-1] == (4, 3)
        assert any(r.endswith("Needle 90") for r in rows(view))

        view.search = ""
        await settle(pilot)
        assert app.searches[-1] == (0, -1)
        assert not any(
            seg.style is not None and seg.style.reverse
            for y in range(len(shown))
            for seg in view.render_line(y)
        )


async def test_wrap_changes_the_visual_rows() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        long_text = "".join(chr(ord("a") + i % 26) for i in range(150))
        view.append([*lines(0, 5), line(5, long_text), line(6, "after")])
        await settle(pilot)
        assert view.row_count == 7
        assert view.virtual_size.width > view.scrollable_content_region.width
        prefix = len("HH:MM:SS web:1 | ")
        width = view.scrollable_content_region.width
        assert rows(view)[5].endswith("| " + long_text[: width - prefix])  # cropped, not wrapped

        await pilot.press("w")
        await settle(pilot)
        assert view.wrap
        avail = width - prefix
        expected_rows = -(-len(long_text) // avail)
        assert view.row_count == 6 + expected_rows
        shown = rows(view)
        first = next(i for i, r in enumerate(shown) if r.endswith(long_text[:avail]))
        # Continuation rows are indented under the text column.
        assert shown[first + 1] == " " * prefix + long_text[avail : 2 * avail]
        assert shown[first + expected_rows - 1].strip() == long_text[(expected_rows - 1) * avail :]
        assert shown[first + expected_rows].endswith("| after")
        assert view.virtual_size.width <= width  # no horizontal scrolling

        # A narrower terminal needs more rows; the layout follows the resize.
        await pilot.resize_terminal(50, 14)
        await settle(pilot)
        narrow = view.scrollable_content_region.width - prefix
        assert view.row_count == 6 + -(-len(long_text) // narrow)
        assert last_row(view).endswith("| after")

        await pilot.press("w")
        await settle(pilot)
        assert view.row_count == 7


async def test_a_paused_view_keeps_its_top_line_through_wrap_and_filter() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(
            [line(i, f"{'even' if i % 2 == 0 else 'odd'} {i} " + "z" * 90) for i in range(200)]
        )
        await settle(pilot)
        view.scroll_to(y=120, animate=False)
        await settle(pilot)
        assert not view.follow
        assert "| even 120 " in rows(view)[0]

        await pilot.press("w")
        await settle(pilot)
        assert view.row_count > 200
        assert "| even 120 " in rows(view)[0]

        view.filter = "even"
        await settle(pilot)
        assert "| even 120 " in rows(view)[0]
        view.filter = "odd"  # the top line is filtered out: the next shown one takes its place
        await settle(pilot)
        assert "| odd 121 " in rows(view)[0]
        assert not view.follow


async def test_max_lines_drops_the_oldest_and_keeps_a_paused_view_still() -> None:
    app = LogApp(LogView(max_lines=100))
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(lines(0, 250))
        await settle(pilot)
        assert view.line_count == 100
        assert view.shown_lines()[0].text == "line 150"
        assert last_row(view).endswith("| line 249")

        view.scroll_to(y=40, animate=False)  # the user reads somewhere in the middle
        await settle(pilot)
        assert not view.follow
        before = rows(view)
        view.append(lines(250, 260))  # drops ten of the lines above the view
        await settle(pilot)
        assert view.line_count == 100
        assert view.shown_lines()[0].text == "line 160"
        assert rows(view) == before
        assert view.pending == 10

        for _ in range(20):  # many more drops than the list holds: compaction kicks in
            view.append(lines(260 + _ * 50, 310 + _ * 50))
        await settle(pilot)
        assert view.line_count == 100
        assert view.shown_lines()[-1].text == "line 1259"
        view.resume()
        await settle(pilot)
        assert last_row(view).endswith("| line 1259")


async def test_set_lines_replaces_and_keeps_the_follow_state() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.append(lines(0, 100))
        await settle(pilot)
        view.set_lines(lines(0, 50, worker="db:1"))
        await settle(pilot)
        assert view.follow
        assert view.line_count == 50
        assert last_row(view).endswith("db:1 | line 49")
        assert all("web:1" not in r for r in rows(view))

        await pilot.press("home")
        await settle(pilot)
        assert not view.follow
        view.set_lines(lines(0, 80, worker="api:2"))
        await settle(pilot)
        assert not view.follow and view.pending == 0
        assert rows(view)[0].endswith("api:2 | line 0")


async def test_flood_of_batches_stays_fast_and_ends_at_the_end() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        view.search = "7"  # highlighting must not slow appending down
        started = time.perf_counter()
        for b in range(200):
            view.append(
                [line(b * 500 + i, f"request {b * 500 + i} GET /api ok") for i in range(500)]
            )
            if b % 10 == 0:
                await pilot.pause()  # let the app render now and then, as it would at 15 Hz
        await settle(pilot)
        elapsed = time.perf_counter() - started
        assert elapsed < 5.0, f"flood took {elapsed:.2f}s"
        assert view.line_count == view.max_lines == 20_000
        assert view.follow
        assert last_row(view).endswith("request 99999 GET /api ok")
        # The app still answers keys.
        await pilot.press("up")
        await settle(pilot)
        assert not view.follow


async def test_append_cost_does_not_grow_with_the_lines_held() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        batch = lines(0, 1000)

        def cost() -> float:
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                view.append(batch)
                best = min(best, time.perf_counter() - started)
            return best

        small = cost()
        view.append(lines(0, 20_000))
        await pilot.pause()
        full = cost()  # now every append also drops 1000 lines
        assert full < small * 5 + 0.005


async def test_bindings_leave_the_apps_keys_alone() -> None:
    keys = {binding.key for binding in Binding.make_bindings(LogView.BINDINGS)}
    assert {"up", "down", "pageup", "pagedown", "home", "end", "f", "w", "n", "N"} <= keys
    app_keys = {"slash", "s", "x", "r", "R", "q", "d", "Q", "l", "plus", "minus"}
    assert not keys & (app_keys | {"question_mark", "enter"})
    footer = {
        b.description for b in Binding.make_bindings(LogView.BINDINGS) if b.show and b.description
    }
    assert {"Follow", "Wrap"} <= footer
