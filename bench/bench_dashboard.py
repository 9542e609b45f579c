"""The dashboard as a user runs it: `corral attach` in a real terminal (tmux, 120x40).

Prints a table of figures next to their targets:
- busy: 200 idle workers plus one writing 50,000 lines/s (blocks of 1000 lines every 20 ms,
  each line stamped with its write time). The dashboard's CPU (% of one core, from psutil),
  how far behind the log pane is (the newest write stamp in `tmux capture-pane`, polled every
  100 ms, against the clock), and the key press latency of `r` on an idle worker's row: until
  the daemon reports the new pid (a client subscription), and until the table shows it;
- idle: 50 idle workers, the dashboard's CPU over 30 s;
- pm2 for comparison (installed with npm under /tmp/pm2bench): `pm2 monit`'s CPU with 50 idle
  processes, then with one process writing 50,000 lines/s, and how far behind its log box is.

Everything runs in temporary directories, with XDG_RUNTIME_DIR and PM2_HOME of its own and a
tmux server of its own; daemons, tmux and pm2 are stopped at the end, whatever happens.

    .venv/bin/python bench/bench_dashboard.py [--skip-pm2]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.from_thread
import psutil
from anyio.streams.memory import MemoryObjectReceiveStream

from corral.core.client import Client
from corral.core.events import Event, WorkerChanged
from corral.core.protocol import StatusDoc

COLS, ROWS = 120, 40
CORRAL = str(Path(sys.executable).with_name("corral"))
PM2_DIR = Path("/tmp/pm2bench")
PM2 = PM2_DIR / "node_modules" / ".bin" / "pm2"

BUSY_SECONDS = 20.0
FLOOD_ROW_SECONDS = 10.0
IDLE_SECONDS = 30.0
RESTARTS = 5

# 50,000 lines/s: 1000 lines every 20 ms, each with its write time and a sequence number.
WRITER = """
import os, sys, time
stats = sys.argv[1]
pad = "x" * 70
out = sys.stdout
seq = late = blocks = 0
start = next_at = time.time()
while True:
    now = time.time()
    if now < next_at:
        time.sleep(next_at - now)
    elif now - next_at > 1.0:
        next_at = now  # hopelessly behind: count it and start the schedule again
        late += 1
    block = []
    for _ in range(1000):
        block.append(f"{time.time():.3f} {seq:09d} flood {pad}\\n")
        seq += 1
    out.write("".join(block))
    out.flush()
    next_at += 0.02
    blocks += 1
    if blocks % 25 == 0:
        with open(stats + ".tmp", "w") as f:
            f.write(f"{start} {time.time()} {seq} {late}")
        os.replace(stats + ".tmp", stats)
"""
STAMP = re.compile(r"(\d{10}\.\d{3}) (\d{9}) flood")
SELECTION = re.compile(r"^ logs · (.+?) · ", re.MULTILINE)
DROPPED = "lines dropped here"
NOTES: list[str] = []  # anomalies seen on screen, printed under the table


# --- helpers -------------------------------------------------------------------------------------


class Tmux:
    """A tmux server of our own with one 120x40 session."""

    def __init__(self, socket: Path) -> None:
        self.base = ["tmux", "-S", str(socket), "-f", "/dev/null"]

    def start(self, command: str, cwd: Path, env: dict[str, str]) -> psutil.Process:
        extra = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        size = ["-x", str(COLS), "-y", str(ROWS)]
        # The pane's shell is replaced at once by the program (exec): the pane's pid is its.
        new = [*self.base, "new-session", "-d", "-s", "bench", *size, "-c", str(cwd), *extra]
        subprocess.run([*new, f"exec {command}"], check=True)
        pid = int(self._out("display", "-p", "-t", "bench", "#{pane_pid}"))
        return psutil.Process(pid)

    def server(self) -> psutil.Process:
        return psutil.Process(int(self._out("display", "-p", "#{pid}")))

    def _out(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True).stdout.strip()

    def capture(self) -> str:
        return subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", "bench"], capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "bench", *keys], check=True)

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()  # with the children it has waited for (tmux clients, for us)
            total += t.user + t.system + t.children_user + t.children_system
    return total


class CpuMeter:
    """% of one core used by some processes between start() and stop()."""

    def __init__(self, procs: list[psutil.Process]) -> None:
        self.procs = procs

    def start(self) -> None:
        self.t0, self.c0 = time.monotonic(), cpu_seconds(self.procs)

    def stop(self) -> float:
        return 100 * (cpu_seconds(self.procs) - self.c0) / (time.monotonic() - self.t0)


def wait_for(what: str, probe: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until probe() is true; raises TimeoutError naming what we waited for."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if probe():
            return time.monotonic() - t0
        time.sleep(step)
    raise TimeoutError(f"gave up waiting {timeout:.0f} s for {what}")


def writer_rate(stats: Path) -> Callable[[], float]:
    """Lines/s the flood writer really wrote from now until the returned function is called."""

    def read() -> tuple[float, int]:
        _, at, seq, _ = stats.read_text().split()
        return float(at), int(seq)

    t0, n0 = read()

    def rate() -> float:
        t1, n1 = read()
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    return rate


@dataclass
class PaneLog:
    """What the log pane showed, polled every 100 ms: lag, stalls, duplicates, gaps."""

    lags: list[float] = field(default_factory=list)
    empty: int = 0
    duplicates: int = 0
    gaps: int = 0
    dropped_markers: int = 0
    longest_still: float = 0.0  # longest time the newest stamp on screen did not change
    examples: list[str] = field(default_factory=list)

    def watch(self, tmux: Tmux, seconds: float, region: Callable[[str], str]) -> None:
        end = time.monotonic() + seconds
        newest = None
        start = changed_at = time.time()
        while time.monotonic() < end:
            text = tmux.capture()
            now = time.time()
            shown = region(text)
            pairs = [(float(m[1]), int(m[2])) for m in STAMP.finditer(shown)]
            if DROPPED in shown:
                self.dropped_markers += 1
            if not pairs:
                self.empty += 1
            else:
                seqs = [s for _, s in pairs]
                self.duplicates += len(seqs) - len(set(seqs))
                jumps = [f"{a}->{b}" for a, b in itertools.pairwise(seqs) if b != a + 1]
                self.gaps += len(jumps)
                if jumps and len(self.examples) < 5:
                    self.examples.append(f"at +{now - start:.1f} s: {', '.join(jumps[:3])}")
                top = max(t for t, _ in pairs)
                self.lags.append(now - top)
                if top != newest:
                    newest, changed_at = top, now
            self.longest_still = max(self.longest_still, now - changed_at)
            time.sleep(max(0.0, 0.1 - (time.time() - now)))


def stats(values: list[float]) -> tuple[float, float]:
    return (statistics.median(values), max(values)) if values else (float("nan"), float("nan"))


# --- corral --------------------------------------------------------------------------------------


class Daemon:
    """`corral up -d` for a config in a directory of its own, and a client in a thread."""

    def __init__(self, root: Path, config: str, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.config = root / "corral.toml"
        self.config.write_text(config)
        self._stack = contextlib.ExitStack()
        self.changes: list[tuple[float, str, int | None, str]] = []  # received at, worker, ...

    def up(self) -> None:
        done = subprocess.run(
            [CORRAL, "up", "-d"], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"corral up -d failed: {done.stderr.strip()}")
        portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self.portal = portal
        client = Client.connect(str(self.config))
        self.client = self._stack.enter_context(portal.wrap_async_context_manager(client))

    def watch(self, target: str) -> None:
        """Record every WorkerChanged (the subscription's log lines are only `target`'s)."""
        _, events = self.portal.call(self.client.subscribe, [target], 0)
        reader = self.portal.start_task_soon(self._read, events)
        self._stack.callback(reader.cancel)

    async def _read(self, events: MemoryObjectReceiveStream[list[Event]]) -> None:
        async for batch in events:
            now = time.time()
            for ev in batch:
                if isinstance(ev, WorkerChanged):
                    self.changes.append((now, f"{ev.service}:{ev.slot}", ev.pid, ev.state.value))

    def status(self) -> StatusDoc:
        return self.portal.call(self.client.status)

    def pid(self, name: str) -> int | None:
        service, slot = name.split(":")
        for svc in self.status().services:
            for w in svc.workers:
                if svc.id == service and w.slot == int(slot):
                    return w.pid
        return None

    def down(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
        done = subprocess.run(
            [CORRAL, "down"], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        if done.returncode not in (0, 3):
            print(f"warning: corral down exited {done.returncode}: {done.stderr.strip()}")


@contextlib.contextmanager
def corral_session(
    tmp: Path, name: str, config: str, env: dict[str, str]
) -> Iterator[tuple[Daemon, Tmux]]:
    root = tmp / name
    root.mkdir(exist_ok=True)
    daemon = Daemon(root, config, env)
    tmux = Tmux(root / "tmux.sock")
    try:
        daemon.up()
        yield daemon, tmux
    finally:
        tmux.kill()
        daemon.down()


def attach(daemon: Daemon, tmux: Tmux) -> tuple[psutil.Process, float]:
    """Start `corral attach` in tmux; the process and the seconds until it shows the table."""
    t0 = time.monotonic()
    env = {"TERM": "xterm-256color", "XDG_RUNTIME_DIR": daemon.env["XDG_RUNTIME_DIR"]}
    proc = tmux.start(f"{CORRAL} attach", daemon.root, env)
    wait_for("the dashboard", lambda: selection(tmux.capture()) is not None, 30)
    if "attach" not in " ".join(proc.cmdline()):
        raise RuntimeError(f"the pane runs {proc.cmdline()}, not corral attach")
    return proc, time.monotonic() - t0


def selection(text: str) -> str | None:
    m = SELECTION.search(text)
    return m[1] if m else None


def log_region(text: str) -> str:
    """The corral log pane: the lines between the log status line and the footer."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if SELECTION.match(line + "\n"):
            return "\n".join(lines[i + 1 : -1])
    return ""


def table_region(text: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if SELECTION.match(line + "\n"):
            return "\n".join(lines[:i])
    return text


def select(tmux: Tmux, target: str, key_times: list[float], key_names: list[str]) -> None:
    """Press Down until the log status line says `target` is selected."""
    for _ in range(400):
        current = selection(tmux.capture())
        if current == target:
            return
        t0 = time.time()
        tmux.keys("Down")

        def moved(before: str | None = current) -> bool:
            return selection(tmux.capture()) != before

        wait_for(f"the selection to move off {current}", moved, 5, step=0.005)
        key_times.append(time.time() - t0)
        key_names.append(selection(tmux.capture()) or "?")
    raise RuntimeError(f"could not select {target}")


def restart_latency(daemon: Daemon, tmux: Tmux, name: str) -> tuple[float, float, float]:
    """`r` on the selected worker: seconds until the daemon reports a new pid, until the table
    shows it, and until the pane shows it anywhere (the table or the notification)."""
    old = daemon.pid(name)
    mark = len(daemon.changes)
    caps: list[tuple[float, str]] = []
    t0 = time.time()
    tmux.keys("r")
    new: tuple[float, int] | None = None
    while time.time() - t0 < 15:
        text = tmux.capture()
        caps.append((time.time(), text))
        if new is None:
            for at, worker, pid, _ in daemon.changes[mark:]:
                if worker == name and pid is not None and pid != old:
                    new = (at, pid)
                    break
        if new is not None and re.search(rf"\b{new[1]}\b", table_region(text)):
            break
        time.sleep(0.005)
    if new is None:
        raise RuntimeError(f"no new pid for {name} 15 s after pressing r")
    word = re.compile(rf"\b{new[1]}\b")
    in_table = next((at for at, text in caps if word.search(table_region(text))), float("nan"))
    anywhere = next((at for at, text in caps if word.search(text)), float("nan"))
    return new[0] - t0, in_table - t0, anywhere - t0


def busy_case(tmp: Path, env: dict[str, str], rows: list[Row]) -> None:
    services = [
        f'[services.flood]\ncommand = ["{sys.executable}", "writer.py", "flood.stats"]\n'
        'ready_after = "0s"\n'
    ]
    for i in range(4):
        services.append(
            f'[services.idle{i}]\ncommand = "sleep 3600"\nworkers = 50\nready_after = "0s"\n'
        )
    print("busy: 200 idle workers + one writing 50,000 lines/s …", flush=True)
    (tmp / "busy").mkdir()
    (tmp / "busy" / "writer.py").write_text(WRITER)
    with corral_session(tmp, "busy", "\n".join(services), env) as (daemon, tmux):
        stats_file = daemon.root / "flood.stats"
        wait_for("the flood writer", stats_file.exists, 10)
        daemon.watch("idle0")
        doc = daemon.status()
        daemon_proc = psutil.Process(doc.runtime.pid)
        writer = psutil.Process(daemon.pid("flood:0"))
        proc, startup = attach(daemon, tmux)
        time.sleep(3)
        rss0 = proc.memory_info().rss
        dash, side = CpuMeter([proc]), CpuMeter([daemon_proc, writer, tmux.server()])
        me = CpuMeter([psutil.Process()])
        rate = writer_rate(stats_file)
        system0 = machine_times()
        for m in (dash, side, me):
            m.start()
        pane = PaneLog()
        pane.watch(tmux, BUSY_SECONDS, log_region)
        cpu, cpu_side, cpu_me = dash.stop(), side.stop(), me.stop()
        busy_all = machine_cpu(system0)
        lines_per_s = rate()

        key_times: list[float] = []
        key_names: list[str] = []
        select(tmux, "flood:0", key_times, key_names)
        time.sleep(1)
        dash.start()
        flood_pane = PaneLog()
        flood_pane.watch(tmux, FLOOD_ROW_SECONDS, log_region)
        cpu_flood_row = dash.stop()

        restarts = []
        for k in range(1, RESTARTS + 1):
            select(tmux, f"idle0:{k}", key_times, key_names)
            time.sleep(0.5)
            restarts.append(restart_latency(daemon, tmux, f"idle0:{k}"))
            time.sleep(0.5)
        rss1 = proc.memory_info().rss

        t0 = time.monotonic()
        tmux.keys("q")
        quit_s = float("nan")
        with contextlib.suppress(psutil.TimeoutExpired):
            proc.wait(10)
            quit_s = time.monotonic() - t0

    shown = ", ".join(f"{n} {t * 1000:.0f}" for n, t in zip(key_names, key_times, strict=True))
    NOTES.append(f"busy, Down key -> selection shown, ms: {shown}")
    shown = "; ".join(" / ".join(f"{x * 1000:.0f}" for x in r) for r in restarts)
    NOTES.append(f"busy, r on idle0:1..{RESTARTS}, daemon / table / anywhere, ms: {shown}")
    for what, seen in (("'all' row", pane), ("flood:0 row", flood_pane)):
        NOTES.extend(f"busy, {what}: non-consecutive lines {e}" for e in seen.examples)
    lag_med, lag_max = stats(pane.lags)
    flag_med, flag_max = stats(flood_pane.lags)
    d_med, d_max = stats([r[0] for r in restarts])
    t_med, t_max = stats([r[1] for r in restarts])
    a_med, a_max = stats([r[2] for r in restarts])
    k_med, k_max = stats(key_times)
    rows += [
        Row("busy", "flood writer's real rate", f"{lines_per_s:,.0f} lines/s", "50,000"),
        Row("busy", "dashboard start-up to first screen (attach)", f"{startup:.2f} s", ""),
        Row("busy", f"dashboard CPU, 'all' row, {BUSY_SECONDS:.0f} s", pct(cpu), "< 50%", cpu < 50),
        Row(
            "busy",
            f"dashboard CPU, flood:0 row, {FLOOD_ROW_SECONDS:.0f} s",
            pct(cpu_flood_row),
            "< 50%",
            cpu_flood_row < 50,
        ),
        Row("busy", "daemon + writer + tmux server CPU ('all' row)", pct(cpu_side), ""),
        Row("busy", "this script: capture-pane every 100 ms, its client", pct(cpu_me), ""),
        Row("busy", "whole machine busy ('all' row, 2 cores = 200%)", pct(busy_all), ""),
        Row("busy", "log pane lag, 'all' row: median / max", f"{lag_med:.2f} / {lag_max:.2f} s",
            "<= 0.5 s", lag_max <= 0.5),
        Row("busy", "log pane lag, flood:0 row: median / max",
            f"{flag_med:.2f} / {flag_max:.2f} s", "<= 0.5 s", flag_max <= 0.5),
        Row("busy", "longest time the pane's newest line stood still ('all' / flood:0)",
            f"{pane.longest_still:.2f} / {flood_pane.longest_still:.2f} s", ""),
        Row("busy", "captures: no log line / duplicate lines / non-consecutive / drop markers",
            f"{pane.empty + flood_pane.empty} / {pane.duplicates + flood_pane.duplicates} / "
            f"{pane.gaps + flood_pane.gaps} / {pane.dropped_markers + flood_pane.dropped_markers}"
            f" of {len(pane.lags) + len(flood_pane.lags) + pane.empty + flood_pane.empty}", ""),
        Row("busy", f"Down key -> selection shown: median / max of {len(key_times)}",
            f"{k_med * 1000:.0f} / {k_max * 1000:.0f} ms", "<= 200 ms", k_max <= 0.2),
        Row("busy", f"r -> daemon has the new pid: median / max of {len(restarts)}",
            f"{d_med * 1000:.0f} / {d_max * 1000:.0f} ms", ""),
        Row("busy", "r -> new pid in the table: median / max",
            f"{t_med * 1000:.0f} / {t_max * 1000:.0f} ms", "<= 200 ms", t_max <= 0.2),
        Row("busy", "r -> new pid anywhere on screen (notification): median / max",
            f"{a_med * 1000:.0f} / {a_max * 1000:.0f} ms", ""),
        Row("busy", "dashboard RSS after start-up -> at the end",
            f"{rss0 / 2**20:.0f} -> {rss1 / 2**20:.0f} MB", ""),
        Row("busy", "q -> dashboard process gone", f"{quit_s:.2f} s", ""),
    ]  # fmt: skip


def machine_times() -> tuple[float, float]:
    """The whole machine's CPU seconds so far: all, and idle (iowait included)."""
    t = psutil.cpu_times()
    return sum(t), t.idle + getattr(t, "iowait", 0.0)


def machine_cpu(before: tuple[float, float]) -> float:
    """CPU % of the whole machine since `before` (machine_times()), 100% per core."""
    total, idle = (a - b for a, b in zip(machine_times(), before, strict=True))
    return 100 * (psutil.cpu_count() or 1) * (total - idle) / total if total else 0.0


def idle_case(tmp: Path, env: dict[str, str], rows: list[Row]) -> None:
    print(f"idle: 50 idle workers, {IDLE_SECONDS:.0f} s …", flush=True)
    config = '[services.idle]\ncommand = "sleep 3600"\nworkers = 50\nready_after = "0s"\n'
    with corral_session(tmp, "idle", config, env) as (daemon, tmux):
        proc, _ = attach(daemon, tmux)
        wait_for("50/50 started", lambda: "50/50 started" in tmux.capture(), 15)
        time.sleep(3)
        dash, term = CpuMeter([proc]), CpuMeter([tmux.server()])
        daemon_cpu = CpuMeter([psutil.Process(daemon.status().runtime.pid)])
        for m in (dash, term, daemon_cpu):
            m.start()
        time.sleep(IDLE_SECONDS)
        cpu, cpu_term, cpu_daemon = dash.stop(), term.stop(), daemon_cpu.stop()
        t0 = time.monotonic()
        tmux.keys("q")
        quit_s = float("nan")
        with contextlib.suppress(psutil.TimeoutExpired):
            proc.wait(10)
            quit_s = time.monotonic() - t0
    rows += [
        Row("idle", f"dashboard CPU, {IDLE_SECONDS:.0f} s", pct(cpu, 2), "< 2%", cpu < 2),
        Row("idle", "tmux server CPU (drawing what the dashboard writes)", pct(cpu_term, 2), ""),
        Row("idle", "daemon CPU (answering the dashboard's status polls)", pct(cpu_daemon, 2), ""),
        Row("idle", "q -> dashboard process gone", f"{quit_s:.2f} s", ""),
    ]


# --- pm2 -----------------------------------------------------------------------------------------


def pm2_case(tmp: Path, rows: list[Row]) -> None:
    print("pm2: installing with npm …" if not PM2.exists() else "pm2: …", flush=True)
    if not PM2.exists():
        PM2_DIR.mkdir(exist_ok=True)
        try:
            done = subprocess.run(
                ["npm", "install", "--prefix", str(PM2_DIR), "pm2", "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            failed = done.returncode != 0 or not PM2.exists()
            why = done.stderr.strip().splitlines()[-1:] if failed else []
        except (OSError, subprocess.TimeoutExpired) as exc:
            failed, why = True, [str(exc)]
        if failed:
            print(f"pm2 SKIPPED: npm install pm2 failed: {' '.join(why)}")
            rows.append(Row("pm2", "skipped: npm install pm2 failed", "-", ""))
            return
    root = tmp / "pm2"
    root.mkdir()
    home = Path(tempfile.mkdtemp(prefix="home-", dir=PM2_DIR))
    env = {**os.environ, "PM2_HOME": str(home)}
    (root / "writer.py").write_text(WRITER)
    idle = [
        {"name": f"idle-{i}", "script": "sleep", "args": "3600", "interpreter": "none"}
        for i in range(50)
    ]
    (root / "idle.json").write_text(json.dumps({"apps": idle}))
    flood = {
        "name": "flood",
        "script": sys.executable,
        "args": ["writer.py", "flood.stats"],
        "interpreter": "none",
        "cwd": str(root),
    }
    (root / "flood.json").write_text(json.dumps({"apps": [flood]}))
    tmux = Tmux(root / "tmux.sock")

    def pm2(*args: str) -> str:
        done = subprocess.run(
            [str(PM2), *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode:
            raise RuntimeError(f"pm2 {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def online() -> int:
        out = pm2("jlist")
        apps = json.loads(out[out.index("[") :])
        return sum(1 for a in apps if a["pm2_env"]["status"] == "online")

    try:
        pm2("start", "idle.json")
        wait_for("50 pm2 processes online", lambda: online() == 50, 60, step=0.5)
        god = psutil.Process(int((home / "pm2.pid").read_text()))
        monit = tmux.start(f"{PM2} monit", root, {"TERM": "xterm-256color", "PM2_HOME": str(home)})
        wait_for("pm2 monit", lambda: "Process List" in tmux.capture(), 30)
        time.sleep(3)
        procs = [monit, *monit.children(recursive=True)]
        m, g = CpuMeter(procs), CpuMeter([god])
        m.start()
        g.start()
        time.sleep(IDLE_SECONDS)
        idle_cpu, idle_god = m.stop(), g.stop()

        pm2("start", "flood.json")
        wait_for("the flood writer", (root / "flood.stats").exists, 15)
        title = re.compile(r"(\S+) Logs")
        selected = False
        for key in ["Up"] * 60 + ["Down"] * 60:  # monit sorts by name: flood comes first
            shown = title.search(tmux.capture())
            if shown and shown[1] == "flood":
                selected = True
                break
            tmux.keys(key)
            time.sleep(0.05)
        if not selected:
            print("warning: could not select flood in pm2 monit")
        time.sleep(3)
        rate = writer_rate(root / "flood.stats")
        m.start()
        g.start()
        pane = PaneLog()
        pane.watch(tmux, BUSY_SECONDS, lambda text: text)
        busy_cpu, busy_god = m.stop(), g.stop()
        lines_per_s = rate()
        alive = monit.is_running()
    finally:
        tmux.kill()
        with contextlib.suppress(Exception):
            subprocess.run([str(PM2), "kill"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)
    NOTES.extend(f"pm2 monit: non-consecutive lines {e}" for e in pane.examples)
    lag_med, lag_max = stats(pane.lags)
    rows += [
        Row("pm2", f"pm2 monit CPU, 50 idle, {IDLE_SECONDS:.0f} s", pct(idle_cpu, 2),
            "(vs corral idle)"),
        Row("pm2", "pm2 daemon CPU meanwhile", pct(idle_god, 2), ""),
        Row("pm2", "flood writer's real rate", f"{lines_per_s:,.0f} lines/s", "50,000"),
        Row("pm2", f"pm2 monit CPU, flood selected, {BUSY_SECONDS:.0f} s", pct(busy_cpu),
            "(vs corral busy)"),
        Row("pm2", "pm2 daemon CPU meanwhile", pct(busy_god), ""),
        Row("pm2", "monit log box lag: median / max", f"{lag_med:.2f} / {lag_max:.2f} s",
            "(vs corral lag)"),
        Row("pm2", "longest time monit's newest line stood still",
            f"{pane.longest_still:.2f} s", ""),
        Row("pm2", "captures: no flood line / non-consecutive / monit still running",
            f"{pane.empty} / {pane.gaps} of {pane.empty + len(pane.lags)} / {alive}", ""),
    ]  # fmt: skip


# --- report --------------------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    what: str
    value: str
    target: str
    ok: bool | None = None


def pct(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}% of a core"


def report(rows: list[Row]) -> None:
    w_what = max(len(r.what) for r in rows)
    w_value = max(len(r.value) for r in rows)
    print()
    print(f"{'case':5} {'figure':{w_what}} {'value':>{w_value}}  target")
    for r in rows:
        verdict = "" if r.ok is None else ("  ok" if r.ok else "  MISSED")
        print(f"{r.case:5} {r.what:{w_what}} {r.value:>{w_value}}  {r.target}{verdict}")
    for note in NOTES:
        print(f"note: {note}")
    print(
        """
busy: 4 services x 50 `sleep 3600` + flood:0 writing 1000 lines every 20 ms; the dashboard
  (`corral attach`, TERM=xterm-256color, tmux 120x40) is measured with psutil (user+system CPU
  over wall time, 100% = one core). Lag = capture time - newest write stamp visible in the log
  pane, `tmux capture-pane` every 100 ms. Key latencies: from just before `tmux send-keys` to
  the first capture (every ~5 ms) that shows the effect; the daemon's pid comes from a client
  subscription. "non-consecutive" counts adjacent flood lines on screen whose sequence numbers
  are not consecutive (lines skipped without a marker, or a drop marker between them).
idle: 50 `sleep 3600` workers, the dashboard attached and left alone.
pm2: the same 50 sleeps under pm2, `pm2 monit` in tmux 120x40; then the same flood writer as a
  51st process, selected in monit."""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pm2", action="store_true", help="leave out the pm2 comparison")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 2
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-dash-") as tmp_name:
        tmp = Path(tmp_name)
        run = tmp / "run"
        run.mkdir(mode=0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(run)  # our Client and every corral command
        env = {**os.environ, "XDG_RUNTIME_DIR": str(run)}
        busy_case(tmp, env, rows)
        idle_case(tmp, env, rows)
        if not args.skip_pm2:
            pm2_case(tmp, rows)
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
