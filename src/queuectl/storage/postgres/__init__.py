"""The PostgreSQL driver (``driver.py``), its connection (``connection.py``), statements
(``queries.sql``), migrations (``migrate.py``, ``migrations/``) and wake-ups (``wakeup.py``).

Nothing here imports psycopg until a PostgreSQL store is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import StorageError

if TYPE_CHECKING:
    from .driver import PostgresDriver


def require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StorageError(
            "PostgreSQL support needs the psycopg driver: pip install 'queuectl[postgres]'"
        ) from None


def open_driver(url: str) -> PostgresDriver:
    """The driver for ``url``, with a clear message when psycopg is missing."""
    require_driver()
    from .driver import PostgresDriver

    return PostgresDriver(url)


def stored_version(url: str) -> tuple[str, str, int, list[str]]:
    """``(URL without password, schema, version, names of all migrations)`` of the store at
    ``url``, read without migrating it; a schema newer than this queuectl is refused."""
    require_driver()
    from .connection import Connector, parse_url
    from .migrate import NAMES, check_version, current_version

    location = parse_url(url)
    connector = Connector(location)
    try:
        version = connector.run(lambda conn, _: current_version(conn, location.schema),
                                transaction=False)
    finally:
        connector.close()
    check_version(version, location.display)
    return location.display, location.schema, version, NAMES
