"""Loads named SQL statements from a ``queries.sql`` file.

A statement starts at a ``-- name: NAME`` line and runs to the next one; other comment lines
are kept in the text (they document the statement) and cost the database nothing. A name with
only comments is an empty statement: the step it names has nothing to do in that database.
"""

from __future__ import annotations

import os


def load_queries(path: str | os.PathLike[str]) -> dict[str, str]:
    queries: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []

    def keep() -> None:
        if name is not None:
            text = "\n".join(lines).strip()
            code = [line for line in lines if line.strip() and not line.lstrip().startswith("--")]
            queries[name] = text if code else ""

    with open(path, encoding="utf-8") as file:
        text = file.read()
    for line in text.splitlines():
        if line.startswith("-- name:"):
            keep()
            name, lines = line.removeprefix("-- name:").strip(), []
        elif name is not None:
            lines.append(line)
    keep()
    return queries
