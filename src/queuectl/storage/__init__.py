"""Where jobs live. ``open_storage`` picks the driver from the database location: a file
path (or ``sqlite:///path``) is SQLite, a ``postgresql://`` URL is PostgreSQL."""

from __future__ import annotations

import os

from ..errors import InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from .store import Store
    from .store import Store as Storage

__all__ = [
    "Storage", "default_database_path", "locate", "normal_path", "open_storage", "redact",
    "resolve_database",
]
# postgres+psycopg is SQLAlchemy's spelling of the same URL.
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgres+psycopg")


def __getattr__(name: str) -> object:
    # ``Storage`` (the store, by the name the layers above know it) is imported when asked
    # for: ``import queuectl.storage`` stays cheap for those that only resolve a location.
    if name == "Storage":
        from .store import Store

        return Store
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


def locate(location: str | os.PathLike[str] | None) -> tuple[str, str]:
    """``(backend, where)``: ``("sqlite", absolute file path)`` or ``("postgresql", URL)``."""
    url = resolve_database(location)
    if "://" in url:
        scheme = url.split("://", 1)[0]
        if scheme in POSTGRES_SCHEMES:
            return "postgresql", url
        if scheme != "sqlite":
            raise InvalidInput(
                f"unsupported database {redact(url)!r}: use a file path, sqlite:///path"
                " or postgresql://user@host/dbname"
            )
        url = url.split("://", 1)[1]
    if not url:
        raise InvalidInput("the database path is empty")
    return "sqlite", normal_path(url, absolute=True)


def open_storage(location: str | os.PathLike[str] | None = None) -> Store:
    """The store at ``location`` (see ``resolve_database``), migrated to the latest version."""
    from .store import Store

    backend, where = locate(location)
    if backend == "postgresql":
        # Imported here so that the SQLite path never loads the driver.
        from .postgres import open_driver

        return Store(open_driver(where))
    from .sqlite.driver import SqliteDriver

    return Store(SqliteDriver(where))


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
