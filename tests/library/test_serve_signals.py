"""``supervisor.serve``: the stop signals' handlers while a worker serves, and after."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.worker.supervisor import serve

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@pytest.fixture
def handlers_kept() -> Iterator[None]:
    """Whatever a test does to the stop signals' handlers is undone after it."""
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    yield
    for signum, handler in before.items():
        signal.signal(signum, handler)


def _own_handler(signum: int, frame: object) -> None:
    raise AssertionError("not to be called")


@pytest.mark.parametrize("exiting", [False, True], ids=["library", "exiting"])
def test_after_the_worker_stopped_the_handlers_are_given_back_or_the_signals_ignored(
    tmp_path: Path, handlers_kept: None, exiting: bool
) -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, _own_handler)
    with Queue(tmp_path / "queue.db") as queue:
        serve(queue.worker(1), burst=True, exiting=exiting)  # nothing queued: returns at once
    expected = signal.SIG_IGN if exiting else _own_handler
    assert [signal.getsignal(signum) for signum in STOP_SIGNALS] == [expected, expected]
