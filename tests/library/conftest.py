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


def processes_of_run(job_id: str, run: int) -> list[int]:
    """Live processes of one run of a job (they carry it in their environment)."""
    wanted = {f"QUEUECTL_JOB_ID={job_id}".encode(), f"QUEUECTL_ATTEMPT={run}".encode()}
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = set((entry / "environ").read_bytes().split(b"\0"))
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if wanted <= environ and state != "Z":
                found.append(int(entry.name))
    return found
