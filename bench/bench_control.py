"""The daemon's control socket: status latency, live log latency, and clients under a flood.

Prints:
- `corral status --json` end to end with 200 workers (and how much of it is Python start-up),
  plus the round trip of one status request on an open connection;
- how long after a worker writes a line a subscriber has it;
- with 5 `corral logs -f` clients following a 100,000 lines/s flood: whether the daemon kept
  up (every line in the file when the writer stops), its CPU and its peak RSS.

    .venv/bin/python bench/bench_control.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import psutil

from corral.core.client import Client
from corral.core.events import LogLines

CORRAL = [sys.executable, "-m", "corral"]


def _up(root: Path, config: str, env: dict[str, str]) -> None:
    (root / "corral.toml").write_text(config)
    subprocess.run([*CORRAL, "up", "-d"], cwd=root, env=env, check=True, capture_output=True)


def _down(root: Path, env: dict[str, str]) -> None:
    subprocess.run([*CORRAL, "down"], cwd=root, env=env, capture_output=True)


def _timed(cmd: list[str], root: Path, env: dict[str, str], runs: int = 15) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def status_latency(root: Path, env: dict[str, str]) -> None:
    _up(root, '[services.idle]\ncommand = "sleep 3600"\nworkers = 200\nready_after = "0s"\n', env)
    try:
        full = _timed([*CORRAL, "status", "--json"], root, env)
        python = _timed([sys.executable, "-c", "pass"], root, env)
        imports = _timed([sys.executable, "-c", "import corral.cli, corral.commands"], root, env)

        async def round_trips() -> list[float]:
            times = []
            async with Client.connect(str(root / "corral.toml")) as client:
                for _ in range(20):
                    t0 = time.perf_counter()
                    await client.status()
                    times.append((time.perf_counter() - t0) * 1000)
            return times

        os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
        trips = anyio.run(round_trips)
    finally:
        _down(root, env)
    print("status with 200 workers (medians of 15 runs):")
    print(f"  corral status --json, end to end        {statistics.median(full):7.1f} ms")
    print(f"  of which: bare python start-up          {statistics.median(python):7.1f} ms")
    print(f"            python + importing corral      {statistics.median(imports):7.1f} ms")
    print(f"  one status request on an open connection {statistics.median(trips):6.1f} ms")


def line_latency(root: Path, env: dict[str, str]) -> None:
    (root / "stamp.py").write_text(
        "import time\nfor i in range(400):\n    print(repr(time.time()), flush=True)\n"
        "    time.sleep(0.02)\n"
    )
    _up(root, f'[services.stamp]\ncommand = ["{sys.executable}", "stamp.py"]\n', env)
    try:

        async def follow() -> list[float]:
            delays: list[float] = []
            async with Client.connect(str(root / "corral.toml")) as client:
                _, events = await client.subscribe(targets=["stamp"], lines=0)
                async for batch in events:
                    now = time.time()
                    for e in batch:
                        if isinstance(e, LogLines):
                            delays += [(now - float(x)) * 1000 for x in e.lines]
                    if len(delays) >= 200:
                        break
            return delays

        delays = sorted(anyio.run(follow))
    finally:
        _down(root, env)
    print("a line written by a worker, received by a subscriber (200 lines):")
    p95 = delays[int(len(delays) * 0.95)]
    print(f"  median {statistics.median(delays):.2f} ms, p95 {p95:.2f} ms, max {delays[-1]:.2f} ms")


FLOOD = """
import sys, time
n, rate = int(sys.argv[1]), int(sys.argv[2])
line = "y" * 90
start = time.time()
for block in range(n // 1000):
    sys.stdout.write("".join(f"{block * 1000 + i:08d} {line}\\n" for i in range(1000)))
    sys.stdout.flush()
    ahead = start + (block + 1) * 1000 / rate - time.time()
    if ahead > 0:
        time.sleep(ahead)
open("flood.done", "w").write(str(time.time()))
time.sleep(3600)
"""


def flood_with_clients(root: Path, env: dict[str, str], lines: int = 500_000) -> None:
    (root / "flood.py").write_text(FLOOD)
    config = (
        '[runtime]\nlog_max_size = "4GB"\n'
        f'[services.flood]\ncommand = ["{sys.executable}", "flood.py", "{lines}", "100000"]\n'
        'ready_after = "0s"\n'
    )
    _up(root, config, env)
    try:
        doc = subprocess.run(
            [*CORRAL, "status", "--json"], cwd=root, env=env, capture_output=True, text=True
        )
        daemon = psutil.Process(int(json.loads(doc.stdout)["runtime"]["pid"]))
        # Stopped and started again once the clients follow, so they see every line.
        subprocess.run([*CORRAL, "stop", "flood"], cwd=root, env=env, check=True)
        clients = [
            subprocess.Popen(
                [*CORRAL, "logs", "-f", "-n", "0"],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(5)
        ]
        time.sleep(1.0)
        log = root / ".corral" / "logs" / "flood.log"
        done = root / "flood.done"
        done.unlink(missing_ok=True)
        base = log.stat().st_size if log.exists() else 0
        cpu0 = sum(daemon.cpu_times()[:2])
        subprocess.run([*CORRAL, "start", "flood"], cwd=root, env=env, check=True)
        peak = 0
        while not done.exists():
            peak = max(peak, daemon.memory_info().rss)
            time.sleep(0.01)
        finished = float(done.read_text())
        expected = base + lines * (len("2026-12-04T15:21:28.123Z flood:0 out | ") + 100)
        while log.stat().st_size < expected:
            peak = max(peak, daemon.memory_info().rss)
            time.sleep(0.002)
        behind = time.time() - finished
        cpu = sum(daemon.cpu_times()[:2]) - cpu0
        for c in clients:
            c.terminate()
            c.wait()
    finally:
        _down(root, env)
    print(f"5 clients following a 100,000 lines/s flood ({lines} lines):")
    print(f"  file complete {behind * 1000:.0f} ms after the writer's last line")
    print(f"  daemon CPU {cpu:.2f} s, peak RSS {peak / 1e6:.1f} MB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_RUNTIME_DIR": tmp, "NO_COLOR": "1"}
        for name, fn in (
            ("status", status_latency),
            ("latency", line_latency),
            ("flood", flood_with_clients),
        ):
            root = Path(tmp, name)
            root.mkdir()
            fn(root, env)


if __name__ == "__main__":
    main()
