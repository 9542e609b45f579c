"""Where a daemon's control socket and lock live: one pair per config file, per user."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat


class RunDirError(Exception):
    """The per-user directory exists but is not safe to use."""


def run_dir() -> str:
    """`$XDG_RUNTIME_DIR/corral`, else `/tmp/corral-$UID`: created 0700, and refused unless it is
    ours and nobody else can enter it."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = os.path.join(base, "corral") if base else f"/tmp/corral-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise RunDirError(f"{path} is not a directory owned by you; remove it and try again")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


def _key(config_path: str) -> str:
    return hashlib.sha256(os.path.abspath(config_path).encode()).hexdigest()[:20]


def socket_path(config_path: str) -> str:
    # Named by a hash of the config's absolute path: one daemon per project, and a short path
    # (a Unix socket path must fit in 108 bytes).
    return os.path.join(run_dir(), f"{_key(config_path)}.sock")


def lock_path(config_path: str) -> str:
    return os.path.join(run_dir(), f"{_key(config_path)}.lock")
