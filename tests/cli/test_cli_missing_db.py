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


REFUSED_ADDERS = [
    ["enqueue", "not json"], ["enqueue", '{"command": "true", "priority": "high"}'],
    ["enqueue", "-c", "true", "--delay", "soon"], ["config", "set", "max_retries", "many"],
    ["queue", "limit", "video", "lots"], ["import", "/dev/null"],
]


@pytest.mark.parametrize("args", REFUSED_ADDERS, ids=[" ".join(a) for a in REFUSED_ADDERS])
def test_a_command_that_adds_and_is_refused_leaves_no_database_behind(
    cli: Cli, tmp_path: Path, args: list[str]
) -> None:
    new = tmp_path / "new" / "deeper" / "queue.db"
    result = cli("--db", str(new), *args, check=2)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "new").exists()


def test_a_refused_command_keeps_a_database_it_did_not_create(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    Queue(empty).close()  # there before, empty
    for args in REFUSED_ADDERS:
        cli("--db", str(empty), *args, check=2)
        assert empty.exists(), args
    filled = tmp_path / "filled.db"
    cli("--db", str(filled), "enqueue", "-c", "true")
    for args in REFUSED_ADDERS:
        cli("--db", str(filled), *args, check=2)
    with Queue(filled, create=False) as queue:
        assert len(queue.jobs()) == 1
