"""The effective configuration, after validation: what the supervisor runs from."""

from __future__ import annotations

from typing import Literal

import msgspec

RestartPolicy = Literal["always", "on-failure", "never"]
WorkerKind = Literal["process", "thread"]


class RuntimeSettings(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    log_dir: str  # absolute
    shutdown_timeout: float  # seconds
    log_max_bytes: int  # rotate a service's log file past this size
    log_backups: int  # rotated files kept: web.log.1 … web.log.N
    log_ring_lines: int  # lines kept in memory per worker


class ServiceSettings(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: WorkerKind
    # Process workers: argv before `$VAR` expansion; with shell=True it is ["/bin/sh", "-c", text].
    command: list[str] | None
    shell: bool
    target: str | None  # thread workers: "package.module:function"
    workers: int
    restart: RestartPolicy
    restart_delay: float
    restart_delay_max: float
    start_attempts: int
    ready_after: float
    stable_after: float
    stop_signal: str  # canonical name, e.g. "SIGTERM"
    stop_timeout: float
    depends_on: tuple[str, ...]
    env: dict[str, str]  # env_file values overlaid by `env`
    cwd: str  # absolute
    port: int | None

    def worker_port(self, slot: int) -> int | None:
        """A worker's own port: the public port stays free for the balancer of a later release."""
        return None if self.port is None else self.port + 1 + slot


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    path: str  # absolute path of the config file
    runtime: RuntimeSettings
    services: dict[str, ServiceSettings]  # in file order
