from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.e2e import workers

from queuectl import Queue
from queuectl.clock import FakeClock

__all__ = ["workers"]  # a fixture, made available to every test here


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(db_path: Path, clock: FakeClock) -> Iterator[Queue]:
    """A queue on a clock that moves only when the test says so."""
    with Queue(db_path, clock=clock, environ={}) as q:
        yield q
