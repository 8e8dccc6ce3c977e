"""The version of a store's schema, read without changing it, and explicit upgrades.

Stores migrate themselves when opened; these functions serve ``queuectl db status`` (which
must not migrate, so that it can say what an upgrade would do) and ``queuectl db upgrade``.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import StorageError
from . import resolve_database


@dataclass(frozen=True)
class SchemaStatus:
    backend: str  # sqlite or postgresql
    location: str  # a file path, or a URL without its password
    version: int  # 0: no schema yet
    latest: int
    pending: list[str]  # names of the migrations an upgrade would apply
    schema: str | None = None  # PostgreSQL: the schema that holds the tables

    def to_dict(self) -> dict[str, object]:
        return {"backend": self.backend, "location": self.location, "schema": self.schema,
                "version": self.version, "latest": self.latest, "pending": self.pending}


def _is_postgres(url: str) -> bool:
    return url.split("://", 1)[0] in ("postgresql", "postgres")


def _sqlite_path(url: str) -> Path:
    path = url.split("://", 1)[1] if url.startswith("sqlite://") else url
    return Path(path).expanduser().absolute()


def schema_status(location: str | os.PathLike[str] | None = None) -> SchemaStatus:
    url = resolve_database(location)
    if _is_postgres(url):
        from .postgres import postgres_schema_status

        return postgres_schema_status(url)
    from .sqlite import MIGRATIONS

    path = _sqlite_path(url)
    version = 0
    if path.exists():
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc
    names = [os.path.basename(script).removesuffix(".sql") for script in MIGRATIONS]
    return SchemaStatus("sqlite", str(path), version, len(names), names[version:])


def upgrade_schema(location: str | os.PathLike[str] | None = None) -> list[str]:
    """Apply every pending migration; returns their names (empty when up to date)."""
    before = schema_status(location)
    from . import open_storage

    open_storage(location).close()  # stores migrate when opened, under their own locks
    after = schema_status(location)
    return before.pending[: len(before.pending) - len(after.pending)]
