from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corral.core.linesplit import MARKER, LineSplitter, sanitize


def split_all(data: bytes, max_line: int = 16384) -> list[str]:
    splitter = LineSplitter(max_line)
    return splitter.feed(data) + splitter.flush()


def split_chunks(chunks: list[bytes], max_line: int = 16384) -> list[str]:
    splitter = LineSplitter(max_line)
    lines: list[str] = []
    for chunk in chunks:
        lines += splitter.feed(chunk)
    return lines + splitter.flush()


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *sorted(points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


# A plain, slow statement of the rules, independent of the splitter's chunk-level tricks.
_BREAK = re.compile(r"(\r*\n|\r+)")


def reference(data: bytes, max_line: int = 16384) -> list[str]:
    parts = _BREAK.split(data.decode("utf-8", "replace"))
    texts, breaks = parts[0::2], parts[1::2]
    lines: list[str] = []
    for i, raw in enumerate(texts):
        text = sanitize(raw)
        if i == len(breaks):  # after the last break: a final line only if it has text
            keep = bool(text)
        else:
            hard_before = i == 0 or breaks[i - 1].endswith("\n")
            keep = bool(text) or (hard_before and breaks[i].endswith("\n"))
        if not keep:
            continue
        while len(text) > max_line:
            lines.append(text[:max_line] + MARKER)
            text = text[max_line:]
        lines.append(text)
    return lines


# --- line breaks ---------------------------------------------------------------------------


def test_plain_lines_and_carry() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"one\ntwo\nthr") == ["one", "two"]
    assert splitter.feed(b"ee") == []
    assert splitter.feed(b"\nfour") == ["three"]
    assert splitter.flush() == ["four"]
    assert splitter.flush() == []


def test_empty_lines_between_newlines_are_kept() -> None:
    assert split_all(b"a\n\n\nb\n") == ["a", "", "", "b"]
    assert split_all(b"\n") == [""]


def test_crlf_is_one_break_and_keeps_blank_lines() -> None:
    assert split_all(b"a\r\nb\r\n\r\nc\r\n") == ["a", "b", "", "c"]
    assert split_all(b"a\r\r\nb") == ["a", "b"]


def test_lone_cr_ends_a_line() -> None:
    assert split_all(b"a\rb\n") == ["a", "b"]
    assert split_all(b"a\r\n") == ["a"]
    assert split_all(b"10%\r20%\r30%\r\n") == ["10%", "20%", "30%"]


def test_cr_runs_make_no_empty_lines() -> None:
    assert split_all(b"a\r\rb\r\r") == ["a", "b"]
    assert split_all(b"\ra\n\rb\n") == ["a", "b"]
    # A redraw that clears the line leaves nothing behind either.
    assert split_all(b"50%\r\x1b[K\n") == ["50%"]


def test_cr_at_chunk_end_then_lf_is_one_break() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\r") == ["a"]  # a progress update shows at once
    assert splitter.feed(b"\nb\n") == ["b"]
    assert splitter.flush() == []


def test_cr_at_chunk_end_then_more_crs_and_text() -> None:
    assert split_chunks([b"a\r", b"\r", b"\r", b"b\r", b"\n"]) == ["a", "b"]


def test_crlf_blank_line_across_chunks() -> None:
    assert split_chunks([b"a\n\r", b"\nb\n"]) == ["a", "", "b"]
    assert split_chunks([b"a\n\r", b"b\n"]) == ["a", "b"]


def test_final_line_without_newline() -> None:
    assert split_all(b"a\nlast") == ["a", "last"]
    assert split_all(b"a\n\x1b[0m") == ["a"]  # nothing visible: no phantom last line


# --- decoding ------------------------------------------------------------------------------


def test_invalid_utf8_is_replaced() -> None:
    assert split_all(b"a\xffb\n\xe2\x82\n") == ["a\ufffdb", "\ufffd"]


def test_multibyte_split_across_chunks() -> None:
    data = "zł €😀\n".encode()
    for point in range(len(data) + 1):
        assert split_chunks([data[:point], data[point:]]) == ["zł €😀"]


def test_truncated_multibyte_at_end_of_stream() -> None:
    assert split_chunks([b"ok \xe2\x82"]) == ["ok \ufffd"]


# --- control sequences ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[1;31mred\x1b[0m", "red"),
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
        ("\x1b]0;title\x07text", "text"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("before\x1b]0;never ends", "before"),
        ("\x1bPq#0;2;0;0;0\x1b\\after", "after"),
        ("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\x", "x"),
        ("\x1b(B\x1b7\x1b8\x1b=\x1bcplain", "plain"),
        ("lone\x1b", "lone"),
        ("a\x00b\x07c\x08d\x0be\x0cf\x7fg", "abcdefg"),
        ("tab\tstays", "tab\tstays"),
        ("c1\x85\x9b31mx\x9d0;t\x9cy", "c1xy"),
        ("\x1b[31", ""),
        ("caf\u00e9 \u00a0ok", "caf\u00e9 \u00a0ok"),
    ],
)
def test_control_sequences_removed(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean
    assert split_all(raw.encode() + b"\n") == [clean]


def test_sanitize_keeps_newlines_and_removes_cr() -> None:
    assert sanitize("a\r\n\x1b[1mb\n") == "a\nb\n"


def test_escape_sequences_split_across_chunks() -> None:
    data = b"\x1b[38;5;196mred\x1b[0m \x1b]0;t\x1b\\x\n"
    for point in range(len(data) + 1):
        assert split_chunks([data[:point], data[point:]]) == ["red x"]


# --- long lines ----------------------------------------------------------------------------


def test_long_line_split_with_marker() -> None:
    assert split_all(b"abcdefghij\n", max_line=4) == ["abcd" + MARKER, "efgh" + MARKER, "ij"]
    assert split_all(b"abcdefgh\nabcd\n", max_line=4) == ["abcd" + MARKER, "efgh", "abcd"]


def test_long_line_counts_characters_not_bytes() -> None:
    assert split_all("ééé\n".encode(), max_line=3) == ["ééé"]
    assert split_all("éééé\n".encode(), max_line=3) == ["ééé" + MARKER, "é"]


def test_long_carry_is_emitted_at_once_and_memory_stays_bounded() -> None:
    splitter = LineSplitter(max_line=100)
    out: list[str] = []
    for _ in range(1000):
        out += splitter.feed(b"x" * 1000)
        assert len(splitter._carry) <= 200
    assert len(out) == 9999
    assert all(piece == "x" * 100 + MARKER for piece in out)
    assert splitter.feed(b"\n") == ["x" * 100]


def test_long_carry_of_multibyte_text() -> None:
    data = "€" * 1000
    lines = split_chunks([data.encode()[i : i + 7] for i in range(0, 3000, 7)], max_line=64)
    assert "".join(line.removesuffix(MARKER) for line in lines) == data
    assert all(len(line) == 64 + len(MARKER) for line in lines[:-1])


def test_long_escape_string_across_overflow_is_still_removed() -> None:
    # A sixel image (DCS ... ST) far longer than the line limit, with no newline in it.
    data = b"pic:\x1bPq" + b"#0;2;0;0;0~~@@" * 2000 + b"\x1b\\done\n"
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    assert split_chunks(chunks, max_line=1000) == ["pic:done"]


def test_max_line_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LineSplitter(0)


# --- any chunking gives the same lines -----------------------------------------------------

SAMPLE = (
    "plain line\n"
    "zażółć gęślą jaźń 😀\r\n"
    "\x1b[1;32mgreen\x1b[0m\tand tab\n"
    "10%\r20%\r\x1b[K100%\r\n"
    "\x1b]0;title\x07after title\n"
    "\r\n"
    "invalid \udcff here\n"
    "no newline at the end €"
).encode("utf-8", "surrogateescape")  # \udcff: the invalid byte 0xff
SAMPLE_LINES = [
    "plain line",
    "zażółć gęślą jaźń 😀",
    "green\tand tab",
    "10%",
    "20%",
    "100%",
    "after title",
    "",
    "invalid \ufffd here",
    "no newline at the end €",
]


def test_sample_whole() -> None:
    assert split_all(SAMPLE) == SAMPLE_LINES
    assert reference(SAMPLE) == SAMPLE_LINES


def test_sample_every_split_point() -> None:
    for point in range(len(SAMPLE) + 1):
        assert split_chunks([SAMPLE[:point], SAMPLE[point:]]) == SAMPLE_LINES, point


def test_sample_byte_by_byte() -> None:
    assert split_chunks([SAMPLE[i : i + 1] for i in range(len(SAMPLE))]) == SAMPLE_LINES


@given(st.lists(st.integers(0, len(SAMPLE)), max_size=12))
def test_sample_random_split_points(points: list[int]) -> None:
    assert split_chunks(cut(SAMPLE, points)) == SAMPLE_LINES


FRAGMENTS = [
    b"a", b"b", b"xyz", b" ", b"\t", b"1", b";", b"[", b"]", b"\\", b"(", b"~",
    b"\n", b"\r", b"\r\n", b"\n\n", b"\r\r",
    b"\x1b", b"\x1b[", b"\x1b[1;31m", b"\x1b[0m", b"\x1b[K", b"\x1b]", b"\x1b]0;t", b"\x07",
    b"\x1b\\", b"\x1bP", b"\x1b(", b"\x00", b"\x7f", b"\x0c",
    "é".encode(), "€".encode(), "😀".encode(), b"\xc2\x9b", b"\xc2\x85", b"\xc2\x9c",
    b"\xff", b"\xe2\x82", b"\x80", b"\xf0\x9f",
]  # fmt: skip
streams = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(streams, st.lists(st.integers(0, 400), max_size=10))
def test_random_streams_match_the_rules_in_any_chunking(data: bytes, points: list[int]) -> None:
    expected = reference(data)
    assert split_all(data) == expected
    assert split_chunks(cut(data, [p for p in points if p <= len(data)])) == expected


@settings(max_examples=300, deadline=None)
@given(streams, st.lists(st.integers(0, 400), max_size=10), st.integers(1, 12))
def test_random_streams_with_tiny_line_limit(data: bytes, points: list[int], limit: int) -> None:
    expected = reference(data, limit)
    assert split_chunks(cut(data, [p for p in points if p <= len(data)]), limit) == expected


text_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\n\r")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(text_chars, max_size=30), max_size=20), st.integers(1, 8))
def test_clean_text_round_trips(lines: list[str], chunk: int) -> None:
    lines = [sanitize(line) for line in lines]
    data = "".join(line + "\n" for line in lines).encode()
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    assert split_chunks(chunks) == lines


def test_endless_cr_keeps_memory_bounded() -> None:
    splitter = LineSplitter(max_line=100)
    for _ in range(1000):
        assert splitter.feed(b"\x1b[K\r" * 100) == []
        assert len(splitter._carry) <= 1
    assert splitter.feed(b"\n") == []
    assert splitter.flush() == []
