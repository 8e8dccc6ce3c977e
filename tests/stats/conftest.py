"""A queue on each backend, on an injected clock, for the stats that both must agree on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.clock import FakeClock
from tests.postgres.support import private_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue_on_each_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queue]:
    clock = FakeClock()
    if request.param == "sqlite":
        with Queue(tmp_path / "queue.db", clock=clock, environ={}) as q:
            yield q
        return
    with private_schema() as url, Queue(url, clock=clock, environ={}) as q:
        yield q


def fake_clock(queue: Queue) -> FakeClock:
    """The clock ``queue_on_each_backend`` gave the queue, to move."""
    clock = queue.clock
    assert isinstance(clock, FakeClock)
    return clock
