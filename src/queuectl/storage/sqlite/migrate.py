"""The SQLite store's migrations: ``migrations/NNNN_name.sql``, applied in order on open.

The version is ``PRAGMA user_version``: the number of scripts applied. Whoever migrates first
holds the write lock (``BEGIN IMMEDIATE``); the others wait for it, then find nothing left
to do. A database from a newer queuectl (a version above the scripts known here) is refused
rather than used with rules it does not know.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ...errors import StorageError
from .cmodule import sqlite3

_FOLDER = os.path.join(os.path.dirname(__file__), "migrations")
MIGRATIONS = sorted(  # the scripts, in order: 0001_initial.sql, ...
    os.path.join(_FOLDER, name) for name in os.listdir(_FOLDER) if name.endswith(".sql"))
NAMES = [os.path.basename(script).removesuffix(".sql") for script in MIGRATIONS]


def check_version(version: int, location: str) -> None:
    """Refuse a schema newer than the migrations this queuectl knows."""
    if version > len(MIGRATIONS):
        raise StorageError(
            f"{location} has schema version {version}, newer than this queuectl knows"
            f" ({len(MIGRATIONS)}): upgrade queuectl to use it")


def migrate(db: sqlite3.Connection, location: str) -> list[str]:
    """Bring the database to the latest version; the names of the migrations applied here."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    check_version(version, location)
    if version == len(MIGRATIONS):
        return []  # the common case: no lock taken
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another may have won
        check_version(version, location)
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with open(script, encoding="utf-8") as file:
                text = file.read()
            for statement in _statements(text):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return NAMES[version:]


def stored_version(path: str) -> int:
    """The version of the database at ``path``, read without changing it (0: none yet)."""
    if not os.path.exists(path):
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version: int = db.execute("PRAGMA user_version").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    return version


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into complete statements (a trigger's body stays whole)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement, pending = pending.strip(), ""
            if any(part.strip() and not part.strip().startswith("--")
                   for part in statement.splitlines()):
                yield statement
