"""Fixtures of the scheduling tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
