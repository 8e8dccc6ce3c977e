"""The claim keeps walking the ready index in claim order with the scheduling rules in place:
queues paused and limited, a worker serving some queues, jobs waiting on dependencies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import Cli

from queuectl.models import NewJob
from queuectl.storage.sqlite.driver import QUERIES, SqliteDriver
from queuectl.storage.store import Store

T0 = 1_767_225_600.0


@pytest.mark.parametrize("limit", [1, 8])
@pytest.mark.parametrize("queues", [None, ["video", "default"]])
def test_the_claim_walks_jobs_ready_without_a_sort(db_path: Path, limit: int,
                                                   queues: list[str] | None) -> None:
    driver = SqliteDriver(db_path)
    store = Store(driver)
    try:
        store.enqueue([NewJob(f"j{n}", "true", 0, queue="video" if n % 2 else "default")
                       for n in range(2000)], T0)
        store.enqueue([NewJob("after", "true", 0, depends_on=("j1",))], T0)
        store.set_queue_paused("paused", True)
        store.set_queue_limit("video", 2)
        params = {"worker_id": "w", "lease_until": T0 + 30, "now": T0, "limit": limit,
                  "queues": json.dumps(queues) if queues else None, "locked": '["video"]'}
        query = QUERIES["claim_ready_jobs"]
        assert isinstance(query, str)
        plan = "\n".join(row[3] for row in driver.connection().execute(
            "EXPLAIN QUERY PLAN " + query, params))
    finally:
        store.close()
    assert "SCAN ready USING INDEX jobs_ready" in plan, plan
    assert "TEMP B-TREE" not in plan.upper(), plan


HELP = [["queue"], ["queue", "list"], ["queue", "pause"], ["queue", "resume"],
        ["queue", "limit"], ["schedule"], ["schedule", "add"], ["schedule", "list"],
        ["schedule", "remove"], ["schedule", "pause"], ["schedule", "resume"], ["purge"]]


@pytest.mark.parametrize("command", HELP, ids=[" ".join(c) for c in HELP])
def test_every_scheduling_command_has_an_example(cli: Cli, command: list[str]) -> None:
    out = cli(*command, "--help").stdout
    assert out.startswith("Usage: queuectl")
    example_lines = [line.strip() for line in out.split("Example", 1)[1].splitlines()[1:]]
    assert any(line.startswith("queuectl ") for line in example_lines)
