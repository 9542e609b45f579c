"""CPU % and memory of each worker together with all its descendants, sampled on demand.

No timer: a sample is taken when someone asks (a `status`, a dashboard refresh). CPU % is the
CPU time used since the previous sample of the same process, over the wall time between them;
for a process seen for the first time it is its average since it started.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import psutil

FORGET_AFTER = 60.0  # an older previous sample says little about now


class Usage:
    __slots__ = ("cpu_percent", "memory_bytes")

    def __init__(self, cpu_percent: float, memory_bytes: int) -> None:
        self.cpu_percent = cpu_percent
        self.memory_bytes = memory_bytes


class Metrics:
    def __init__(self) -> None:
        self._previous: dict[int, tuple[float, float, float]] = {}  # pid -> (wall, cpu, created)

    def sample(self, roots: Iterable[int]) -> dict[int, Usage]:
        roots = list(roots)
        if not roots:
            return {}
        now = time.time()
        children: dict[int, list[int]] = {}
        info: dict[int, tuple[float, int, float]] = {}  # pid -> (cpu seconds, rss, create time)
        for proc in psutil.process_iter(["ppid", "cpu_times", "memory_info", "create_time"]):
            data = proc.info
            if data["cpu_times"] is None or data["memory_info"] is None:
                continue  # gone, or not ours to read
            children.setdefault(data["ppid"], []).append(proc.pid)
            cpu = data["cpu_times"]
            info[proc.pid] = (cpu.user + cpu.system, data["memory_info"].rss, data["create_time"])
        result: dict[int, Usage] = {}
        seen: dict[int, tuple[float, float, float]] = {}
        for root in roots:
            if root not in info:
                continue
            cpu_percent = 0.0
            memory = 0
            todo = [root]
            while todo:
                pid = todo.pop()
                cpu, rss, created = info[pid]
                memory += rss
                cpu_percent += self._percent(pid, now, cpu, created)
                seen[pid] = (now, cpu, created)
                todo.extend(c for c in children.get(pid, ()) if c in info)
            result[root] = Usage(round(cpu_percent, 1), memory)
        seen.update((k, v) for k, v in self._previous.items() if k < 0)  # threads' samples
        self._previous = seen
        return result

    def sample_threads(self, thread_ids: Iterable[int]) -> dict[int, float]:
        """CPU % of threads of this process (thread workers), by their kernel ids."""
        wanted = set(thread_ids)
        if not wanted:
            return {}
        now = time.time()
        created = psutil.Process().create_time()
        result = {}
        for thread in psutil.Process().threads():
            if thread.id in wanted:
                key = -thread.id  # beside the pids, in the same table of previous samples
                cpu = thread.user_time + thread.system_time
                result[thread.id] = round(self._percent(key, now, cpu, created), 1)
                self._previous[key] = (now, cpu, created)
        return result

    def _percent(self, pid: int, now: float, cpu: float, created: float) -> float:
        previous = self._previous.get(pid)
        if previous is not None and previous[2] == created and now - previous[0] < FORGET_AFTER:
            wall, cpu_before = now - previous[0], cpu - previous[1]
        else:
            wall, cpu_before = now - created, cpu
        return 100.0 * cpu_before / wall if wall > 0 else 0.0
