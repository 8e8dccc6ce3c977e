"""SQLite's C module, without the ``sqlite3`` package around it.

``import sqlite3`` runs ``sqlite3.dbapi2``, which imports ``datetime`` (and ``math``) to
register adapters for dates that queuectl never passes: 1.1-1.4 ms of a ``queuectl enqueue``
that takes ~22 (``farm-bench``, 30 runs A B: 0.93 of the time with the C module alone). The
package is a thin layer over ``_sqlite3``, which holds all queuectl uses (``connect``,
``Connection``, ``Cursor``, ``Error`` and its kinds, ``complete_statement``): the very objects
``sqlite3`` re-exports, so an error raised here is a ``sqlite3.Error`` to any caller, and any
interpreter that has ``sqlite3`` has ``_sqlite3`` under it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3 as sqlite3
else:
    import _sqlite3 as sqlite3

__all__ = ["sqlite3"]
