"""The layers of DESIGN.md, kept by a test: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "queuectl"

# module (top-level name) -> the only places under src/queuectl allowed to import it
ONLY_IN = {
    "subprocess": ("runner.py",),
    "click": ("cli/",),
    "starlette": ("web/",),
    "uvicorn": ("web/", "cli/dashboard.py"),
    "jinja2": ("web/",),
    "sqlite3": ("storage/",),
    "psycopg": ("storage/",),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.name))
def test_modules_import_only_what_their_layer_may(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    for module in _imports(path) & ONLY_IN.keys():
        assert relative.startswith(ONLY_IN[module]), f"{relative} imports {module}"
