"""A flood of 1,000,000 lines of 100 bytes from one worker under `corral up --headless`.

Prints: how long the writer took, how long after its last write the log file held every line
(timestamped), corral's CPU seconds for the flood and its peak RSS. Median of --runs runs.
The headless output goes to /dev/null (--stdout pipe sends it through a pipe that is read).

    .venv/bin/python bench/bench_flood.py [--lines 1000000] [--runs 3] [--stdout devnull|pipe]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from medians import print_medians

WRITER = """
import os, sys, time
n = int(sys.argv[1])
line = "x" * 90
out = sys.stdout
block = []
start = time.time()
for i in range(n):
    block.append(f"{i:08d} {line}\\n")
    if len(block) == 5000:
        out.write("".join(block))
        block = []
out.write("".join(block))
out.flush()
done = time.time()
with open("writer.done", "w") as f:
    f.write(f"{start} {done}")
time.sleep(3600)
"""
PREFIX = len("2026-12-04T15:21:28.123Z flood:0 out | ")


def one_run(lines: int, stdout: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "writer.py").write_text(WRITER)
        Path(tmp, "corral.toml").write_text(
            f"""
[runtime]
log_max_size = "4GB"

[services.flood]
command = ["{sys.executable}", "writer.py", "{lines}"]
ready_after = "0s"
"""
        )
        log = Path(tmp, ".corral", "logs", "flood.log")
        expected = lines * (PREFIX + 100)
        sink = subprocess.DEVNULL if stdout == "devnull" else subprocess.PIPE
        proc = subprocess.Popen(
            [sys.executable, "-m", "corral", "up", "--headless"], cwd=tmp, stdout=sink
        )
        if sink == subprocess.PIPE:
            assert proc.stdout is not None
            pipe = proc.stdout
            threading.Thread(
                target=lambda: [None for _ in iter(lambda: pipe.read(1 << 16), b"")], daemon=True
            ).start()
        corral = psutil.Process(proc.pid)
        peak = 0
        cpu0 = None
        done_file = Path(tmp, "writer.done")
        complete_at = None
        while complete_at is None:
            try:
                size = log.stat().st_size
            except FileNotFoundError:
                size = 0
            if cpu0 is None and size:
                family = [corral, *corral.children()]
                cpu0 = sum(sum(p.cpu_times()[:2]) for p in family[:2])
            peak = max(peak, corral.memory_info().rss)
            if size >= expected:
                complete_at = time.time()
            time.sleep(0.002)
        cpu1 = sum(sum(p.cpu_times()[:2]) for p in [corral, *corral.children()][:2])
        while not done_file.exists():
            time.sleep(0.002)
        start, done = map(float, done_file.read_text().split())
        proc.terminate()
        proc.wait(timeout=30)
        return {
            "writer took (s)": done - start,
            "file complete after writer (s)": max(0.0, complete_at - done),
            "corral CPU during flood (s)": cpu1 - (cpu0 or cpu1),
            "corral peak RSS (MB)": peak / 1e6,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stdout", choices=["devnull", "pipe"], default="devnull")
    args = parser.parse_args()
    runs = [one_run(args.lines, args.stdout) for _ in range(args.runs)]
    title = f"{args.lines} lines of 100 bytes, headless output to {args.stdout}"
    print_medians(f"{title}, median of {args.runs}:", runs)
    os.sync()


if __name__ == "__main__":
    main()
