"""Where jobs live. ``open_storage`` picks the backend from the database location."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidInput
from .base import Storage

__all__ = ["Storage", "default_database_path", "open_storage", "redact", "resolve_database"]


def redact(location: str) -> str:
    """The database location fit to print: a URL's password becomes ``***``."""
    if "://" not in location or "@" not in location:
        return location
    scheme, rest = location.split("://", 1)
    credentials, sep, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}{sep}{host}"


def default_database_path() -> Path:
    """One queue per user, as with tsp and pueue: ``$XDG_DATA_HOME/queuectl/queue.db``."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(data_home) / "queuectl" / "queue.db"


def resolve_database(location: str | os.PathLike[str] | None) -> str:
    """The database to use: the argument, else ``QUEUECTL_DB``, else the per-user default."""
    if location:
        return os.fspath(location)
    return os.environ.get("QUEUECTL_DB") or str(default_database_path())


def open_storage(location: str | os.PathLike[str] | None = None) -> Storage:
    url = resolve_database(location)
    if "://" in url:
        scheme = url.split("://", 1)[0]
        if scheme in ("postgresql", "postgres"):
            # Imported here so that the SQLite path never loads the driver.
            from .postgres import open_postgres

            return open_postgres(url)
        if scheme == "sqlite":
            url = url.split("://", 1)[1]
        else:
            raise InvalidInput(
                f"unsupported database {url!r}: use a file path, sqlite:///path"
                " or postgresql://user@host/dbname"
            )
    from .sqlite import SqliteStorage

    return SqliteStorage(url)
