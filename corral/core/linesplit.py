"""Turn a worker's raw output into clean text lines: the hot path of log capture.

A flood must cost a few C-level calls per chunk, never Python work per line or per byte: one
`rfind` for the cut, one decode, one `str.split`, a handful of memchr scans. Regular expressions
run only when one of those scans has found something for them to do.

Line breaks: `\\n`; `\\r\\n` (and `\\r\\r\\n`) is one break; a lone `\\r` run also ends a line,
so a progress bar becomes a line per update. An empty line is kept only between two hard
(`\\n`) breaks: what a lone `\\r` leaves empty, before or after it, is redraw noise. Feeding a
stream in any chunking gives the same lines as feeding it whole.
"""

from __future__ import annotations

import re

MARKER = " ↩"
DEFAULT_MAX_LINE = 16384

# ECMA-48 sequences a terminal would act on. No part can run across \r or \n, so cleaning a
# block of lines equals cleaning each line, and the stream may be cut at any line break. String
# bodies also stop at any ESC or C1 character, so a sequence can only be unfinished at the end of
# a text if it starts at the text's last introducer (see _reopener).
_CSI_REST = r"[0-?]*[ -/]*[@-~]?"  # unfinished at the end of a line: dropped too
_STRING_REST = r"[^\x07\x1b\n\r\x80-\x9f]*(?:\x07|\x1b\\|\x9c)?"  # OSC DCS SOS PM APC, to BEL/ST
_AFTER_ESC = rf"(?:\[{_CSI_REST}|[\]P^_X]{_STRING_REST}|[ -/]*[0-~]?)"  # else a two-byte escape


def _controls(chars: str) -> re.Pattern[str]:
    # One leading character class, so that re scans for it at C speed; what follows depends on
    # which character it was.
    return re.compile(
        rf"[{chars}](?:(?<=\x1b){_AFTER_ESC}|(?<=\x9b){_CSI_REST}"
        rf"|(?<=[\x90\x98\x9d-\x9f]){_STRING_REST})?"
    )


# Inside the splitter \r must survive cleaning: it marks where a lone-\r break was.
_BLOCK_CONTROLS = _controls(r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f")
_TEXT_CONTROLS = _controls(r"\x00-\x08\x0b-\x1f\x7f-\x9f")
# The same, for text whose only control character is ESC (colour codes): a literal first
# character makes re's scan several times faster still.
_ESCAPES = re.compile(rf"\x1b{_AFTER_ESC}")
_OPEN = re.compile(
    r"(?P<string>\x1b[\]P^_X]|[\x90\x98\x9d-\x9f])[^\x07\x1b\n\r\x80-\x9f]*\Z"
    r"|(?:\x1b\[|\x9b)[0-?]*(?P<csi>[ -/]*)\Z"
    r"|\x1b(?P<esc>[ -/]*)\Z"
)
_INTRODUCERS = "\x1b\x90\x98\x9b\x9d\x9e\x9f"

_OTHER_C0 = tuple(bytes([c]) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), 0x7F))
_OTHER_C0 += tuple(bytes([c]) for c in range(0x1C, 0x20))
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F; no other bytes decode to C1
_CRS_LF = re.compile(r"\r+\n")
_CR_RUN = re.compile(r"\r[\r\n]*")


def sanitize(text: str) -> str:
    """Remove terminal control sequences and control characters, keeping TAB and LF.

    For text that does not come through a LineSplitter (thread workers' output). CR is removed
    too: split lines first if it should mean a line break.
    """
    if text.isprintable():
        return text
    return _TEXT_CONTROLS.sub("", text)


def _clean(text: str) -> str:
    if text.isprintable():
        return text
    return _BLOCK_CONTROLS.sub("", text)


def _control_pattern(data: bytes) -> re.Pattern[str] | None:
    """The pattern that cleans `data` once decoded, None when there is nothing to clean."""
    # 30 memchr scans of a chunk cost less than one pass of a regex or bytes.translate.
    if any(map(data.__contains__, _OTHER_C0)) or (
        not data.isascii() and b"\xc2" in data and _C1_UTF8.search(data) is not None
    ):
        return _BLOCK_CONTROLS
    return _ESCAPES if b"\x1b" in data else None


def _blank_lines(run: str) -> int:
    """Empty lines kept inside a run of breaks: those between two adjacent \\n."""
    return run.count("\n") - sum(1 for group in run.split("\r") if group)


def _fold(text: str, soft: bool) -> str:
    """Turn every break run that holds a lone \\r into plain \\n breaks."""
    # Two-character `in` is 100 times slower than one-character (memchr): test "\n" first.
    if not (
        soft
        or text.startswith("\r")
        or "\r\r" in text
        or ("\n" in text and ("\n\r" in text or "\r\n" in text))
    ):
        return text.replace("\r", "\n")  # each \r single, between two segments with text

    def one(match: re.Match[str]) -> str:
        start = match.start()
        before = start
        while before and text[before - 1] == "\n":
            before -= 1
        run = text[before : match.end()]
        if before:  # the run ends a segment with text in it
            count = 1 + _blank_lines(run)
        elif soft:  # the run starts with the \r the previous chunk ended on
            count = _blank_lines(run)
        else:  # the run starts a line
            count = _blank_lines("\n" + run)
        # The \n before the match stay in place; only the match is replaced.
        return "\n" * (count - (start - before))

    return _CR_RUN.sub(one, text)


def _split_long(lines: list[str], max_line: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        if len(line) <= max_line:
            out.append(line)
            continue
        last = (len(line) - 1) // max_line * max_line
        out.extend(line[i : i + max_line] + MARKER for i in range(0, last, max_line))
        out.append(line[last:])
    return out


def _complete_utf8(data: bytes) -> int:
    """Length of `data` without a trailing, possibly unfinished, UTF-8 sequence."""
    size = len(data)
    i = size - 1
    while i >= 0 and size - i <= 4 and 0x80 <= data[i] < 0xC0:
        i -= 1
    if i < 0 or size - i > 4:
        return size  # only stray continuation bytes: invalid whatever follows
    lead = data[i]
    if 0xC2 <= lead <= 0xDF:
        need = 2
    elif 0xE0 <= lead <= 0xEF:
        need = 3
    elif 0xF0 <= lead <= 0xF4:
        need = 4
    else:
        need = 1  # ASCII, or a byte that is invalid whatever follows
    return i if i + need > size else size


def _reopener(raw: str) -> str:
    """What restarts, at the head of the next text, a sequence left unfinished at the end of `raw`.

    Only the last introducer can start one, since bodies stop at any introducer.
    """
    at = max(map(raw.rfind, _INTRODUCERS))
    if at < 0:
        return ""
    match = _OPEN.match(raw, at)
    if match is None:
        return ""
    if match.group("string") is not None:
        return "\x1b]"
    csi = match.group("csi")
    if csi is not None:
        return "\x1b[ " if csi else "\x1b["
    return "\x1b " if match.group("esc") else "\x1b"


class LineSplitter:
    """Splits one output stream into lines; feed it chunks as they are read, flush at the end."""

    __slots__ = ("_carry", "_limit", "_max_line", "_soft")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError(f"max_line must be at least 1, not {max_line}")
        self._max_line = max_line
        self._carry = b""  # bytes after the last break, not yet emitted
        self._soft = False  # the carry starts right after a lone \r, not at a line start
        self._limit = max_line  # carry size beyond which its text is emitted in pieces

    def feed(self, chunk: bytes) -> list[str]:
        """The complete lines found in `chunk`, with what earlier chunks left over."""
        data = self._carry + chunk if self._carry else chunk
        if not data:
            return []
        end = len(data)
        cut = data.rfind(b"\n") + 1
        cr = data.rfind(b"\r", cut)
        carry = None
        if cr == end - 1:
            cut = self._cut_at_final_cr(data, cut, cr)
            if cut < end:
                # A final \r run after a segment without text. Both mean no more than one
                # \r: keeping just that bounds the carry however many of them come.
                carry = b"\r"
        elif cr >= 0:
            cut = cr + 1
        if cut == 0:
            self._carry = data if carry is None else carry
            return self._overflow() if end > self._limit else []
        lines = self._lines(data if cut == end else data[:cut], self._soft)
        self._soft = data[cut - 1] == 0x0D
        self._carry = data[cut:] if carry is None else carry
        self._limit = self._max_line
        if len(self._carry) > self._limit:
            lines += self._overflow()
        return lines

    def flush(self) -> list[str]:
        """The last, unterminated line at the end of the stream, if it has any text."""
        carry = self._carry
        self._carry = b""
        self._soft = False
        self._limit = self._max_line
        text = "" if carry == b"\r" else _clean(carry.decode("utf-8", "replace"))
        if not text:
            return []
        return _split_long([text], self._max_line)

    def _cut_at_final_cr(self, data: bytes, line_start: int, cr: int) -> int:
        # Whether a final \r run is a lone break or half of \r\n is only known from the next
        # byte. If the segment before it has text, emit that now (a progress bar shows at once)
        # and remember, in _soft, that a following \n ends nothing more. If it has none, that
        # next byte decides whether it is a kept empty line, so the run waits in the carry.
        start = cr
        while start > line_start and data[start - 1] == 0x0D:
            start -= 1
        seg_start = max(line_start, data.rfind(b"\r", line_start, start) + 1)
        if _clean(data[seg_start:start].decode("utf-8", "replace")):
            return len(data)
        return seg_start

    def _lines(self, region: bytes, soft: bool) -> list[str]:
        """Lines of a region that ends with a line break."""
        text = region.decode("utf-8", "replace")
        has_cr = b"\r" in region
        if has_cr and b"\n" in region:
            text = text.replace("\r\n", "\n")
            if "\r" in text and "\r\n" in text:  # was \r\r\n
                text = _CRS_LF.sub("\n", text)
        pattern = _control_pattern(region)
        if pattern is not None:
            text = pattern.sub("", text)
        if soft and text.startswith(("\r", "\n")):  # else the first segment has text anyway
            text = _fold("\r" + text, soft=True)
        elif has_cr and "\r" in text:
            text = _fold(text, soft=False)
        lines = text.split("\n")
        lines.pop()  # what follows the last break, always empty here
        max_line = self._max_line
        if len(text) > max_line and max(map(len, lines)) > max_line:
            lines = _split_long(lines, max_line)
        return lines

    def _overflow(self) -> list[str]:
        """Emit a carry grown too long as pieces, keeping its memory bounded."""
        carry = self._carry
        if carry == b"\r":
            return []  # see feed
        end = _complete_utf8(carry)
        raw = carry[:end].decode("utf-8", "replace")
        text = _clean(raw)
        max_line = self._max_line
        # At least one character stays behind, so the line's last piece keeps no marker.
        count = max(len(text) - 1, 0) // max_line
        pieces = [text[i * max_line : (i + 1) * max_line] + MARKER for i in range(count)]
        rest = text[count * max_line :] + _reopener(raw)
        self._carry = rest.encode() + carry[end:]
        self._limit = len(self._carry) + max_line
        return pieces
