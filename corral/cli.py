"""The command line (design §8): argument parsing and dispatch; each verb is a thin layer."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from corral import __version__
from corral.core.configfile import ConfigError, find_config

if TYPE_CHECKING:
    from corral.core.settings import Settings

USAGE_ERROR = 2
TARGETS = "TARGET is a service (web), a worker (web:2) or all"


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        message = message.replace(", '_daemon'", "")  # internal: started by `up`, not by people
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="corral",
        description="Run a project's services as N workers each and keep them alive.",
    )
    parser.add_argument("--version", action="version", version=f"corral {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    def verb(name: str, text: str, **kw: object) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=text, description=text, **kw)  # type: ignore[arg-type]
        p.add_argument(
            "-c", "--config", metavar="FILE", help="config file (default: ./corral.toml)"
        )
        return p

    up = verb("up", "start the services (all, or the named ones and their dependencies)")
    up.add_argument("services", nargs="*", metavar="SERVICE")
    mode = up.add_mutually_exclusive_group()
    mode.add_argument(
        "-d", "--detach", action="store_true", help="run as a background daemon; return once up"
    )
    mode.add_argument(
        "--headless",
        action="store_true",
        help="no daemon, no dashboard: supervise in this process, print logs and state changes",
    )
    attach = verb("attach", "open the dashboard on the running daemon (q detaches)")
    for p in (up, attach):
        p.add_argument("--no-mouse", action="store_true", help="do not capture the mouse")
        p.add_argument(
            "--theme", metavar="NAME", help="dashboard theme, e.g. ansi-dark for a basic terminal"
        )
    status = verb("status", "workers and their states", aliases=["ps"])
    status.add_argument("--json", action="store_true", help="one JSON object, stable fields")
    for name, text in (
        ("start", "start workers"),
        ("stop", "stop workers (gracefully: stop signal, then SIGKILL after stop_timeout)"),
        ("restart", "restart workers (a service: one worker at a time)"),
    ):
        p = verb(name, f"{text}; {TARGETS}")
        p.add_argument("targets", nargs="+", metavar="TARGET")
    scale = verb("scale", "set a service's number of workers (removes the highest slots first)")
    scale.add_argument("service", metavar="SERVICE")
    scale.add_argument("count", metavar="N", type=int)
    logs = verb("logs", f"recent log lines, merged in time order; {TARGETS}")
    logs.add_argument("targets", nargs="*", metavar="TARGET")
    logs.add_argument("-f", "--follow", action="store_true", help="then follow until Ctrl-C")
    logs.add_argument("-n", "--lines", type=int, default=50, metavar="N", help="default 50")
    logs.add_argument("--since", metavar="DURATION", help="only lines newer than this, e.g. 5m")
    verb("down", "stop everything in order and end the daemon")
    verb("check", "validate the config and print the effective values")
    demo = verbs.add_parser("demo", help="run the built-in demo in the dashboard")
    demo_mode = demo.add_mutually_exclusive_group()
    demo_mode.add_argument("--headless", action="store_true", help="print to stdout, no daemon")
    demo_mode.add_argument("-d", "--detach", action="store_true", help="run it as a daemon")
    demo.add_argument("--no-mouse", action="store_true", help="do not capture the mouse")
    demo.add_argument("--theme", metavar="NAME", help="dashboard theme, e.g. ansi-dark")
    daemon = verbs.add_parser("_daemon")  # started by `up`; not for people
    daemon.add_argument("-c", "--config", required=True)
    daemon.add_argument("--log-dir", required=True)
    daemon.add_argument("services", nargs="*")
    return parser


def _error(message: str, code: int = USAGE_ERROR) -> int:
    print(f"corral: {message}", file=sys.stderr)
    return code


def _load(path: str | None) -> Settings:
    from corral.core.config import load_config

    return load_config(find_config(path))


def _demo_settings() -> Settings:
    """The packaged demo; its logs go to a per-user temporary folder, not into the package."""
    import tempfile
    from importlib import resources

    from corral.core.config import load_config

    settings = load_config(str(resources.files("corral.demo") / "corral.toml"))
    logs = os.path.join(tempfile.gettempdir(), f"corral-demo-{os.getuid()}", "logs")
    return _with_log_dir(settings, logs)


def _with_log_dir(settings: Settings, log_dir: str) -> Settings:
    import msgspec

    return msgspec.structs.replace(
        settings, runtime=msgspec.structs.replace(settings.runtime, log_dir=log_dir)
    )


def _up(settings: Settings, services: Sequence[str], args: argparse.Namespace) -> int:
    from corral.core.supervisor import Supervisor, TargetError

    try:
        Supervisor(settings, services)  # checks the names before anything starts
    except TargetError as exc:
        return _error(str(exc))
    if args.headless:
        from corral.headless import run_headless
        from corral.printer import use_colour

        return run_headless(settings, services, colour=use_colour())
    from corral import commands

    if args.detach:
        return commands.run(commands.up_detached, settings, services)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # No terminal for a dashboard (a pipe, CI): stream the logs instead.
        return commands.run(commands.up_foreground, settings, services)
    return commands.dashboard(
        settings.path, "foreground", not args.no_mouse, args.theme, settings, services
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return USAGE_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    if args.verb == "check":
        from corral.core.config import describe

        print(describe(_load(args.config)))
        return 0
    if args.verb == "up":
        return _up(_load(args.config), args.services, args)
    if args.verb == "demo":
        return _up(_demo_settings(), (), args)
    if args.verb == "_daemon":
        from corral.core.daemon import run_daemon

        return run_daemon(_with_log_dir(_load(args.config), args.log_dir), args.services)
    # The other verbs talk to a running daemon: they need the config's path, not its contents.
    config = find_config(args.config)
    from corral import commands

    if args.verb == "attach":
        if code := commands.run(commands.check_running, config):
            return code
        if not sys.stdout.isatty():
            return _error("attach needs a terminal; to follow the logs use: corral logs -f")
        return commands.dashboard(config, "attach", not args.no_mouse, args.theme)
    if args.verb in ("status", "ps"):
        return commands.run(commands.status, config, args.json)
    if args.verb in ("start", "stop", "restart"):
        return commands.run(commands.command, config, args.verb, args.targets)
    if args.verb == "scale":
        if not 0 <= args.count <= 10_000:
            return _error(f"expected a worker count from 0 to 10000, got {args.count}")
        return commands.run(commands.scale, config, args.service, args.count)
    if args.verb == "logs":
        from corral.core.durations import parse_duration

        since = None
        if args.since is not None:
            try:
                since = time.time() - parse_duration(args.since)
            except ValueError as exc:
                return _error(f"--since: {exc}")
        if args.lines < 0:
            return _error(f"-n: expected a number of lines >= 0, got {args.lines}")
        return commands.run(commands.logs, config, args.targets, args.lines, args.follow, since)
    if args.verb == "down":
        return commands.run(commands.down, config)
    raise AssertionError(args.verb)
