"""A command that only reads (or acts on jobs that must exist) refuses a database that is not
there: a mistyped ``--db`` says so with exit 1 and creates nothing, not even a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import Cli

from queuectl import DatabaseNotFound, Queue

READERS = [
    ["status"], ["status", "--json"], ["status", "--watch"], ["list"], ["list", "--json"],
    ["show", "job1"], ["logs", "job1"], ["wait", "job1"], ["cancel", "job1"], ["retry", "job1"],
    ["dlq", "list"], ["dlq", "retry", "job1"], ["dlq", "retry", "--all"], ["stats"],
    ["config", "get"], ["config", "get", "max_retries"],
    ["config", "list"], ["export"],
    ["worker", "list"], ["worker", "list", "--json"], ["worker", "stop"], ["queue", "list"],
    ["schedule", "list"], ["schedule", "remove", "backup"], ["schedule", "pause", "backup"],
    ["schedule", "resume", "backup"], ["purge", "--all-terminal"],
    ["db", "status"], ["db", "status", "--json"],
]


@pytest.mark.parametrize("args", READERS, ids=[" ".join(a) for a in READERS])
def test_a_read_command_on_a_missing_database_creates_nothing(
    cli: Cli, tmp_path: Path, args: list[str]
) -> None:
    missing = tmp_path / "typo" / "deeper" / "queue.db"
    result = cli("--db", str(missing), *args, check=1)
    assert result.stdout == ""
    assert result.stderr == (f"error: no queue at {missing} (check --db or QUEUECTL_DB; "
                             "enqueue creates a new queue)\n")
    assert not (tmp_path / "typo").exists()


def test_the_environment_variable_is_checked_too(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    cli.env = {**cli.env, "QUEUECTL_DB": str(missing)}
    assert "no queue at" in cli("status", check=1).stderr
    assert not missing.exists()
    cli("enqueue", "-c", "true")  # a command that adds creates the queue
    assert missing.exists()
    assert "pending" in cli("status").stdout


def test_the_library_refuses_on_request_only(tmp_path: Path) -> None:
    missing = tmp_path / "sub" / "queue.db"
    with pytest.raises(DatabaseNotFound) as raised:
        Queue(missing, create=False)
    assert raised.value.exit_code == 1 and str(missing) in str(raised.value)
    assert not (tmp_path / "sub").exists()
    with Queue(missing) as queue:  # the default creates it
        queue.enqueue("true")
    with Queue(missing, create=False) as queue:
        assert len(queue.jobs()) == 1
