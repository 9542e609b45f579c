"""The core never imports Textual, directly or through anything it imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "corral" / "core"


def test_no_core_module_names_textual_or_the_dashboard() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] == "textual" or n.startswith("corral.tui")
            ]
    assert offenders == []


def test_importing_every_core_module_loads_no_textual() -> None:
    modules = sorted(f"corral.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import corral.headless, corral.cli\n"
        "ui = ('textual', 'corral.tui')\n"
        "bad = [m for m in sys.modules if m in ui or m.startswith(('textual.', 'corral.tui.'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
