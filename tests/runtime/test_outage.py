"""What a worker says when a step fails: the database, or itself."""

from __future__ import annotations

import logging

import pytest

from queuectl.clock import FakeClock
from queuectl.errors import StorageError
from queuectl.worker.outage import Outage


@pytest.mark.parametrize(("error", "failed", "back"), [
    pytest.param(StorageError("cannot write to q.db: disk full"),
                 "database error: cannot write to q.db: disk full",
                 "database available again after 2.0s; carrying on", id="database"),
    # Not from storage, which translates every error of the database: a bug, or a value no
    # check foresaw. It read "database error" too, sending the reader to a database that is fine.
    pytest.param(ValueError("math domain error"),
                 "error in the worker: ValueError: math domain error",
                 "steps go through again after 2.0s; carrying on", id="worker"),
])
def test_a_failed_step_names_where_its_error_came_from(
        caplog: pytest.LogCaptureFixture, error: Exception, failed: str, back: str) -> None:
    clock = FakeClock()
    outage = Outage(clock)
    with caplog.at_level(logging.WARNING, logger="queuectl.worker.loop"):
        outage.failed(error, longest_wait=10.0, situation="1 job running")
        clock.advance(2.0)
        outage.succeeded(lease=30.0)
    assert caplog.messages == [f"{failed}; retrying in 250ms (1 job running)", back]
