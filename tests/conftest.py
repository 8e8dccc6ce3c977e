"""Fixtures every test may use: a private database, a fake clock and a queue on it, the real
CLI, and worker processes. Helpers that are not fixtures are in tests/helpers.py."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.clock import FakeClock
from tests.helpers import Cli, WorkerPool

# PostgreSQL and browser tests: left out, with one line saying why, when no server or no
# browser is there (except under CI=true).
pytest_plugins = ["tests.postgres.plugin", "tests.browser_plugin"]


def pytest_configure(config: pytest.Config) -> None:
    # A shell that starts the suite in the background makes it ignore SIGINT, and every
    # process the tests start would inherit that: give them the ordinary Ctrl-C back.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Lines for the summary at the end of the run, which a test puts in its report as a user
# property: they reach the summary from every process of a parallel run (pytest-xdist), where
# a test's own output does not. A "note" is a line, shown once; a "fuzz tally" counts what the
# property tests saw (tests/fuzz/conftest.py), summed over the tests.
_NOTES: dict[str, None] = {}  # in the order first seen
_TALLIES: dict[str, Counter[str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "note":
            _NOTES[str(value)] = None
        elif name == "fuzz tally" and isinstance(value, dict):
            for tally, counts in value.items():
                _TALLIES.setdefault(tally, Counter()).update(counts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for note in _NOTES:
        terminalreporter.write_line(note)
    for tally, counts in _TALLIES.items():
        shown = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
        terminalreporter.write_line(f"fuzz {tally}: {shown}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests are those that run the real CLI: ``pytest -m "not e2e"`` leaves them
    out, for a quick run of the library's tests."""
    for item in items:
        if "cli" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "queue.db"


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture
def queue(db_path: Path, clock: FakeClock) -> Iterator[Queue]:
    """A queue over the test's SQLite file, on the fake clock."""
    with Queue(db_path, clock=clock, environ={}) as q:
        yield q


@pytest.fixture
def live_queue(db_path: Path) -> Iterator[Queue]:
    """A queue on the real clock, for workers that run on their own."""
    with Queue(db_path, environ={}) as q:
        yield q


@pytest.fixture
def cli_env(tmp_path: Path, db_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(db_path), XDG_DATA_HOME=str(tmp_path / "xdg"), NO_COLOR="1")
    return env


@pytest.fixture
def cli(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Cli]:
    yield Cli(cli_env, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def either_cli(request: pytest.FixtureRequest, cli: Cli) -> Iterator[Cli]:
    """The CLI on the test's SQLite file, then on a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield cli
        return
    from tests.postgres.support import private_schema  # psycopg: only where PostgreSQL is

    with private_schema() as url:
        yield Cli({**cli.env, "QUEUECTL_DB": url}, cli.cwd)


@pytest.fixture
def workers(cli: Cli, db_path: Path, tmp_path: Path) -> Iterator[WorkerPool]:
    """Worker processes over the test's database; killed, with their jobs, at the end."""
    pool = WorkerPool(cli, db_path, tmp_path)
    try:
        yield pool
    finally:
        pool.close()
