"""The layers of DESIGN.md, kept by a test: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "queuectl"

# module (top-level name) -> the only places under src/queuectl allowed to import it
ONLY_IN = {
    "subprocess": ("process/runner.py",),
    "_posixsubprocess": ("process/spawn.py",),
    "click": ("cli/",),
    "starlette": ("web/",),
    "uvicorn": ("web/", "cli/dashboard.py"),
    "jinja2": ("web/",),
    "sqlite3": ("storage/",),
    "_sqlite3": ("storage/",),
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


# -- queuectl's own layers -------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["queuectl", *parts])


def _own_imports(path: Path, *, module_level_only: bool = False) -> set[str]:
    """The queuectl modules ``path`` imports (``from . import x`` counts as ``pkg.x``),
    leaving out those under ``if TYPE_CHECKING:`` (never run) and, with
    ``module_level_only``, those inside functions (run when called, after every import)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if module_level_only and isinstance(child, (ast.FunctionDef,
                                                        ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("queuectl"))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                if module.startswith("queuectl"):
                    found.add(module)
                    found.update(f"{module}.{a.name}" for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {module for module in found if module in modules} - {name}


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


# What the CLI and the dashboard may use: the facade and the values it takes and returns.
FACADE_AND_VALUES = {
    "queuectl", "queuectl.queue", "queuectl.errors", "queuectl.models", "queuectl.states",
    "queuectl.units", "queuectl.stats", "queuectl.config", "queuectl.listing",
    "queuectl.recurring", "queuectl.clock", "queuectl.jobspec", "queuectl.jobspec.newjob",
    "queuectl.rollups",  # SeriesPoint, the bars Queue.stats_series returns
    "queuectl.jobspec.text",  # is_variable_name: --env-all keeps the names a job can see
    "queuectl.unreadable",  # how a value a row edited by hand holds is shown
}
WORKER_SIDE = {"worker", "process"}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.name))
def test_layers_import_downwards_only(path: Path) -> None:
    """DESIGN.md's layers: storage never reaches up to the worker, the library or its
    clients; the worker never reaches the CLI or the dashboard; the CLI and the dashboard
    use the facade and its values only."""
    layer = _layer(_module_name(path))
    imported = _own_imports(path)
    if layer == "storage":
        above = {m for m in imported if _layer(m) in {"cli", "web", "queue", *WORKER_SIDE}}
        assert not above, f"storage imports {sorted(above)}"
    if layer in WORKER_SIDE:
        clients = {m for m in imported if _layer(m) in ("cli", "web")}
        assert not clients, f"{layer} imports {sorted(clients)}"
    if layer in ("cli", "web"):
        beyond = {m for m in imported
                  if _layer(m) not in ("cli", "web") and m not in FACADE_AND_VALUES
                  and not m.startswith("queuectl.web.") | m.startswith("queuectl.cli.")}
        assert not beyond, f"{_module_name(path)} reaches past the facade: {sorted(beyond)}"


def test_no_module_imports_itself_in_a_cycle() -> None:
    """At import time (module-level imports; a package's own __init__ aside), no module is
    reached again from the modules it imports."""
    graph = {_module_name(p): _own_imports(p, module_level_only=True)
             for p in PACKAGE.rglob("*.py")}
    for module, imports in graph.items():  # importing a.b runs a's __init__ first: not a cycle
        graph[module] = {m for m in imports if not module.startswith(m + ".")}
    cycles: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target == path[0]:
                cycles.append([*path, target])
            elif target not in path and len(path) < 8:
                walk(target, [*path, target])

    for module in sorted(graph):
        walk(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])
