"""Where jobs live. ``open_storage`` picks the backend from the database location."""

from __future__ import annotations

import os

from ..errors import InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from .base import Storage

__all__ = [
    "Storage", "default_database_path", "normal_path", "open_storage", "redact", "resolve_database",
    "sqlite_path",
]


def __getattr__(name: str) -> object:
    # The protocol is for type checkers and tests; enqueue should not pay for defining it.
    if name == "Storage":
        from .base import Storage

        return Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    from pathlib import Path

    return Path(_default_location())


def _default_location() -> str:
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(data_home, "queuectl", "queue.db")


def resolve_database(location: str | os.PathLike[str] | None) -> str:
    """The database to use: the argument, else ``QUEUECTL_DB``, else the per-user default."""
    if location:
        return os.fspath(location)
    return os.environ.get("QUEUECTL_DB") or normal_path(_default_location())


def open_storage(location: str | os.PathLike[str] | None = None) -> Storage:
    url = resolve_database(location)
    path = sqlite_path(url)
    if path is None:
        # Imported here so that the SQLite path never loads the driver.
        from .postgres import open_postgres

        return open_postgres(url)
    from .sqlite.driver import SqliteDriver
    from .store import Store

    return Store(SqliteDriver(path))


def sqlite_path(url: str) -> str | None:
    """The SQLite file that the resolved location ``url`` names, or None for PostgreSQL."""
    if "://" in url:
        scheme, rest = url.split("://", 1)
        if scheme in ("postgresql", "postgres"):
            return None
        if scheme != "sqlite":
            raise InvalidInput(
                f"unsupported database {url!r}: use a file path, sqlite:///path"
                " or postgresql://user@host/dbname"
            )
        return rest
    return url


def normal_path(text: str, *, absolute: bool = False) -> str:
    """``str(Path(text))``, or with ``absolute`` ``str(Path(text).expanduser().absolute())``.

    pathlib is imported only when ``text`` is not in that form already: importing it costs a
    fifth of what a ``queuectl enqueue`` does, and the usual locations (an absolute path, a
    file name) are in that form. pathlib drops empty and ``.`` parts and a trailing slash,
    and keeps ``..`` (a symbolic link may stand before it): a path with none of those is
    its own normal form.
    """
    if absolute and _is_normal(text) and not text.startswith("/"):
        text = os.path.join(os.getcwd(), text)  # what Path.absolute() does
    if _is_normal(text) and (text.startswith("/") or not absolute):
        return text
    from pathlib import Path

    return str(Path(text).expanduser().absolute() if absolute else Path(text))


def _is_normal(text: str) -> bool:
    return (text not in ("", ".") and "//" not in text and "/./" not in text
            and not text.startswith(("./", "~")) and not text.endswith(("/", "/.")))
