"""The SQLite driver (``driver.py``), its statements (``queries.sql``), its migrations
(``migrate.py``, ``migrations/``) and its wake-ups (``wakeup.py``)."""
