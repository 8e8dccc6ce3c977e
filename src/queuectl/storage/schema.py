"""The version of a store's schema, read without changing it, and explicit upgrades.

Stores migrate themselves when opened; these serve ``queuectl db status`` (which must not
migrate, so that it can say what an upgrade would do) and ``queuectl db upgrade``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import DatabaseNotFound
from . import locate


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


def schema_status(location: str | os.PathLike[str] | None = None) -> SchemaStatus:
    """Where the store's schema is; a schema newer than this queuectl raises ``StorageError``,
    and a SQLite file that is not there ``DatabaseNotFound`` (a mistyped path is no queue at
    version 0 waiting for an upgrade; nothing is created)."""
    backend, where = locate(location)
    if backend == "postgresql":
        from .postgres import stored_version

        display, schema, version, names = stored_version(where)
        return SchemaStatus(backend, display, version, len(names), names[version:], schema)
    from .sqlite.migrate import NAMES, check_version
    from .sqlite.migrate import stored_version as sqlite_version

    if not os.path.exists(where):
        raise DatabaseNotFound(where)
    version = sqlite_version(where)
    check_version(version, where)
    return SchemaStatus(backend, where, version, len(NAMES), NAMES[version:])


def upgrade_schema(location: str | os.PathLike[str] | None = None) -> list[str]:
    """Apply every pending migration; the names of those this call applied (another process
    upgrading at the same time applies the others, and says so itself)."""
    from . import open_storage

    store = open_storage(location)  # stores migrate when opened, under their own locks
    store.close()
    return store.db.applied
