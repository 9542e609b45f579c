"""Finding the config file, and the error every config problem is reported with.

Kept apart from config.py (which validates) so that the verbs that only talk to a running
daemon find their config without paying for the validator's imports.
"""

from __future__ import annotations

import os

CONFIG_NAMES = ("corral.toml", "corral.yaml", "corral.yml", "corral.json")


class ConfigError(Exception):
    """The config cannot be used; `errors` holds one complete line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def find_config(explicit: str | None, cwd: str | None = None) -> str:
    """The absolute path of the config: `explicit` (-c FILE), else the first of CONFIG_NAMES."""
    base = os.path.abspath(cwd if cwd is not None else os.getcwd())
    if explicit is not None:
        path = os.path.join(base, explicit)
        if not os.path.exists(path):
            raise ConfigError([one_line(f"{explicit}: no such file")])
        return os.path.abspath(path)
    for name in CONFIG_NAMES:
        path = os.path.join(base, name)
        if os.path.isfile(path):
            return path
    where = f"looked in {base}; use -c FILE"
    raise ConfigError([one_line(f"{CONFIG_NAMES[0]}: no such file ({where})")])


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped: one line on any terminal."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
