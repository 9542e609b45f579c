"""50 idle process workers under `corral up --headless`: start time, idle cost, stop time.

Prints: seconds from launch until all 50 are spawned and until all are started (ready_after 0),
corral's CPU seconds over an idle window and its RSS (the supervisor and its fork server),
and seconds from SIGTERM until every worker is gone. Median of --runs runs.

    .venv/bin/python bench/bench_workers.py [--workers 50] [--idle 30] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from medians import print_medians


def one_run(workers: int, idle: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "corral.toml").write_text(
            f"""
[services.idle]
command = "sleep 3600"
workers = {workers}
ready_after = "0s"
"""
        )
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "corral", "up", "--headless"],
            cwd=tmp,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        spawned = started = 0
        t_spawned = t_started = 0.0
        pids: list[int] = []
        while started < workers:
            line = proc.stdout.readline()
            if " starting (pid " in line:
                spawned += 1
                pids.append(int(line.rsplit("pid ", 1)[1].rstrip(")\n")))
                if spawned == workers:
                    t_spawned = time.perf_counter() - t0
            elif " started (pid " in line:
                started += 1
                if started == workers:
                    t_started = time.perf_counter() - t0
        corral = psutil.Process(proc.pid)
        # The fork server is corral's only child that is not a worker.
        helpers = [c for c in corral.children() if c.pid not in pids]
        procs = [corral, *helpers]
        time.sleep(1.0)
        cpu0 = sum(sum(p.cpu_times()[:2]) for p in procs)
        time.sleep(idle)
        cpu1 = sum(sum(p.cpu_times()[:2]) for p in procs)
        rss = corral.memory_info().rss
        rss_helpers = sum(p.memory_info().rss for p in helpers)
        uss_helpers = sum(p.memory_full_info().uss for p in helpers)
        t_stop = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        alive = set(pids)
        while alive:
            alive = {p for p in alive if _alive(p)}
        t_gone = time.perf_counter() - t_stop
        proc.stdout.read()
        proc.wait(timeout=30)
        return {
            "all spawned (s)": t_spawned,
            "all started (s)": t_started,
            f"idle CPU over {idle:g}s (s)": cpu1 - cpu0,
            "RSS supervisor (MB)": rss / 1e6,
            "RSS fork server (MB)": rss_helpers / 1e6,
            "USS fork server (MB)": uss_helpers / 1e6,
            "all gone after SIGTERM (s)": t_gone,
            "exit code": float(proc.returncode),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.workers, args.idle) for _ in range(args.runs)]
    print_medians(f"{args.workers} idle process workers, median of {args.runs} runs:", runs)


if __name__ == "__main__":
    main()
