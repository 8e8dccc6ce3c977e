"""The PostgreSQL store's migrations, safe when many workers start at once.

Each file in ``migrations/`` is one version, applied in the store's own schema (``queuectl``
by default) and recorded in ``schema_version``. Whoever migrates first holds a transaction-level
advisory lock keyed by the schema name; the others wait for it, then find nothing left to do.
DDL is transactional in PostgreSQL, so a failed migration leaves the previous version whole.
A schema from a newer queuectl (a version above the scripts known here) is refused.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import StorageError

if TYPE_CHECKING:
    import psycopg

MIGRATIONS = sorted((Path(__file__).parent / "migrations").glob("*.sql"))
NAMES = [script.stem for script in MIGRATIONS]
# The first key of the advisory lock: "qctl" as a 32-bit number, so that our locks do not
# collide with another application's that uses the two-key form.
_LOCK_CLASS = 0x7163746C


def _lock_key(schema: str) -> int:
    """A stable signed 32-bit key for the schema's name."""
    value = zlib.crc32(schema.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


def check_version(version: int, location: str) -> None:
    """Refuse a schema newer than the migrations this queuectl knows."""
    if version > len(MIGRATIONS):
        raise StorageError(
            f"{location} has schema version {version}, newer than this queuectl knows"
            f" ({len(MIGRATIONS)}): upgrade queuectl to use it")


def current_version(conn: psycopg.Connection[Any], schema: str) -> int:
    """The schema's version: 0 when the schema or its version table does not exist yet."""
    row = conn.execute(
        "SELECT to_regclass(format('%%I.schema_version', %(schema)s::text))",
        {"schema": schema},
    ).fetchone()
    if row is None or row[0] is None:
        return 0
    from psycopg import sql

    found = conn.execute(
        sql.SQL("SELECT COALESCE(MAX(version), 0) FROM {}.schema_version").format(
            sql.Identifier(schema)
        )
    ).fetchone()
    return int(found[0]) if found else 0


def migrate(conn: psycopg.Connection[Any], schema: str, location: str) -> list[str]:
    """Bring ``schema`` to the latest version; the names of the migrations applied here.

    ``conn`` must be in autocommit mode with its search_path set to ``schema``.
    """
    version = current_version(conn, schema)
    check_version(version, location)
    if version == len(MIGRATIONS):
        return []  # the common case: one cheap query, no lock
    from psycopg import sql

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, _lock_key(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at double precision NOT NULL)"
        )
        version = current_version(conn, schema)  # someone may have migrated while we waited
        check_version(version, location)
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            conn.execute(script.read_text(encoding="utf-8").encode())
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                (number, script.stem, time.time()),
            )
    return NAMES[version:]
