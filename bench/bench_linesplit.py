"""CPU cost of the log capture path under a flood: LineSplitter + RotatingLogFile.

    .venv/bin/python bench/bench_linesplit.py [--lines N] [--chunk BYTES]

The target: 1,000,000 lines of 100 bytes in well under 0.5 s of CPU on one core. Also measures
the splitter alone and a few slow-path mixes (colour codes, CRLF, progress bars) for reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from corral.core.linesplit import LineSplitter
from corral.core.logfile import RotatingLogFile


def make_lines(count: int, variant: str) -> bytes:
    """`count` lines of exactly 100 bytes, newline included."""
    out = []
    for i in range(count):
        if variant == "colour":
            text = f"\x1b[32mINFO\x1b[0m {i:09d} GET /api/items/{i % 977} 200 in {i % 89}ms"
        else:
            text = f"INFO {i:09d} GET /api/items/{i % 977} 200 OK in {i % 89}ms user={i % 31}"
        end = "\r\n" if variant == "crlf" else "\r" if variant == "progress" else "\n"
        body = text.ljust(100 - len(end), ".")
        out.append(body + end)
    return "".join(out).encode()


def run(data: bytes, chunk: int, with_file: bool) -> tuple[float, int]:
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    splitter = LineSplitter()
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        log = RotatingLogFile(os.path.join(tmp, "web.log"), 1 << 40, 3)
        start = time.process_time()
        for piece in chunks:
            lines = splitter.feed(piece)
            count += len(lines)
            if with_file:
                log.write_lines(time.time(), "web:0", "out", lines)
        tail = splitter.flush()
        count += len(tail)
        if with_file:
            log.write_lines(time.time(), "web:0", "out", tail)
        cpu = time.process_time() - start
        log.close()
    return cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=256 * 1024)
    args = parser.parse_args()

    cases = [
        ("plain, splitter + log file", "plain", True),
        ("plain, splitter only", "plain", False),
        ("colour codes, splitter + log file", "colour", True),
        ("CRLF, splitter + log file", "crlf", True),
        ("progress bar (\\r), splitter + log file", "progress", True),
    ]
    print(f"{args.lines:,} lines of 100 bytes, chunks of {args.chunk:,} bytes")
    for title, variant, with_file in cases:
        data = make_lines(args.lines, variant)
        cpu, count = run(data, args.chunk, with_file)
        assert count == args.lines, count
        rate = count / cpu if cpu else float("inf")
        mb = len(data) / cpu / 1e6 if cpu else float("inf")
        print(f"  {title:42s} {cpu:6.3f} s CPU  {rate / 1e6:6.2f} M lines/s  {mb:7.0f} MB/s")


if __name__ == "__main__":
    main()
