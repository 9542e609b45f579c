"""The command line (design §8): parsing and the verbs; each verb is a thin layer."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import resources

import msgspec

from corral import __version__
from corral.core.config import ConfigError, describe, find_config, load_config
from corral.core.settings import Settings
from corral.core.supervisor import TargetError

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corral",
        description="Run a project's services as N workers each and keep them alive.",
    )
    parser.add_argument("--version", action="version", version=f"corral {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    def config_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "-c", "--config", metavar="FILE", help="config file (default: ./corral.toml)"
        )

    up = verbs.add_parser("up", help="start the services (all, or the named ones and their deps)")
    config_option(up)
    up.add_argument("services", nargs="*", metavar="SERVICE")
    up.add_argument(
        "--headless",
        action="store_true",
        help="no dashboard: prefixed log lines and state changes on stdout",
    )

    check = verbs.add_parser("check", help="validate the config and print the effective values")
    config_option(check)

    demo = verbs.add_parser("demo", help="run the built-in demo")
    demo.add_argument("--headless", action="store_true", help="print to stdout, no dashboard")
    return parser


def _error(message: str, code: int = USAGE_ERROR) -> int:
    print(f"corral: {message}", file=sys.stderr)
    return code


def _load(path: str | None) -> Settings:
    return load_config(find_config(path))


def _up(settings: Settings, services: Sequence[str]) -> int:
    from corral.headless import run_headless, use_colour

    return run_headless(settings, services, colour=use_colour())


def _demo_settings() -> Settings:
    """The packaged demo; its logs go to a per-user temporary folder, not into the package."""
    import tempfile

    settings = load_config(str(resources.files("corral.demo") / "corral.toml"))
    logs = os.path.join(tempfile.gettempdir(), f"corral-demo-{os.getuid()}", "logs")
    return msgspec.structs.replace(
        settings, runtime=msgspec.structs.replace(settings.runtime, log_dir=logs)
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.verb == "check":
            print(describe(_load(args.config)))
            return 0
        if args.verb == "up":
            return _up(_load(args.config), args.services)
        if args.verb == "demo":
            return _up(_demo_settings(), ())
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return USAGE_ERROR
    except TargetError as exc:
        return _error(str(exc))
    raise AssertionError(args.verb)
