"""Loading and validating corral.toml / .yaml / .json: effective values and exact error lines."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from corral.core.config import describe, load_config
from corral.core.configfile import ConfigError, find_config
from corral.core.settings import Settings

Write = Callable[..., str]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Writes a config into a fresh current directory and returns the name to load it by."""
    monkeypatch.chdir(tmp_path)

    def write_file(text: str | bytes, name: str = "corral.toml") -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return name

    return write_file


def errors(name: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(name)
    for line in info.value.errors:
        assert line and "\n" not in line and line.isprintable()
    return info.value.errors


def only_error(name: str) -> str:
    found = errors(name)
    assert len(found) == 1, found
    return found[0]


WEB = '[services.web]\ncommand = "serve"\n'


# ---- a valid config ------------------------------------------------------------------------


DESIGN_EXAMPLE = """\
    [runtime]
    name = "shop"
    log_dir = ".corral/logs"
    shutdown_timeout = "30s"

    [defaults]
    workers = 1
    restart = "on-failure"
    restart_delay = "500ms"
    restart_delay_max = "30s"
    start_attempts = 5
    ready_after = "1s"
    stable_after = "30s"
    stop_signal = "SIGTERM"
    stop_timeout = "10s"

    [services.db]
    command = ["redis-server", "--port", "6390"]

    [services.web]
    command = "python -m http.server $PORT"
    workers = 3
    depends_on = ["db"]
    env = { DEBUG = "1" }
    env_file = ".env"
    cwd = "web"
    port = 8000

    [services.jobs]
    target = "app.jobs:run"
    workers = 4
"""


def test_design_example(write: Write, tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / ".env").write_text("DEBUG=0\nTOKEN=abc\n")
    settings = load_config(write(DESIGN_EXAMPLE))
    assert settings.path == str(tmp_path / "corral.toml")
    assert settings.runtime.name == "shop"
    assert settings.runtime.log_dir == str(tmp_path / ".corral" / "logs")
    assert settings.runtime.shutdown_timeout == 30.0
    assert list(settings.services) == ["db", "web", "jobs"]
    db, web, jobs = settings.services.values()
    assert db.kind == "process" and db.command == ["redis-server", "--port", "6390"]
    assert db.cwd == str(tmp_path) and db.port is None and db.depends_on == ()
    assert web.command == ["python", "-m", "http.server", "$PORT"] and not web.shell
    assert web.workers == 3 and web.depends_on == ("db",) and web.port == 8000
    assert web.worker_port(2) == 8003
    assert web.env == {"DEBUG": "1", "TOKEN": "abc"}  # `env` wins over env_file
    assert web.cwd == str(tmp_path / "web")
    assert jobs.kind == "thread" and jobs.target == "app.jobs:run" and jobs.command is None
    assert jobs.workers == 4


def test_defaults_when_nothing_is_set(write: Write, tmp_path: Path) -> None:
    settings = load_config(write(WEB))
    runtime = settings.runtime
    assert runtime.name == tmp_path.name
    assert runtime.log_dir == str(tmp_path / ".corral" / "logs")
    assert (runtime.shutdown_timeout, runtime.log_max_bytes) == (30.0, 50_000_000)
    assert (runtime.log_backups, runtime.log_ring_lines) == (5, 2000)
    web = settings.services["web"]
    assert (web.workers, web.restart, web.start_attempts) == (1, "on-failure", 5)
    assert (web.restart_delay, web.restart_delay_max) == (0.5, 30.0)
    assert (web.ready_after, web.stable_after) == (1.0, 30.0)
    assert (web.stop_signal, web.stop_timeout) == ("SIGTERM", 10.0)
    assert web.env == {} and web.port is None and web.target is None


def test_defaults_apply_and_services_override(write: Write) -> None:
    name = write("""\
        [defaults]
        workers = 2
        restart = "always"
        stop_signal = "int"
        restart_delay = 1

        [services.a]
        command = "a"

        [services.b]
        command = "b"
        workers = 5
        stop_signal = "SIGQUIT"
        restart_delay_max = "1m"
    """)
    a, b = load_config(name).services.values()
    assert (a.workers, a.restart, a.stop_signal, a.restart_delay) == (2, "always", "SIGINT", 1.0)
    assert (b.workers, b.stop_signal, b.restart_delay_max) == (5, "SIGQUIT", 60.0)


def test_runtime_values(write: Write) -> None:
    name = write(
        """\
        [runtime]
        log_dir = "/var/log/shop"
        log_max_size = "1MiB"
        log_backups = 0
        log_ring_lines = 10
        shutdown_timeout = "1m30s"
    """
        + WEB
    )
    runtime = load_config(name).runtime
    assert runtime.log_dir == "/var/log/shop"
    assert (runtime.log_max_bytes, runtime.log_backups, runtime.log_ring_lines) == (1048576, 0, 10)
    assert runtime.shutdown_timeout == 90.0


def test_shell_command(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "echo 'a b' && sleep 1"
        shell = true
    """)
    web = load_config(name).services["web"]
    assert web.shell and web.command == ["/bin/sh", "-c", "echo 'a b' && sleep 1"]


def test_string_command_is_split_like_a_shell(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "run --name 'a b' \\"c d\\" e\\\\ f"
    """)
    assert load_config(name).services["web"].command == ["run", "--name", "a b", "c d", "e f"]


def test_env_values_become_strings(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "x"
        env = { A = "a", B = 2, C = 1.5, D = true, E = false, "my.var" = "" }
    """)
    env = load_config(name).services["web"].env
    assert env == {"A": "a", "B": "2", "C": "1.5", "D": "true", "E": "false", "my.var": ""}


def test_env_file_syntax(write: Write, tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "app.env").write_text(
        textwrap.dedent("""\
        # a comment

        PLAIN=value
        export EXPORTED=1
          SPACED = padded value
        DOUBLE="a # b"
        SINGLE='it is'
        EMPTY=
        EQUALS=a=b
        PLAIN=second wins
    """)
    )
    name = write('[services.web]\ncommand = "x"\nenv_file = "conf/app.env"\n')
    assert load_config(name).services["web"].env == {
        "PLAIN": "second wins",
        "EXPORTED": "1",
        "SPACED": "padded value",
        "DOUBLE": "a # b",
        "SINGLE": "it is",
        "EMPTY": "",
        "EQUALS": "a=b",
    }


def test_config_in_another_directory(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "web").mkdir(parents=True)
    (project / "corral.yaml").write_text("services:\n  web:\n    command: x\n    cwd: web\n")
    settings = load_config(str(project / "corral.yaml"))
    assert settings.services["web"].cwd == str(project / "web")
    assert settings.runtime.name == "proj"


def test_yaml_and_json_give_the_same_settings(write: Write) -> None:
    toml = load_config(
        write("""\
        [defaults]
        restart = "never"
        [services.db]
        command = ["db", "-v"]
        [services.web]
        command = "web"
        depends_on = ["db"]
        port = 8000
        workers = 2
    """)
    )
    yaml = load_config(
        write(
            """\
        defaults:
          restart: never
        services:
          db:
            command: [db, -v]
          web:
            command: web
            depends_on: [db]
            port: 8000
            workers: 2
    """,
            "corral.yaml",
        )
    )
    json = load_config(
        write(
            """\
        {"defaults": {"restart": "never"},
         "services": {"db": {"command": ["db", "-v"]},
                      "web": {"command": "web", "depends_on": ["db"], "port": 8000,
                              "workers": 2}}}
    """,
            "corral.json",
        )
    )

    def strip_path(settings: Settings) -> object:
        return settings.runtime, settings.services

    assert strip_path(toml) == strip_path(yaml) == strip_path(json)


def test_yaml_merge_keys_may_be_overridden(write: Write) -> None:
    name = write(
        """\
        base: &base
          command: x
          workers: 2
        services:
          web:
            <<: *base
            workers: 3
    """,
        "corral.yml",
    )
    assert errors(name) == ["corral.yml: base: unknown key; did you mean services.base?"]
    name = write(
        """\
        services:
          web: &base
            command: x
            workers: 2
          api:
            <<: *base
            workers: 3
    """,
        "corral.yml",
    )
    assert load_config(name).services["api"].workers == 3


def test_byte_order_mark_is_accepted(write: Write) -> None:
    name = write(b"\xef\xbb\xbf" + WEB.encode())
    assert list(load_config(name).services) == ["web"]


# ---- error lines, one per problem ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0", "0"),
        ("-1", "-1"),
        ("1.5", "1.5"),
        ('"abc"', "'abc'"),
        ("10001", "10001"),
        ("true", "true"),
        ("[]", "an empty list"),
    ],
)
def test_workers_out_of_range(write: Write, value: str, shown: str) -> None:
    name = write(WEB + f"workers = {value}\n")
    assert only_error(name) == (
        f"corral.toml: services.web.workers: expected an integer from 1 to 10000, got {shown}"
    )


def test_unknown_key_with_suggestion(write: Write) -> None:
    name = write(WEB + 'restart_dealy = "1s"\n')
    assert only_error(name) == (
        "corral.toml: services.web.restart_dealy: unknown key; did you mean restart_delay?"
    )


def test_unknown_key_without_suggestion(write: Write) -> None:
    name = write(WEB + "zzz = 1\n")
    assert only_error(name) == (
        "corral.toml: services.web.zzz: unknown key; expected one of: command, cwd, depends_on, "
        "env, env_file, port, ready_after, restart, restart_delay, restart_delay_max, shell, "
        "stable_after, start_attempts, stop_signal, stop_timeout, target, workers"
    )


def test_unknown_keys_in_every_section(write: Write) -> None:
    name = write(
        """\
        servics = 1
        [runtime]
        nmae = "x"
        [defaults]
        worker = 2
    """
        + WEB
    )
    assert errors(name) == [
        "corral.toml: servics: unknown key; did you mean services?",
        "corral.toml: runtime.nmae: unknown key; did you mean name?",
        "corral.toml: defaults.worker: unknown key; did you mean workers?",
    ]


def test_keys_in_the_wrong_section(write: Write) -> None:
    name = write(
        """\
        workers = 2
        [runtime]
        stop_timeout = "1s"
        [defaults]
        command = "x"
        log_dir = "logs"
        [web]
        command = "x"
    """
        + WEB
        + "log_backups = 3\n"
    )
    assert errors(name) == [
        "corral.toml: workers: belongs in defaults or a service",
        "corral.toml: web: unknown key; did you mean services.web?",
        "corral.toml: runtime.stop_timeout: belongs in defaults or a service, not runtime",
        "corral.toml: defaults.command: cannot be a default; set it in each service",
        "corral.toml: defaults.log_dir: belongs in runtime, not defaults",
        "corral.toml: services.web.log_backups: belongs in runtime, not a service",
    ]


def test_wrong_types(write: Write) -> None:
    name = write("""\
        runtime = 3
        [services.web]
        command = 5
        env = ["A=1"]
        shell = "yes"
        depends_on = "db"
        [services.db]
        command = []
        [services.jobs]
        target = "app.jobs"
        [services.api]
        target = "app.jobs:"
    """)
    assert errors(name) == [
        "corral.toml: runtime: expected a table, got 3",
        "corral.toml: services.web.shell: expected true or false, got 'yes'",
        "corral.toml: services.web.command: expected a string or a non-empty list of strings, "
        "got 5",
        "corral.toml: services.web.env: expected a table of strings, got a list",
        "corral.toml: services.web.depends_on: expected a list of service ids, got 'db'; "
        'write ["db"]',
        "corral.toml: services.db.command: expected a string or a non-empty list of strings, "
        "got an empty list",
        "corral.toml: services.jobs.target: expected \"package.module:function\", got 'app.jobs'",
        "corral.toml: services.api.target: expected \"package.module:function\", got 'app.jobs:'",
    ]


def test_bad_command_parts(write: Write) -> None:
    name = write("""\
        [services.a]
        command = ["", "x"]
        [services.b]
        command = ["run", 3, ["x"]]
        [services.c]
        command = "   "
        [services.d]
        command = "echo 'unbalanced"
        [services.e]
        command = ["x"]
        shell = true
        [services.f]
        target = "m:f"
        shell = true
    """)
    assert errors(name) == [
        "corral.toml: services.a.command[0]: expected the program to run, got ''",
        "corral.toml: services.b.command[1]: expected a string, got 3",
        "corral.toml: services.b.command[2]: expected a string, got a list",
        "corral.toml: services.c.command: expected a non-empty command, got '   '",
        "corral.toml: services.d.command: cannot split into arguments: no closing quotation",
        "corral.toml: services.e.shell: needs the command as one string, got a list",
        "corral.toml: services.f.shell: applies to a command, not to a target",
    ]


def test_command_and_target(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "x"
        target = "a.b:c"
        [services.db]
        workers = 2
    """)
    assert errors(name) == [
        "corral.toml: services.web: has both command and target; a service has exactly one",
        "corral.toml: services.db: has neither command nor target; a service has exactly one",
    ]


def test_bad_env_entries(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "x"
        env = { A = [1], B = { c = 1 }, "C=D" = "x", "" = "y", E = 2024-01-01 }
    """)
    assert errors(name) == [
        "corral.toml: services.web.env.A: expected a string, number or boolean, got a list",
        "corral.toml: services.web.env.B: expected a string, number or boolean, got a table",
        "corral.toml: services.web.env.\"C=D\": expected a variable name without '=', got 'C=D'",
        "corral.toml: services.web.env.\"\": expected a variable name without '=', got ''",
        "corral.toml: services.web.env.E: expected a string, number or boolean, got a date",
    ]


def test_unknown_dependency(write: Write) -> None:
    name = write("""\
        [services.db]
        command = "db"
        [services.web]
        command = "web"
        depends_on = ["dbb", 7]
        [services.jobs]
        target = "a.b:c"
    """)
    assert errors(name) == [
        'corral.toml: services.web.depends_on: unknown service "dbb"; services are: db, jobs, web',
        "corral.toml: services.web.depends_on[1]: expected a service id, got 7",
    ]


def test_dependency_cycle(write: Write) -> None:
    name = write("""\
        [services.a]
        command = "a"
        depends_on = ["b"]
        [services.b]
        command = "b"
        depends_on = ["a"]
    """)
    assert only_error(name) == "corral.toml: services: dependency cycle a -> b -> a"


def test_every_cycle_is_reported(write: Write) -> None:
    name = write("""\
        [services.x]
        command = "x"
        depends_on = ["x"]
        [services.c]
        command = "c"
        depends_on = ["d"]
        [services.d]
        command = "d"
        depends_on = ["e"]
        [services.e]
        command = "e"
        depends_on = ["c", "x"]
    """)
    assert errors(name) == [
        "corral.toml: services: dependency cycle x -> x",
        "corral.toml: services: dependency cycle c -> d -> e -> c",
    ]


def test_yaml_duplicate_service(write: Write) -> None:
    name = write(
        """\
        services:
          db:
            command: db
          web:
            command: a
          jobs:
            target: a.b:c
          web:
            command: b
    """,
        "corral.yaml",
    )
    assert only_error(name) == "corral.yaml: services.web: defined twice (lines 4 and 8)"


def test_yaml_duplicates_at_every_level(write: Write) -> None:
    name = write(
        """\
        services:
          web:
            command: a
            workers: 2
            workers: 3
            workers: 4
            env: {A: 1, A: 2}
        services:
          db:
            command: b
    """,
        "corral.yaml",
    )
    assert errors(name) == [
        "corral.yaml: services: defined twice (lines 1 and 8)",
        "corral.yaml: services.web.workers: defined 3 times (lines 4, 5 and 6)",
        "corral.yaml: services.web.env.A: defined twice (line 7)",
    ]


def test_json_duplicates(write: Write) -> None:
    name = write(
        """\
        {"services": {"web": {"command": "a"},
                      "web": {"command": "b", "env": {"A": "1", "A": "2", "A": "3"}}}}
    """,
        "corral.json",
    )
    assert errors(name) == [
        "corral.json: services.web: defined twice",
        "corral.json: services.web.env.A: defined 3 times",
    ]


def test_toml_duplicate_is_a_parse_error(write: Write) -> None:
    name = write(WEB + WEB)
    assert only_error(name) == "corral.toml: line 3: Cannot declare ('services', 'web') twice"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "restart_delay",
            '"5 parsecs"',
            "expected a duration like 500ms, 2s or 1m, got '5 parsecs'",
        ),
        ("stop_timeout", "-1", "expected a duration like 500ms, 2s or 1m, got -1"),
        ("ready_after", "nan", "expected a duration like 500ms, 2s or 1m, got nan"),
        (
            "stop_signal",
            '"SIGFOO"',
            "expected a signal name like SIGTERM, SIGINT or SIGQUIT, got 'SIGFOO'",
        ),
        ("port", "70000", "expected an integer from 1 to 65535, got 70000"),
        ("port", "0", "expected an integer from 1 to 65535, got 0"),
        ("start_attempts", "0", "expected an integer from 1 to 1000, got 0"),
        (
            "restart",
            '"on_failure"',
            'expected "always", "on-failure" or "never", got \'on_failure\'; '
            'did you mean "on-failure"?',
        ),
        ("restart_delay_max", '"100ms"', "must be at least restart_delay (500ms), got 100ms"),
        ("restart_delay", '"1m"', "must be at most restart_delay_max (30s), got 1m"),
    ],
)
def test_bad_values(write: Write, key: str, value: str, message: str) -> None:
    name = write(WEB + f"{key} = {value}\n")
    assert only_error(name) == f"corral.toml: services.web.{key}: {message}"


def test_bad_defaults_are_reported_once(write: Write) -> None:
    name = write("""\
        [defaults]
        restart_delay = "2m"
        workers = 0
        [services.a]
        command = "a"
        [services.b]
        command = "b"
    """)
    assert errors(name) == [
        "corral.toml: defaults.workers: expected an integer from 1 to 10000, got 0",
        "corral.toml: defaults.restart_delay: must be at most restart_delay_max (30s), got 2m",
    ]


def test_bad_runtime_values(write: Write) -> None:
    name = write(
        """\
        [runtime]
        name = ""
        log_dir = 5
        shutdown_timeout = "soon"
        log_max_size = "1KB"
        log_backups = 1001
        log_ring_lines = 9
    """
        + WEB
    )
    assert errors(name) == [
        "corral.toml: runtime.name: expected a non-empty string, got ''",
        "corral.toml: runtime.log_dir: expected a non-empty string, got 5",
        "corral.toml: runtime.shutdown_timeout: expected a duration like 500ms, 2s or 1m, "
        "got 'soon'",
        "corral.toml: runtime.log_max_size: expected at least 1024 bytes, got '1KB' (1000 bytes)",
        "corral.toml: runtime.log_backups: expected an integer from 0 to 1000, got 1001",
        "corral.toml: runtime.log_ring_lines: expected an integer from 10 to 1000000, got 9",
    ]


def test_log_max_size_garbage(write: Write) -> None:
    name = write('[runtime]\nlog_max_size = "huge"\n' + WEB)
    assert only_error(name) == (
        "corral.toml: runtime.log_max_size: expected a size like 512KB, 10MB or 1GB, got 'huge'"
    )


def test_ports_past_the_last_one(write: Write) -> None:
    name = write(WEB + "port = 65530\nworkers = 10\n")
    assert only_error(name) == (
        "corral.toml: services.web.port: its 10 workers need ports 65531-65540, "
        "past the highest port 65535"
    )


def test_overlapping_ports(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "web"
        port = 8000
        workers = 3
        [services.api]
        command = "api"
        port = 8003
        [services.admin]
        command = "admin"
        port = 8005
    """)
    assert only_error(name) == (
        "corral.toml: services.api.port: ports 8003-8004 overlap ports 8000-8003 of web "
        "(a service takes its port plus one per worker)"
    )


def test_service_ids(write: Write) -> None:
    name = write("""\
        [services."a b"]
        command = "x"
        [services.all]
        command = "x"
        [services.-web]
        command = "x"
        [services.""]
        command = "x"
        [services.ok_1-2]
        command = "x"
    """)
    assert errors(name) == [
        "corral.toml: services.\"a b\": a service id is made of letters, digits, '_' and '-', "
        "and does not start with '-'",
        'corral.toml: services.all: "all" is reserved for the command line (corral stop all); '
        "choose another id",
        "corral.toml: services.-web: a service id is made of letters, digits, '_' and '-', "
        "and does not start with '-'",
        'corral.toml: services."": a service id cannot be empty',
    ]


def test_yaml_service_id_must_be_a_string(write: Write) -> None:
    name = write("services:\n  1:\n    command: x\n", "corral.yaml")
    assert only_error(name) == "corral.yaml: services.1: expected a service id (a string), got 1"


def test_no_services(write: Write) -> None:
    assert only_error(write('[runtime]\nname = "x"\n')) == (
        "corral.toml: services: missing; define at least one service, e.g. services.web "
        "with a command"
    )
    assert only_error(write("[services]\n")) == (
        "corral.toml: services: empty; define at least one service"
    )
    assert only_error(write("[[services]]\n")) == (
        "corral.toml: services: expected a table of services, got a list"
    )
    assert only_error(write("services = {}\n")) == (
        "corral.toml: services: empty; define at least one service"
    )


def test_service_must_be_a_table(write: Write) -> None:
    assert only_error(write('services = { web = "serve" }\n')) == (
        "corral.toml: services.web: expected a table, got 'serve'"
    )


def test_cwd_and_env_file_must_exist(write: Write, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    name = write("""\
        [services.a]
        command = "a"
        cwd = "nope"
        env_file = ".env.missing"
        [services.b]
        command = "b"
        cwd = "afile"
        env_file = "adir"
    """)
    assert errors(name) == [
        "corral.toml: services.a.env_file: no such file: .env.missing",
        "corral.toml: services.a.cwd: no such directory: nope",
        "corral.toml: services.b.env_file: not a file: adir",
        "corral.toml: services.b.cwd: not a directory: afile",
    ]


def test_paths_outside_the_current_directory_are_absolute(tmp_path: Path) -> None:
    config = tmp_path / "corral.toml"
    config.write_text('[services.web]\ncommand = "x"\ncwd = "nope"\n')
    assert errors(str(config)) == [
        f"{config}: services.web.cwd: no such directory: {tmp_path / 'nope'}"
    ]


def test_malformed_env_file(write: Write, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(
        b"GOOD=1\nno equals sign\n1BAD=x\nQUOTE=\"open\n\xff=1\nexport OK='x'\n"
    )
    name = write(WEB + 'env_file = ".env"\n')
    assert errors(name) == [
        "corral.toml: services.web.env_file: .env, line 2: expected KEY=VALUE, "
        "got 'no equals sign'",
        "corral.toml: services.web.env_file: .env, line 3: expected KEY=VALUE, got '1BAD=x'",
        "corral.toml: services.web.env_file: .env, line 4: unbalanced quote in 'QUOTE=\"open'",
        "corral.toml: services.web.env_file: .env, line 5: not valid UTF-8",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_files(write: Write, tmp_path: Path) -> None:
    secret = tmp_path / ".env"
    secret.write_text("A=1\n")
    secret.chmod(0)
    name = write(WEB + 'env_file = ".env"\n')
    try:
        assert only_error(name) == (
            "corral.toml: services.web.env_file: cannot read .env: Permission denied"
        )
        (tmp_path / name).chmod(0)
        assert only_error(name) == "corral.toml: cannot read: Permission denied"
    finally:
        secret.chmod(0o600)
        (tmp_path / name).chmod(0o600)


def test_missing_file_and_directory(write: Write, tmp_path: Path) -> None:
    write(WEB)
    assert only_error("other.toml") == "other.toml: no such file"
    (tmp_path / "adir.toml").mkdir()
    assert only_error("adir.toml") == "adir.toml: cannot read: Is a directory"


def test_several_problems_are_all_reported(write: Write) -> None:
    name = write("""\
        [services.web]
        command = "x"
        workers = 0
        port = 0
        stop_signal = "NOPE"
        [services.db]
        target = "nope"
    """)
    assert len(errors(name)) == 4


# ---- files that do not parse -------------------------------------------------------------


def test_malformed_toml(write: Write) -> None:
    name = write('[services.web]\ncommand = "x"\nworkers = \n')
    assert only_error(name) == "corral.toml: line 3: Invalid value"


def test_malformed_toml_at_end_of_document(write: Write) -> None:
    name = write('[services.web]\ncommand = ["x",\n')
    assert only_error(name) == "corral.toml: line 2: Invalid value"


def test_malformed_yaml(write: Write) -> None:
    name = write("services:\n  web:\n    command: x\n   workers: 2\n", "corral.yaml")
    assert only_error(name) == (
        "corral.yaml: line 4: expected <block end>, but found '<block mapping start>'"
    )
    name = write("services:\n  web: {command: x\n", "corral.yaml")
    assert only_error(name) == "corral.yaml: line 3: expected ',' or '}', but got '<stream end>'"


def test_yaml_bad_tagged_values(write: Write) -> None:
    name = write(
        "services:\n  web:\n    command: x\n    workers: !!timestamp soon\n", "corral.yaml"
    )
    assert only_error(name) == "corral.yaml: line 4: invalid !!timestamp value 'soon'"
    name = write("services: !!python/object:os.system {}\n", "corral.yaml")
    assert only_error(name) == (
        "corral.yaml: line 1: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object:os.system'"
    )


def test_yaml_control_character(write: Write) -> None:
    name = write("services:\n  web:\n    command: \x01\n", "corral.yaml")
    assert only_error(name) == "corral.yaml: line 3: special characters are not allowed"


def test_malformed_json(write: Write) -> None:
    name = write('{"services": {\n  "web": {"command": "x",}}}\n', "corral.json")
    assert only_error(name) == (
        "corral.json: line 2: Expecting property name enclosed in double quotes"
    )


@pytest.mark.parametrize("name", ["corral.toml", "corral.yaml", "corral.json"])
def test_empty_file(write: Write, name: str) -> None:
    assert only_error(write("  \n\n", name)) == (
        f"{name}: the file is empty; define at least one service"
    )


def test_yaml_of_only_comments_is_empty(write: Write) -> None:
    assert only_error(write("# nothing yet\n", "corral.yaml")) == (
        "corral.yaml: the file is empty; define at least one service"
    )


@pytest.mark.parametrize(
    ("name", "text", "got"),
    [
        ("corral.yaml", "- a\n- b\n", "a list"),
        ("corral.json", '"x"', "'x'"),
        ("corral.json", "[]", "an empty list"),
        ("corral.yml", "3", "3"),
    ],
)
def test_top_level_must_be_a_table(write: Write, name: str, text: str, got: str) -> None:
    assert only_error(write(text, name)) == f"{name}: expected a table at the top level, got {got}"


@pytest.mark.parametrize("name", ["corral.toml", "corral.yaml", "corral.json"])
def test_invalid_utf8(write: Write, name: str) -> None:
    assert only_error(write(b"# ok\n# \xc3\x28\n", name)) == (
        f"{name}: line 2: not valid UTF-8 (byte 0xc3)"
    )


@pytest.mark.parametrize("name", ["corral.toml", "corral.yaml", "corral.json"])
def test_deep_nesting(write: Write, name: str) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    text = f"x = {deep}\n" if name.endswith("toml") else f'{{"x": {deep}}}'
    assert only_error(write(text, name)) == f"{name}: values are nested too deeply"


@pytest.mark.parametrize("name", ["corral.toml", "corral.json"])
def test_number_with_too_many_digits(write: Write, name: str) -> None:
    text = f"x = {'9' * 5000}\n" if name.endswith("toml") else f'{{"x": {"9" * 5000}}}'
    assert only_error(write(text, name)) == f"{name}: a number has too many digits"


def test_control_characters_in_keys_are_escaped(write: Write) -> None:
    name = write('[services."we\\nb"]\ncommand = "x"\n')
    assert only_error(name) == (
        "corral.toml: services.\"we\\nb\": a service id is made of letters, digits, '_' and '-', "
        "and does not start with '-'"
    )


# ---- find_config ---------------------------------------------------------------------------


def test_find_config_prefers_toml(tmp_path: Path) -> None:
    for name in ("corral.json", "corral.yml", "corral.yaml"):
        (tmp_path / name).write_text("{}")
    assert find_config(None, str(tmp_path)) == str(tmp_path / "corral.yaml")
    (tmp_path / "corral.toml").write_text("")
    assert find_config(None, str(tmp_path)) == str(tmp_path / "corral.toml")


def test_find_config_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.toml").write_text("")
    assert find_config("mine.toml", str(tmp_path)) == str(tmp_path / "mine.toml")
    monkeypatch.chdir(tmp_path)
    assert find_config("mine.toml") == str(tmp_path / "mine.toml")
    with pytest.raises(ConfigError) as info:
        find_config("other.toml")
    assert info.value.errors == ["other.toml: no such file"]


def test_find_config_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(None, str(tmp_path))
    assert info.value.errors == [f"corral.toml: no such file (looked in {tmp_path}; use -c FILE)"]


# ---- describe ------------------------------------------------------------------------------


def test_describe(write: Write, tmp_path: Path) -> None:
    name = write("""\
        [runtime]
        name = "shop"
        [services.db]
        command = ["redis-server", "--port", "6390"]
        stop_signal = "INT"
        [services.web]
        command = "python -m http.server $PORT --dir 'my files'"
        workers = 3
        depends_on = ["db"]
        port = 8000
        env = { DEBUG = "1" }
        restart_delay = "1.5s"
        restart_delay_max = "1m30s"
        [services.jobs]
        target = "app.jobs:run"
        restart = "always"
        ready_after = 0
        [services.sh]
        command = "echo hi && sleep 1"
        shell = true
        depends_on = ["web"]
    """)
    text = describe(load_config(name))
    assert text == textwrap.dedent(f"""\
        config   {tmp_path}/corral.toml
        runtime  name=shop shutdown_timeout=30s log_dir={tmp_path}/.corral/logs
                 log_max_size=50MB log_backups=5 log_ring_lines=2000
        start    1: db, jobs | 2: web | 3: sh

        [db] process, 1 worker
          command         redis-server --port 6390
          restart         on-failure, restart_delay=500ms restart_delay_max=30s start_attempts=5
          readiness       ready_after=1s stable_after=30s
          stop            stop_signal=SIGINT stop_timeout=10s
          depends_on      -
          port            -
          cwd             {tmp_path}

        [web] process, 3 workers
          command         python -m http.server $PORT --dir 'my files'
          restart         on-failure, restart_delay=1.5s restart_delay_max=1m30s start_attempts=5
          readiness       ready_after=1s stable_after=30s
          stop            stop_signal=SIGTERM stop_timeout=10s
          depends_on      db
          port            8000 (workers 8001-8003)
          cwd             {tmp_path}
          env             DEBUG (values not shown)

        [jobs] thread, 1 worker
          target          app.jobs:run
          restart         always, restart_delay=500ms restart_delay_max=30s start_attempts=5
          readiness       ready_after=0s stable_after=30s
          stop            stop_signal=SIGTERM stop_timeout=10s
          depends_on      -
          port            -
          cwd             {tmp_path}

        [sh] process, 1 worker
          command         (shell) echo hi && sleep 1
          restart         on-failure, restart_delay=500ms restart_delay_max=30s start_attempts=5
          readiness       ready_after=1s stable_after=30s
          stop            stop_signal=SIGTERM stop_timeout=10s
          depends_on      web
          port            -
          cwd             {tmp_path}
    """)
