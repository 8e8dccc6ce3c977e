"""Fixtures of the scheduling tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import Cli
from tests.postgres.support import private_schema

from queuectl import Queue
from queuectl.clock import FakeClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue_on_each_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queue]:
    """A queue on the fake clock over a SQLite file, then over a private PostgreSQL schema."""
    if request.param == "sqlite":
        with Queue(tmp_path / "queue.db", clock=FakeClock(), environ={}) as q:
            yield q
        return
    with private_schema() as url, Queue(url, clock=FakeClock(), environ={}) as q:
        yield q


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli_on_each_backend(request: pytest.FixtureRequest, cli: Cli,
                        db_path: Path) -> Iterator[tuple[Cli, str]]:
    """The real CLI over the test's SQLite file, then over a private PostgreSQL schema; with
    where the store is, for a ``Queue`` to write rows by hand."""
    if request.param == "sqlite":
        yield cli, str(db_path)
        return
    with private_schema() as url:
        cli.env["QUEUECTL_DB"] = url
        yield cli, url
