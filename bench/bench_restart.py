"""How soon after a worker exits its next generation runs: exit noticed, delay, fork, exec.

The worker is a bash script that writes $EPOCHREALTIME as its first and its last act, then
exits 1 before it counts as started, so corral retries after exactly `restart_delay`. The gap
between one generation's last stamp and the next one's first stamp, minus the delay, is
corral's reaction time plus bash's own start-up (which the figure for `bash -c true` shows).

    .venv/bin/python bench/bench_restart.py [--restarts 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def gaps(delay_ms: int, restarts: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        stamps = Path(tmp, "stamps")
        # `$$` keeps corral from expanding the variable: bash reads it.
        script = (
            f"echo start $$EPOCHREALTIME >> {stamps}; echo end $$EPOCHREALTIME >> {stamps}; exit 1"
        )
        Path(tmp, "corral.toml").write_text(
            f"""
[services.crash]
command = ["bash", "-c", "{script}"]
ready_after = "10s"
restart_delay = "{delay_ms}ms"
start_attempts = {restarts + 1}
"""
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "corral", "up", "--headless"],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if stamps.exists() and stamps.read_text().count("start") > restarts:
                break
            time.sleep(0.05)
        proc.terminate()
        proc.wait(timeout=30)
        lines = [line.split() for line in stamps.read_text().splitlines()]
    ends = [float(t) for kind, t in lines if kind == "end"]
    starts = [float(t) for kind, t in lines if kind == "start"]
    return [(s - e) * 1000 - delay_ms for e, s in zip(ends, starts[1:], strict=False)]


def bash_startup_ms(runs: int = 50) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["bash", "-c", "true"], check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--restarts", type=int, default=200)
    args = parser.parse_args()
    print(f"bash -c true, fork+exec+exit from Python: {bash_startup_ms():.2f} ms (median)")
    for delay in (0, 100):
        n = args.restarts if delay == 0 else max(20, args.restarts // 10)
        g = sorted(gaps(delay, n))
        print(
            f"restart_delay {delay:3d}ms, {len(g)} restarts: exit -> next generation running,"
            f" minus the delay: median {statistics.median(g):.2f} ms,"
            f" p95 {g[int(len(g) * 0.95)]:.2f} ms, max {g[-1]:.2f} ms"
        )


if __name__ == "__main__":
    main()
