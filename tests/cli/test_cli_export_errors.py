"""``queuectl export`` when something other than a schedule's row goes wrong: a stdout that
cannot take the export, a database that fails half way, a row holding bytes. Each is one line
on stderr and exit 1, never a traceback; through the real CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import pytest
from tests.helpers import Cli
from tests.postgres.support import private_schema
from tests.storage.conftest import execute_raw

from queuectl import Queue


def _export(cli: Cli, stdout: IO[Any], *, shell: str = "") -> subprocess.CompletedProcess[str]:
    """``queuectl export`` with ``stdout`` as given; ``shell`` redirects (``>&-``) after it."""
    argv = cli.argv("export")
    if shell:
        argv = ["/bin/sh", "-c", f'exec "$@" {shell}', "sh", *argv]
    return subprocess.run(argv, env=cli.env, cwd=cli.cwd, stdin=subprocess.DEVNULL,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)


@pytest.fixture
def filled(cli: Cli) -> Cli:
    """A queue with enough to export that it fills more than one buffer."""
    cli("config", "set", "max_retries", "5")
    cli("schedule", "add", "nightly", "--every", "1d", "-c", "true")
    cli("enqueue", "--file", "-", input="".join(
        f'{{"id": "j{i}", "command": "echo {"x" * 500}"}}\n' for i in range(100)))
    return cli


@pytest.mark.parametrize(("shell", "cause"), [
    pytest.param("", "No space left on device", id="disk-full"),
    pytest.param(">&-", "stdout is closed (send it to a file: queuectl export > queue.jsonl)",
                 id="stdout-closed"),
    pytest.param("1</dev/null", "Bad file descriptor", id="stdout-read-only"),
])
def test_a_stdout_that_cannot_take_the_export_is_one_line(filled: Cli, shell: str,
                                                          cause: str) -> None:
    with open("/dev/full", "w") as full:  # where the two redirections leave it alone
        result = _export(filled, full, shell=shell)
    assert result.returncode == 1
    to_stdout = "" if shell == ">&-" else " to stdout"
    assert result.stderr == f"error: cannot write the export{to_stdout}: {cause}\n"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def where(request: pytest.FixtureRequest, filled: Cli, db_path: Path) -> Iterator[str]:
    """The filled queue's store, moved to a PostgreSQL schema of its own for "postgres"."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            yield str(db_path)
            return
        url = stack.enter_context(private_schema())
        filled("--db", url, "import", input=filled("export").stdout)
        filled.env["QUEUECTL_DB"] = url
        yield url


def test_a_database_that_fails_half_way_is_one_line(filled: Cli, where: str) -> None:
    """The settings and schedules are out when the jobs' history cannot be read: stdout holds
    what was written, and the exit status says the export is not whole."""
    with Queue(where, environ={}) as queue:
        execute_raw(queue.storage, "DROP TABLE attempts")
    result = filled("export", check=1)
    [line] = result.stderr.splitlines()
    # SQLite: cannot read PATH: no such table: attempts; PostgreSQL: relation "attempts" ...
    assert line.startswith("error: ") and "attempts" in line
    assert '"kind": "config"' in result.stdout and '"kind": "job"' not in result.stdout
    # What it wrote lacks the end record: an import of it refuses it, and writes nothing.
    refused = filled("--db", str(filled.cwd / "elsewhere.db"), "import", input=result.stdout,
                     check=2)
    assert refused.stderr.startswith("error: the export ends early, after line 3: it has no "
                                     "end record")
    assert filled("--db", str(filled.cwd / "elsewhere.db"), "list").stdout == "No jobs.\n"


@pytest.mark.parametrize(("change", "error"), [
    pytest.param("UPDATE jobs SET command = x'ff00' WHERE id = 'j7'",
                 r"job 'j7': unreadable row: command is not text: b'\xff\x00' (fix its row or"
                 " remove it with queuectl remove j7)", id="job"),
    pytest.param("UPDATE schedules SET every = x'ff'",
                 r"schedule 'nightly': every: b'\xff' is no JSON value (fix its row or remove"
                 " it with queuectl schedule remove)", id="schedule"),
    pytest.param("UPDATE config SET value = x'05' WHERE key = 'max_retries'",
                 r"setting 'max_retries': value: b'\x05' is no JSON value (set it with queuectl"
                 " config set max_retries VALUE, or unset it)", id="setting"),
])
def test_a_row_holding_bytes_is_named_in_one_line(filled: Cli, db_path: Path, change: str,
                                                  error: str) -> None:
    """SQLite keeps bytes in any column, and JSON has no bytes: the export names the row."""
    with Queue(db_path, environ={}) as queue:
        execute_raw(queue.storage, change)
    result = filled("export", check=1)
    assert result.stderr == f"error: cannot export {error}\n"
