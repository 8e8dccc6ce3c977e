from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(db_path: Path, clock: FakeClock) -> Iterator[Queue]:
    with Queue(db_path, clock=clock, environ={}) as q:
        yield q


@pytest.fixture
def live_queue(db_path: Path) -> Iterator[Queue]:
    """A queue on the real clock, for workers that run on their own."""
    with Queue(db_path, environ={}) as q:
        yield q
