"""The version of a store's schema, read without changing it, and explicit upgrades.

Stores migrate themselves when opened; these functions serve ``queuectl db status`` (which
must not migrate, so that it can say what an upgrade would do) and ``queuectl db upgrade``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    from .sqlite.migrate import NAMES, check_version, stored_version

    path = str(_sqlite_path(url))
    version = stored_version(path)
    check_version(version, path)
    return SchemaStatus("sqlite", path, version, len(NAMES), NAMES[version:])


def upgrade_schema(location: str | os.PathLike[str] | None = None) -> list[str]:
    """Apply every pending migration; returns their names (empty when up to date)."""
    before = schema_status(location)
    from . import open_storage

    open_storage(location).close()  # stores migrate when opened, under their own locks
    after = schema_status(location)
    return before.pending[: len(before.pending) - len(after.pending)]
