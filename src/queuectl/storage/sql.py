"""Loads named SQL statements from a ``queries.sql`` file.

A statement starts at a ``-- name: NAME`` line and runs to the next one; other comment lines
are kept in the text (they document the statement) and cost the database nothing. A name with
only comments is an empty statement: the step it names has nothing to do in that database.

A rule that two statements share is written once, as a block of its own, and each of them
names it with ``{{NAME}}`` where it belongs: the loader puts the block's SQL (without its
comments) in its place. Such a block need not be a whole statement (``is_housekeeper`` is a
condition).
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
            queries[name] = text if _code(lines) else ""

    with open(path, encoding="utf-8") as file:
        text = file.read()
    for line in text.splitlines():
        if line.startswith("-- name:"):
            keep()
            name, lines = line.removeprefix("-- name:").strip(), []
        elif name is not None:
            lines.append(line)
    keep()
    return {name: _with_parts(queries, text) for name, text in queries.items()}


def _code(lines: list[str]) -> list[str]:
    return [line for line in lines if line.strip() and not line.lstrip().startswith("--")]


def _with_parts(queries: dict[str, str], text: str) -> str:
    # No ``re``: a plain enqueue loads this module, and its import budget has no room for it.
    pieces = text.split("{{")
    for n, piece in enumerate(pieces[1:], start=1):
        name, end, rest = piece.partition("}}")
        if not end or name not in queries:
            raise KeyError(f"queries.sql: {{{{{name}}}}} names no block")
        pieces[n] = "\n".join(_code(queries[name].splitlines())).strip() + rest
    return "".join(pieces)
