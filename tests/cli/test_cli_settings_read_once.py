"""What shows workers or settings reads the settings once: ``worker list``, a ``status
--watch`` frame and the dashboard's Overview and Workers pages read the workers (judged by the
lease), and ``config get`` and ``config list`` the values, and then, again, the settings
refused, to warn of them; the two reads could disagree (a ``config set`` in between) and cost
a query each. Counted on real SQLite connections: their statements
traced (``Connection.set_trace_callback``), in a subprocess for the CLI."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import Cli
from tests.web.test_hostile_input import AppClient

from queuectl import Queue
from queuectl.cli.watch import frame
from queuectl.web.app import create_app

READ = "SELECT key, value FROM config"  # the settings' query (config_items)
LEASE = "lease_duration: expected a duration such as 30, 30s, 5m, 2h or 1d, got 'soon'"

# Runs the CLI in this process, counting the settings' reads on every connection it opens
# (each traced as _sqlite3.connect, which the driver calls, returns it).
_COUNTED_CLI = f"""
import atexit, _sqlite3, sys
reads = []
def trace(statement):
    if statement.startswith({READ!r}):
        reads.append(statement)
connect = _sqlite3.connect
def traced(*args, **kwargs):
    connection = connect(*args, **kwargs)
    connection.set_trace_callback(trace)
    return connection
_sqlite3.connect = traced
atexit.register(lambda: sys.stderr.write(f"settings read {{len(reads)}} times\\n"))
from queuectl.cli import main
main(sys.argv[1:])
"""


def _refuse_lease(db_path: Path) -> None:
    db = sqlite3.connect(db_path)
    with db:
        db.execute("INSERT OR REPLACE INTO config VALUES ('lease_duration', 'soon')")
    db.close()


@contextmanager
def _counted(queue: Queue) -> Iterator[list[str]]:
    """The settings' reads on ``queue``'s connection while the block runs."""
    reads: list[str] = []
    connection = queue.storage.db.connection()  # type: ignore[attr-defined]
    connection.set_trace_callback(lambda sql: reads.append(sql) if sql.startswith(READ) else None)
    try:
        yield reads
    finally:
        connection.set_trace_callback(None)


def test_worker_list_reads_the_settings_once(cli: Cli, db_path: Path) -> None:
    cli("enqueue", "-c", "true")
    _refuse_lease(db_path)
    for args in (["worker", "list"], ["worker", "list", "--json"], ["status"]):
        result = subprocess.run([sys.executable, "-c", _COUNTED_CLI, *args], env=cli.env,
                                cwd=cli.cwd, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        warning, count = result.stderr.splitlines()
        assert warning.startswith(f"warning: {LEASE}"), args
        assert count == "settings read 1 times", args


def test_config_get_and_list_read_the_settings_once(cli: Cli, db_path: Path) -> None:
    cli("enqueue", "-c", "true")
    _refuse_lease(db_path)
    for args in (["config", "get"], ["config", "get", "lease_duration"],
                 ["config", "get", "lease_duration", "--json"], ["config", "list"]):
        result = subprocess.run([sys.executable, "-c", _COUNTED_CLI, *args], env=cli.env,
                                cwd=cli.cwd, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "(unreadable) 'soon'" in result.stdout, args
        warning, count = result.stderr.splitlines()
        assert warning == f"warning: {LEASE} (fix it with queuectl config set or unset)", args
        assert count == "settings read 1 times", args


def test_a_watch_frame_reads_the_settings_once(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("true")
        _refuse_lease(db_path)
        with _counted(queue) as reads:
            lines = frame(queue, 2.0, colour=False)
        assert len(reads) == 1
        assert lines[1].startswith(f"warning: {LEASE}")


def test_the_dashboards_pages_with_workers_read_the_settings_once(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue:
        queue.enqueue("true")
        _refuse_lease(db_path)
        client = AppClient(create_app(queue))
        try:
            for path in ("/", "/workers"):
                with _counted(queue) as reads:
                    page = client.get(path)
                assert page.status_code == 200, path
                assert "Warning: lease_duration: expected a duration" in page.text, path
                assert len(reads) == 1, path
        finally:
            client.close()

