"""What a process worker gets: environment, `$VAR` expansion, env_file, cwd, shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from corral.core.events import LogLines
from corral.core.states import WorkerState
from tests.conftest import Recorder, make_config, supervising, until

W = WorkerState
pytestmark = pytest.mark.anyio
DUMP = (
    "import json, os; keys = ['CORRAL_SERVICE', 'CORRAL_WORKER', 'CORRAL_WORKERS', 'PORT',"
    " 'FROM_FILE', 'FROM_ENV', 'OVERRIDE']; print(json.dumps({'env': {k: os.environ.get(k)"
    " for k in keys}, 'cwd': os.getcwd(), 'argv': __import__('sys').argv[1:]}))"
)


def _output(rec: Recorder, worker: str) -> list[str]:
    return [
        line
        for e in rec.events
        if isinstance(e, LogLines) and f"{e.service}:{e.slot}" == worker
        for line in e.lines
    ]


async def test_worker_environment_expansion_env_file_and_cwd(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "vars.env").write_text(
        "# comment\nexport FROM_FILE='file value'\nOVERRIDE=from file\n"
    )
    settings = make_config(
        tmp_path,
        f"""
        [services.web]
        command = ["{sys.executable}", "-c", "{DUMP}", "$CORRAL_WORKER", "${{FROM_ENV}}-x",
                   "$$PORT", "$UNSET_VARIABLE", "port=$PORT"]
        workers = 2
        port = 9000
        cwd = "sub"
        env_file = "vars.env"
        env = {{ FROM_ENV = "env value", OVERRIDE = "from env" }}
        ready_after = "0s"
        """,
    )
    async with supervising(settings) as (_, rec):
        await until(lambda: _output(rec, "web:1") and _output(rec, "web:0"))
    got = json.loads(_output(rec, "web:1")[0])
    assert got["env"] == {
        "CORRAL_SERVICE": "web",
        "CORRAL_WORKER": "1",
        "CORRAL_WORKERS": "2",
        "PORT": "9002",
        "FROM_FILE": "file value",
        "FROM_ENV": "env value",
        "OVERRIDE": "from env",
    }
    assert got["cwd"] == str(tmp_path / "sub")
    # Expanded by corral, one argument each, no shell: `$$` is a literal `$`, unset is empty.
    assert got["argv"] == ["1", "env value-x", "$PORT", "", "port=9002"]
    assert json.loads(_output(rec, "web:0")[0])["env"]["PORT"] == "9001"


async def test_a_string_command_is_split_without_a_shell(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.echo]
        command = "printf '%s|' 'two words' $CORRAL_SERVICE '; echo not a shell'"
        ready_after = "0s"
        """,
    )
    async with supervising(settings) as (_, rec):
        await until(lambda: rec.count("echo:0", W.EXITED))
        await until(lambda: _output(rec, "echo:0"))
    assert _output(rec, "echo:0") == ["two words|echo|; echo not a shell|"]


async def test_shell_true_runs_the_command_with_sh(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.sh]
        shell = true
        command = "echo one && echo $CORRAL_WORKERS | tr 1 X; echo err >&2"
        ready_after = "0s"
        """,
    )
    async with supervising(settings) as (_, rec):
        await until(lambda: len(_output(rec, "sh:0")) == 3)
    lines = [(e.stream, line) for e in rec.events if isinstance(e, LogLines) for line in e.lines]
    assert ("out", "one") in lines and ("out", "X") in lines and ("err", "err") in lines


async def test_output_is_captured_to_the_file_sanitised_and_stamped(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        r"""
        [services.out]
        shell = true
        command = 'printf "red \033[31mtext\033[0m\r\nno newline at the end"'
        ready_after = "0s"
        """,
    )
    async with supervising(settings) as (_, rec):
        await until(lambda: rec.count("out:0", W.EXITED))
    text = (Path(settings.runtime.log_dir) / "out.log").read_text()
    lines = text.splitlines()
    assert [line.split(" out:0 out | ", 1)[1] for line in lines] == [
        "red text",
        "no newline at the end",
    ]
    assert all(len(line.split(" ", 1)[0]) == len("2026-12-04T15:21:28.123Z") for line in lines)
    assert "\x1b" not in text and "\r" not in text


async def test_a_worker_inherits_no_descriptor_of_corral(tmp_path: Path) -> None:
    settings = make_config(
        tmp_path,
        """
        [services.fds]
        command = "ls /proc/self/fd"
        ready_after = "0s"
        """,
    )
    async with supervising(settings) as (_, rec):
        await until(lambda: rec.count("fds:0", W.EXITED))
        await until(lambda: _output(rec, "fds:0"))
    # stdin, stdout, stderr, and the one `ls` opens to read the folder: nothing of corral's.
    assert set(_output(rec, "fds:0")) <= {"0", "1", "2", "3"}
