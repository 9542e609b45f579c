from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from corral.core.logfile import RotatingLogFile, format_timestamp

TS = datetime(2026, 12, 4, 15, 21, 28, 123000, tzinfo=UTC).timestamp()


def test_format_timestamp() -> None:
    assert format_timestamp(TS) == "2026-12-04T15:21:28.123Z"
    assert format_timestamp(0.0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(TS + 0.0009) == "2026-12-04T15:21:28.123Z"  # truncated, not rounded
    assert format_timestamp(59.9999996) == "1970-01-01T00:01:00.000Z"  # rounded to the µs first


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_format_timestamp_agrees_with_datetime(ts: float) -> None:
    expected = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    assert format_timestamp(ts) == expected.replace("+00:00", "Z")


def test_line_format(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = RotatingLogFile(str(path), 1 << 20, 3)
    log.write_lines(TS, "web:2", "err", ["first", "zażółć ↩", ""])
    log.write_lines(TS + 1.5, "web:0", "out", ["next"])
    # No Python buffering: the lines are there before close.
    assert path.read_text() == (
        "2026-12-04T15:21:28.123Z web:2 err | first\n"
        "2026-12-04T15:21:28.123Z web:2 err | zażółć ↩\n"
        "2026-12-04T15:21:28.123Z web:2 err | \n"
        "2026-12-04T15:21:29.623Z web:0 out | next\n"
    )
    log.close()


def test_nothing_written_for_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    with RotatingLogFile(str(path), 1 << 20, 3) as log:
        log.write_lines(TS, "web:0", "out", [])
    assert path.read_bytes() == b""


def test_creates_directories_and_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "deep" / "web.log"
    with RotatingLogFile(str(path), 1 << 20, 3) as log:
        assert path.exists()  # created up front, even before the first line
        log.write_lines(TS, "web:0", "out", ["one"])
    with RotatingLogFile(str(path), 1 << 20, 3) as log:
        log.write_lines(TS, "web:0", "out", ["two"])
    assert [line.rsplit(" ", 1)[1] for line in path.read_text().splitlines()] == ["one", "two"]
    assert os.stat(path).st_mode & 0o777 == 0o644 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def written(tmp_path: Path, name: str) -> list[Path]:
    return sorted(tmp_path.glob(name + "*"), key=lambda p: (len(p.name), p.name))


def test_rotation_keeps_exactly_n_backups_and_loses_no_recent_line(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = RotatingLogFile(str(path), 1000, 3)
    total = 0
    for block in range(200):
        lines = [f"line {total + i:05d}" for i in range(block % 5 + 1)]
        total += len(lines)
        log.write_lines(TS, "web:1", "out", lines)
    log.close()

    files = written(tmp_path, "web.log")
    assert [p.name for p in files] == ["web.log", "web.log.1", "web.log.2", "web.log.3"]
    kept: list[int] = []
    for p in reversed(files):  # oldest first
        text = p.read_text()
        assert text.endswith("\n")
        kept += [int(line.rsplit(" ", 1)[1]) for line in text.splitlines()]
        if p.name != "web.log":
            assert p.stat().st_size >= 1000  # rotated only once full
    # The oldest lines went with the dropped files; every later one is there, in order.
    assert kept == list(range(kept[0], total))
    assert kept[0] > 0


def test_a_block_larger_than_the_limit_stays_whole(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    with RotatingLogFile(str(path), 100, 2) as log:
        log.write_lines(TS, "web:0", "out", [f"x{i}" for i in range(20)])
    assert path.read_bytes() == b""
    assert len((tmp_path / "web.log.1").read_text().splitlines()) == 20


def test_no_backups_means_truncate(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    with RotatingLogFile(str(path), 500, 0) as log:
        for i in range(100):
            log.write_lines(TS, "web:0", "out", [f"line {i:03d}"])
    assert [p.name for p in written(tmp_path, "web.log")] == ["web.log"]
    lines = path.read_text().splitlines()
    assert 0 < len(lines) < 100
    assert lines[-1].endswith("line 099")
    assert path.stat().st_size < 500


def test_file_removed_or_moved_from_outside(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "web.log"
    log = RotatingLogFile(str(path), 1 << 20, 3)
    log.write_lines(TS, "web:0", "out", ["before"])
    path.unlink()
    path.parent.rmdir()
    log.write_lines(TS + 5, "web:0", "out", ["after removal"])
    assert path.read_text().endswith("| after removal\n")

    path.rename(tmp_path / "moved.log")
    log.write_lines(TS + 10, "web:0", "out", ["after move"])
    assert path.read_text().endswith("| after move\n")
    assert log.last_error is None
    log.close()


def test_write_after_close_reopens(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = RotatingLogFile(str(path), 1 << 20, 3)
    log.close()
    log.close()
    log.write_lines(TS, "web:0", "out", ["late"])
    log.close()
    assert path.read_text().endswith("| late\n")


def test_errors_are_kept_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = RotatingLogFile(str(blocker / "web.log"), 1 << 20, 3)
    assert isinstance(log.last_error, OSError)
    log.write_lines(TS, "web:0", "out", ["a", "b"])
    assert log.lost_lines == 2
    log.close()
