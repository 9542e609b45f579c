"""Find, read and validate corral.toml (or .yaml, .yml, .json) into the Settings corral runs.

Every problem becomes one line `FILE: PATH: what was expected, got what`, and validation carries
on after an error so that one run of `corral check` reports all of them.
"""

from __future__ import annotations

import difflib
import json
import keyword
import os
import re
import shlex
import tomllib
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from corral.core.configfile import ConfigError
from corral.core.configfile import one_line as _one_line
from corral.core.durations import (
    format_duration,
    format_size,
    parse_duration,
    parse_size,
    render_value,
)
from corral.core.graph import find_cycle, start_levels
from corral.core.settings import RestartPolicy, RuntimeSettings, ServiceSettings, Settings
from corral.core.signals import parse_signal

RUNTIME_KEYS = (
    "name",
    "log_dir",
    "shutdown_timeout",
    "log_max_size",
    "log_backups",
    "log_ring_lines",
)
POLICY_KEYS = (
    "workers",
    "restart",
    "restart_delay",
    "restart_delay_max",
    "start_attempts",
    "ready_after",
    "stable_after",
    "stop_signal",
    "stop_timeout",
)
SERVICE_ONLY_KEYS = ("command", "target", "shell", "depends_on", "env", "env_file", "cwd", "port")
SERVICE_KEYS = SERVICE_ONLY_KEYS + POLICY_KEYS
TOP_KEYS = ("runtime", "defaults", "services")

_RESTART_POLICIES: tuple[RestartPolicy, ...] = ("always", "on-failure", "never")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SERVICE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_WHERE = re.compile(r"(.*) \(at (?:line (\d+), column \d+|end of document)\)", re.DOTALL)

T = TypeVar("T")
_ABSENT = object()


# ---- finding and reading ------------------------------------------------------------------


def load_config(path: str) -> Settings:
    """Read and validate a config file; raises ConfigError listing every problem found."""
    abs_path = os.path.abspath(path)
    shown = _display(abs_path)
    try:
        data, errors = _read(abs_path, shown)
    except ConfigError as exc:
        raise ConfigError([_one_line(line) for line in exc.errors]) from None
    validator = _Validator(shown, abs_path)
    settings = validator.run(data)
    errors += validator.errors
    if errors or settings is None:
        raise ConfigError([_one_line(line) for line in errors])
    return settings


def _read(abs_path: str, shown: str) -> tuple[object, list[str]]:
    """The decoded document and the duplicate-key errors found while parsing it."""
    try:
        with open(abs_path, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        raise ConfigError([f"{shown}: no such file"]) from None
    except OSError as exc:
        raise ConfigError([f"{shown}: cannot read: {exc.strerror or exc}"]) from None
    if raw.startswith(b"\xef\xbb\xbf"):  # editors on Windows add a byte order mark
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start]
        raise ConfigError([f"{shown}: line {line}: not valid UTF-8 (byte 0x{bad:02x})"]) from None
    if not text.strip():
        raise ConfigError([f"{shown}: the file is empty; define at least one service"])
    extension = os.path.splitext(abs_path)[1].lower()
    try:
        if extension in (".yaml", ".yml"):
            from corral.core.config_yaml import parse_yaml  # PyYAML only when needed

            return parse_yaml(text, shown)
        if extension == ".json":
            return _parse_json(text, shown)
        return _parse_toml(text, shown), []
    except RecursionError:
        raise ConfigError([f"{shown}: values are nested too deeply"]) from None


def _number_error(shown: str, exc: ValueError) -> ConfigError:
    # The parsers' own int() refuses numbers with thousands of digits.
    if "integer string conversion" in str(exc):
        return ConfigError([f"{shown}: a number has too many digits"])
    return ConfigError([f"{shown}: {exc}"])


def _parse_toml(text: str, shown: str) -> object:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_WHERE.fullmatch(str(exc))
        if match is None:
            raise ConfigError([f"{shown}: {exc}"]) from None
        line = match[2] or str(len(text.splitlines()) or 1)
        raise ConfigError([f"{shown}: line {line}: {match[1]}"]) from None
    except ValueError as exc:
        raise _number_error(shown, exc) from None


def _defined(lines: list[int]) -> str:
    times = "twice" if len(lines) == 2 else f"{len(lines)} times"
    distinct = sorted(set(lines))  # a flow mapping can repeat a key on one line
    if len(distinct) == 1:
        return f"defined {times} (line {distinct[0]})"
    shown = ", ".join(map(str, distinct[:-1])) + f" and {distinct[-1]}"
    return f"defined {times} (lines {shown})"


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers how often each repeated key appeared."""

    repeated: dict[str, int]


def _json_object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject()
    counts: dict[str, int] = {}
    for key, value in pairs:
        counts[key] = counts.get(key, 0) + 1
        result[key] = value
    result.repeated = {key: count for key, count in counts.items() if count > 1}
    return result


def _parse_json(text: str, shown: str) -> tuple[object, list[str]]:
    try:
        data = json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{shown}: line {exc.lineno}: {exc.msg}"]) from None
    except ValueError as exc:
        raise _number_error(shown, exc) from None
    errors: list[str] = []
    stack: list[tuple[object, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _JsonObject):
            for key, count in value.repeated.items():
                times = "twice" if count == 2 else f"{count} times"
                errors.append(f"{shown}: {_join(path, key)}: defined {times}")
            stack.extend((item, _join(path, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return data, errors


# ---- validation ---------------------------------------------------------------------------


class _Policy(msgspec.Struct, kw_only=True):
    """The keys a service inherits from [defaults], with corral's own defaults."""

    workers: int = 1
    restart: RestartPolicy = "on-failure"
    restart_delay: float = 0.5
    restart_delay_max: float = 30.0
    start_attempts: int = 5
    ready_after: float = 1.0
    stable_after: float = 30.0
    stop_signal: str = "SIGTERM"
    stop_timeout: float = 10.0


def _integer(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise ValueError(f"expected an integer from {low} to {high}, got {render_value(value)}")

    return parse


def _restart(value: object) -> RestartPolicy:
    for policy in _RESTART_POLICIES:
        if value == policy:
            return policy
    message = f'expected "always", "on-failure" or "never", got {render_value(value)}'
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), _RESTART_POLICIES, n=1)
        if close:
            message += f'; did you mean "{close[0]}"?'
    raise ValueError(message)


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {render_value(value)}")


def _text(value: object) -> str:
    if isinstance(value, str) and value.strip() and "\0" not in value:
        return value
    raise ValueError(f"expected a non-empty string, got {render_value(value)}")


def _target(value: object) -> str:
    if isinstance(value, str):
        module, colon, function = value.partition(":")
        names = [*module.split("."), *function.split(".")]
        if colon and all(name.isidentifier() and not keyword.iskeyword(name) for name in names):
            return value
    raise ValueError(f'expected "package.module:function", got {render_value(value)}')


_POLICY_PARSERS: dict[str, Callable[[object], object]] = {
    "workers": _integer(1, 10_000),
    "restart": _restart,
    "restart_delay": parse_duration,
    "restart_delay_max": parse_duration,
    "start_attempts": _integer(1, 1000),
    "ready_after": parse_duration,
    "stable_after": parse_duration,
    "stop_signal": parse_signal,
    "stop_timeout": parse_duration,
}

# Keys written in the wrong section get a pointer to the right one instead of "unknown key".
_MISPLACED: dict[str, dict[str, str]] = {
    "": {
        **{key: "belongs in runtime" for key in RUNTIME_KEYS},
        **{key: "belongs in defaults or a service" for key in POLICY_KEYS},
        **{key: "belongs in a service, under services.ID" for key in SERVICE_ONLY_KEYS},
    },
    "runtime": {
        **{key: "belongs in defaults or a service, not runtime" for key in POLICY_KEYS},
        **{key: "belongs in a service, not runtime" for key in SERVICE_ONLY_KEYS},
    },
    "defaults": {
        **{key: "belongs in runtime, not defaults" for key in RUNTIME_KEYS},
        **{key: "cannot be a default; set it in each service" for key in SERVICE_ONLY_KEYS},
    },
    "service": {key: "belongs in runtime, not a service" for key in RUNTIME_KEYS},
}


class _Validator:
    """Checks a decoded document, recording every problem in `errors`."""

    def __init__(self, shown: str, config_path: str) -> None:
        self.shown = shown
        self.path = config_path
        self.dir = os.path.dirname(config_path)
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(
            f"{self.shown}: {where}: {message}" if where else f"{self.shown}: {message}"
        )

    def parse(self, where: str, parser: Callable[[object], T], value: object, fallback: T) -> T:
        try:
            return parser(value)
        except ValueError as exc:
            self.error(where, str(exc))
            return fallback

    def table(self, where: str, value: object, what: str = "a table") -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(where, f"expected {what}, got {render_value(value)}")
        return None

    def known(
        self, where: str, table: dict[Any, Any], allowed: tuple[str, ...], section: str
    ) -> dict[str, object]:
        """The entries of `table` with allowed keys; an error for every other key."""
        result: dict[str, object] = {}
        for key, value in table.items():
            if isinstance(key, str) and key in allowed:
                result[key] = value
                continue
            path = _join(where, key)
            hint = _MISPLACED[section].get(key) if isinstance(key, str) else None
            if hint is not None:
                self.error(path, hint)
            elif section == "" and isinstance(value, dict) and {"command", "target"} & set(value):
                self.error(path, f"unknown key; did you mean services.{_key(key)}?")
            else:
                close = difflib.get_close_matches(key, allowed, n=1) if isinstance(key, str) else []
                self.error(
                    path,
                    f"unknown key; did you mean {close[0]}?"
                    if close
                    else "unknown key; expected one of: " + ", ".join(sorted(allowed)),
                )
        return result

    def run(self, data: object) -> Settings | None:
        if data is None:
            self.error("", "the file is empty; define at least one service")
            return None
        if not isinstance(data, dict):
            self.error("", f"expected a table at the top level, got {render_value(data)}")
            return None
        top = self.known("", data, TOP_KEYS, "")
        runtime = self.runtime(top.get("runtime", {}))
        defaults_table = self.table("defaults", top.get("defaults", {})) or {}
        defaults = self.policy(
            "defaults", self.known("defaults", defaults_table, POLICY_KEYS, "defaults"), _Policy()
        )
        services = self.services(top.get("services", _ABSENT), defaults)
        if self.errors:
            return None
        return Settings(path=self.path, runtime=runtime, services=services)

    def runtime(self, value: object) -> RuntimeSettings:
        table = self.known("runtime", self.table("runtime", value) or {}, RUNTIME_KEYS, "runtime")

        def get(key: str, parser: Callable[[object], T], fallback: T) -> T:
            if key not in table:
                return fallback
            return self.parse(f"runtime.{key}", parser, table[key], fallback)

        name = get("name", _text, os.path.basename(self.dir) or "corral")
        log_dir = self.resolve(get("log_dir", _text, ".corral/logs"))
        shutdown_timeout = get("shutdown_timeout", parse_duration, 30.0)
        log_max_bytes = get("log_max_size", parse_size, 50_000_000)
        if log_max_bytes < 1024:
            raw = table["log_max_size"]
            got = f"{render_value(raw)} ({log_max_bytes} bytes)" if isinstance(raw, str) else raw
            self.error("runtime.log_max_size", f"expected at least 1024 bytes, got {got}")
        return RuntimeSettings(
            name=name,
            log_dir=log_dir,
            shutdown_timeout=shutdown_timeout,
            log_max_bytes=log_max_bytes,
            log_backups=get("log_backups", _integer(0, 1000), 5),
            log_ring_lines=get("log_ring_lines", _integer(10, 1_000_000), 2000),
        )

    def resolve(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.dir, path))

    def policy(self, where: str, table: dict[str, object], base: _Policy) -> _Policy:
        """`base` with the valid policy keys of `table` applied."""
        changes: dict[str, object] = {}
        for key in POLICY_KEYS:
            if key in table:
                try:
                    changes[key] = _POLICY_PARSERS[key](table[key])
                except ValueError as exc:
                    self.error(f"{where}.{key}", str(exc))
        policy = msgspec.structs.replace(base, **changes)
        if policy.restart_delay_max < policy.restart_delay:
            delay, most = (
                format_duration(policy.restart_delay),
                format_duration(policy.restart_delay_max),
            )
            if "restart_delay_max" in changes:
                self.error(
                    f"{where}.restart_delay_max",
                    f"must be at least restart_delay ({delay}), got {most}",
                )
            elif "restart_delay" in changes:
                self.error(
                    f"{where}.restart_delay",
                    f"must be at most restart_delay_max ({most}), got {delay}",
                )
            # Reported once here, not again for every service that inherits it.
            policy = msgspec.structs.replace(policy, restart_delay_max=policy.restart_delay)
        return policy

    def services(self, value: object, defaults: _Policy) -> dict[str, ServiceSettings]:
        if value is _ABSENT:
            self.error(
                "services", "missing; define at least one service, e.g. services.web with a command"
            )
            return {}
        table = self.table("services", value, "a table of services")
        if table is None:
            return {}
        if not table:
            self.error("services", "empty; define at least one service")
            return {}
        ids = sorted(key for key in table if isinstance(key, str))
        result: dict[str, ServiceSettings] = {}
        for sid, body in table.items():
            where = _join("services", sid)
            self.service_id(where, sid)
            service = self.service(where, sid, body, defaults, ids)
            if service is not None and isinstance(sid, str):
                result[sid] = service
        self.cycles(result)
        self.ports(result)
        return result

    def service_id(self, where: str, sid: object) -> None:
        if not isinstance(sid, str):
            self.error(where, f"expected a service id (a string), got {render_value(sid)}")
        elif sid == "":
            self.error(where, "a service id cannot be empty")
        elif sid == "all":
            self.error(
                where, '"all" is reserved for the command line (corral stop all); choose another id'
            )
        elif not _SERVICE_ID.fullmatch(sid):
            self.error(
                where,
                "a service id is made of letters, digits, '_' and '-', and does not start with '-'",
            )

    def service(
        self, where: str, sid: object, body: object, defaults: _Policy, ids: list[str]
    ) -> ServiceSettings | None:
        table = self.table(where, body)
        if table is None:
            return None
        known = self.known(where, table, SERVICE_KEYS, "service")
        policy = self.policy(where, {k: v for k, v in known.items() if k in POLICY_KEYS}, defaults)
        shell = (
            self.parse(f"{where}.shell", _boolean, known["shell"], False)
            if ("shell" in known)
            else False
        )
        has_command, has_target = "command" in known, "target" in known
        if has_command == has_target:
            which = "both command and target" if has_command else "neither command nor target"
            self.error(where, f"has {which}; a service has exactly one")
        command = (
            self.command(f"{where}.command", known["command"], shell) if (has_command) else None
        )
        target = (
            self.parse(f"{where}.target", _target, known["target"], None) if (has_target) else None
        )
        if shell and has_target and not has_command:
            self.error(f"{where}.shell", "applies to a command, not to a target")
        elif shell and has_command and not isinstance(known["command"], str):
            self.error(f"{where}.shell", "needs the command as one string, got a list")
        env: dict[str, str] = {}
        if "env_file" in known:
            env.update(self.env_file(f"{where}.env_file", known["env_file"]))
        if "env" in known:
            env.update(self.env(f"{where}.env", known["env"]))
        return ServiceSettings(
            id=sid if isinstance(sid, str) else "",
            kind="thread" if has_target and not has_command else "process",
            command=command,
            shell=shell,
            target=target,
            workers=policy.workers,
            restart=policy.restart,
            restart_delay=policy.restart_delay,
            restart_delay_max=policy.restart_delay_max,
            start_attempts=policy.start_attempts,
            ready_after=policy.ready_after,
            stable_after=policy.stable_after,
            stop_signal=policy.stop_signal,
            stop_timeout=policy.stop_timeout,
            depends_on=self.depends_on(f"{where}.depends_on", known["depends_on"], ids)
            if ("depends_on" in known)
            else (),
            env=env,
            cwd=self.cwd(f"{where}.cwd", known["cwd"]) if "cwd" in known else self.dir,
            port=self.parse(f"{where}.port", _integer(1, 65535), known["port"], None)
            if ("port" in known)
            else None,
        )

    def command(self, where: str, value: object, shell: bool) -> list[str] | None:
        if isinstance(value, str):
            if not value.strip() or "\0" in value:
                self.error(where, f"expected a non-empty command, got {render_value(value)}")
                return None
            if shell:
                return ["/bin/sh", "-c", value]
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                self.error(where, f"cannot split into arguments: {str(exc).lower()}")
                return None
            if not argv[0]:
                self.error(where, f"the program to run is empty in {render_value(value)}")
                return None
            return argv
        if not isinstance(value, list) or not value:
            self.error(
                where,
                "expected a string or a non-empty list of strings, got " + render_value(value),
            )
            return None
        ok = True
        for index, item in enumerate(value):
            if not isinstance(item, str) or "\0" in item or (index == 0 and not item):
                what = "the program to run" if index == 0 else "a string"
                self.error(f"{where}[{index}]", f"expected {what}, got {render_value(item)}")
                ok = False
        return list(value) if ok else None

    def depends_on(self, where: str, value: object, ids: list[str]) -> tuple[str, ...]:
        if not isinstance(value, list):
            hint = f'; write ["{value}"]' if isinstance(value, str) else ""
            self.error(where, f"expected a list of service ids, got {render_value(value)}{hint}")
            return ()
        result: list[str] = []
        for index, dep in enumerate(value):
            if not isinstance(dep, str):
                self.error(f"{where}[{index}]", f"expected a service id, got {render_value(dep)}")
            elif dep not in ids:
                self.error(where, f'unknown service "{dep}"; services are: {", ".join(ids)}')
            elif dep not in result:
                result.append(dep)
        return tuple(result)

    def env(self, where: str, value: object) -> dict[str, str]:
        table = self.table(where, value, "a table of strings")
        result: dict[str, str] = {}
        for key, item in (table or {}).items():
            path = _join(where, key)
            if not isinstance(key, str) or not key or "=" in key or "\0" in key:
                self.error(path, "expected a variable name without '=', got " + render_value(key))
                continue
            text: str | None = None
            if isinstance(item, bool):
                text = "true" if item else "false"
            elif isinstance(item, float) or (isinstance(item, int) and item.bit_length() <= 128):
                text = str(item)
            elif isinstance(item, str) and "\0" not in item:
                text = item
            if text is None:
                self.error(path, f"expected a string, number or boolean, got {render_value(item)}")
            else:
                result[key] = text
        return result

    def env_file(self, where: str, value: object) -> dict[str, str]:
        name = self.parse(where, _text, value, None)
        if name is None:
            return {}
        path = self.resolve(name)
        shown = _display(path)
        if os.path.exists(path) and not os.path.isfile(path):
            self.error(where, f"not a file: {shown}")
            return {}
        try:
            with open(path, "rb") as file:
                raw = file.read()
        except FileNotFoundError:
            self.error(where, f"no such file: {shown}")
            return {}
        except OSError as exc:
            self.error(where, f"cannot read {shown}: {exc.strerror or exc}")
            return {}
        result: dict[str, str] = {}
        for number, line in enumerate(raw.split(b"\n"), start=1):
            try:
                entry = _env_line(line.decode("utf-8"))
            except UnicodeDecodeError:
                self.error(where, f"{shown}, line {number}: not valid UTF-8")
                continue
            except ValueError as exc:
                self.error(where, f"{shown}, line {number}: {exc}")
                continue
            if entry is not None:
                result[entry[0]] = entry[1]
        return result

    def cwd(self, where: str, value: object) -> str:
        name = self.parse(where, _text, value, None)
        if name is None:
            return self.dir
        path = self.resolve(name)
        if not os.path.isdir(path):
            what = "not a directory" if os.path.exists(path) else "no such directory"
            self.error(where, f"{what}: {_display(path)}")
        return path

    def cycles(self, services: dict[str, ServiceSettings]) -> None:
        deps = {sid: service.depends_on for sid, service in services.items()}
        while (cycle := find_cycle(deps)) is not None:
            self.error("services", "dependency cycle " + " -> ".join(cycle))
            for sid in cycle:
                deps.pop(sid, None)

    def ports(self, services: dict[str, ServiceSettings]) -> None:
        taken: list[tuple[int, int, str]] = []
        for sid, service in services.items():
            if service.port is None:
                continue
            where = f"{_join('services', sid)}.port"
            low, high = service.port, service.port + service.workers
            if high > 65535:
                self.error(
                    where,
                    f"its {service.workers} workers need ports {low + 1}-{high}, "
                    "past the highest port 65535",
                )
                continue
            for other_low, other_high, other in taken:
                if low <= other_high and other_low <= high:
                    self.error(
                        where,
                        f"ports {low}-{high} overlap ports {other_low}-{other_high} "
                        f"of {other} (a service takes its port plus one per worker)",
                    )
                    break
            taken.append((low, high, sid))


def _env_line(line: str) -> tuple[str, str] | None:
    """KEY and VALUE from a line of an env file, None for blanks and comments."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("export ") or text.startswith("export\t"):
        text = text[len("export") :].lstrip()
    key, equals, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not equals or not _ENV_NAME.fullmatch(key) or "\0" in value:
        raise ValueError(f"expected KEY=VALUE, got {render_value(line)}")
    if value[:1] in ("'", '"'):
        if len(value) < 2 or value[-1] != value[0]:
            raise ValueError(f"unbalanced quote in {render_value(line)}")
        value = value[1:-1]
    return key, value


# ---- paths and lines --------------------------------------------------------------------


def _display(path: str) -> str:
    """A path as messages show it: relative to the current directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except (OSError, ValueError):
        return path
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return path
    return relative


def _key(key: object) -> str:
    if isinstance(key, str):
        return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return render_value(key)


def _join(path: str, key: object) -> str:
    return f"{path}.{_key(key)}" if path else _key(key)


# ---- corral check -------------------------------------------------------------------------


def describe(settings: Settings) -> str:
    """The effective configuration as `corral check` prints it."""
    runtime = settings.runtime
    levels = start_levels({sid: s.depends_on for sid, s in settings.services.items()})
    lines = [
        f"config   {settings.path}",
        f"runtime  name={runtime.name} shutdown_timeout="
        f"{format_duration(runtime.shutdown_timeout)} log_dir={runtime.log_dir}",
        f"         log_max_size={format_size(runtime.log_max_bytes)} "
        f"log_backups={runtime.log_backups} log_ring_lines={runtime.log_ring_lines}",
        "start    "
        + " | ".join(f"{n}: {', '.join(level)}" for n, level in enumerate(levels, start=1)),
    ]
    for service in settings.services.values():
        lines += ["", *_describe_service(service)]
    return "\n".join(_one_line(line) for line in lines) + "\n"


def _describe_service(service: ServiceSettings) -> list[str]:
    workers = "1 worker" if service.workers == 1 else f"{service.workers} workers"
    if service.target is not None:
        run = f"target          {service.target}"
    elif service.shell and service.command is not None:
        run = f"command         (shell) {service.command[-1]}"
    else:
        run = "command         " + " ".join(_quote(arg) for arg in service.command or [])
    port = "-"
    if service.port is not None:
        first, last = service.port + 1, service.port + service.workers
        port = f"{service.port} (workers {first}" + (f"-{last})" if last > first else ")")
    lines = [
        f"[{service.id}] {service.kind}, {workers}",
        f"  {run}",
        f"  restart         {service.restart}, restart_delay="
        f"{format_duration(service.restart_delay)} restart_delay_max="
        f"{format_duration(service.restart_delay_max)} start_attempts={service.start_attempts}",
        f"  readiness       ready_after={format_duration(service.ready_after)} "
        f"stable_after={format_duration(service.stable_after)}",
        f"  stop            stop_signal={service.stop_signal} "
        f"stop_timeout={format_duration(service.stop_timeout)}",
        f"  depends_on      {', '.join(service.depends_on) or '-'}",
        f"  port            {port}",
        f"  cwd             {service.cwd}",
    ]
    if service.env:
        lines.append(f"  env             {', '.join(service.env)} (values not shown)")
    return lines


def _quote(arg: str) -> str:
    # Quote only what a reader would misread; `$PORT` stays bare since corral expands it itself.
    return shlex.quote(arg) if not arg or re.search(r"[\s'\"\\]", arg) else arg
