"""Loads named SQL statements from a ``.sql`` file.

A statement starts at a ``-- name: NAME`` line and runs to the next one; other comment lines
are kept in the text (they document the statement) and cost the database nothing.
"""

from __future__ import annotations

import os


def load_queries(path: str | os.PathLike[str]) -> dict[str, str]:
    queries: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    with open(path, encoding="utf-8") as file:
        text = file.read()
    for line in text.splitlines():
        if line.startswith("-- name:"):
            if name is not None:
                queries[name] = "\n".join(lines).strip()
            name, lines = line.removeprefix("-- name:").strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        queries[name] = "\n".join(lines).strip()
    return queries
