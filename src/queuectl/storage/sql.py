"""Loads named SQL statements from a ``.sql`` file.

A statement starts at a ``-- name: NAME`` line and runs to the next one; other comment lines
are kept in the text (they document the statement) and cost the database nothing.
"""

from __future__ import annotations

from pathlib import Path


def load_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- name:"):
            if name is not None:
                queries[name] = "\n".join(lines).strip()
            name, lines = line.removeprefix("-- name:").strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        queries[name] = "\n".join(lines).strip()
    return queries
