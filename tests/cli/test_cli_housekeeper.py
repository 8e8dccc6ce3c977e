"""`queuectl worker list` names the housekeeper: the longest-registered live worker, by the
same rule as the heartbeat that elects it, on both drivers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from tests.helpers import Cli, WorkerPool, as_json, wait_until
from tests.postgres.support import private_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pool(request: pytest.FixtureRequest, cli: Cli, db_path: Path,
         tmp_path: Path) -> Iterator[WorkerPool]:
    with ExitStack() as stack:
        where: Path | str = db_path
        if request.param == "postgres":  # a URL, not a path
            where = cli.env["QUEUECTL_DB"] = stack.enter_context(private_schema())
        pool = WorkerPool(cli, where, tmp_path)
        stack.callback(pool.close)
        yield pool


def _housekeepers(cli: Cli) -> list[str]:
    return [w["id"] for w in as_json(cli("worker", "list", "--json")) if w["housekeeper"]]


def test_worker_list_names_the_housekeeper_and_its_successor(pool: WorkerPool) -> None:
    cli = pool.cli
    first = pool.worker_id(pool.start(1))
    second = pool.worker_id(pool.start(1))
    assert first and second
    assert _housekeepers(cli) == [first]
    rows = {line.split()[0]: line.split() for line in cli("worker", "list").stdout.splitlines()}
    assert rows["ID"][:3] == ["ID", "STATE", "ROLE"]
    assert rows[first][1:3] == ["running", "housekeeper"] and rows[second][1:3] == ["running", "-"]

    cli("worker", "stop", "--id", first, "--timeout", "30s")
    wait_until(lambda: _housekeepers(cli) == [second], timeout=30, interval=0.1,
               message="the second worker to be named the housekeeper")
