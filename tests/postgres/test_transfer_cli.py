"""Moving up from one machine: ``queuectl export`` from SQLite, ``queuectl import`` into
PostgreSQL, and back, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Cli, as_json

pytestmark = pytest.mark.postgres


def test_sqlite_to_postgres_and_back_keeps_everything(
    cli: Cli, pg_url: str, tmp_path: Path
) -> None:
    cli("config", "set", "max_retries", "0")
    cli("enqueue", '{"id":"ok","command":"echo fine"}')
    cli("enqueue", '{"id":"broken","command":"echo oops; exit 4"}')
    cli("worker", "start", "--burst", "--quiet", timeout=120)
    cli("enqueue", '{"id":"later","command":"echo later","max_retries":2}')
    cli("schedule", "add", "daily", "--every", "1d", "-c", "echo daily")  # due long after
    exported = cli("export").stdout

    on_pg = ["--db", pg_url]
    assert "Imported 3 job(s) with 2 attempt(s), 1 schedule(s) and 1 setting(s)." in cli(
        *on_pg, "import", input=exported).stdout
    assert cli(*on_pg, "export").stdout == exported
    dead = as_json(cli(*on_pg, "dlq", "list", "--json"))
    assert [job["id"] for job in dead] == ["broken"]
    history = as_json(cli(*on_pg, "show", "broken", "--json"))["attempts_history"]
    assert [(a["error"], a["output"]) for a in history] == [("exit code 4", "oops\n")]

    cli(*on_pg, "worker", "start", "--burst", "--quiet", timeout=120)  # the queue goes on
    assert as_json(cli(*on_pg, "show", "later", "--json"))["state"] == "completed"

    back = tmp_path / "back.db"
    (tmp_path / "q.jsonl").write_text(cli(*on_pg, "export").stdout)
    cli("--db", str(back), "import", str(tmp_path / "q.jsonl"))
    assert cli("--db", str(back), "export").stdout == cli(*on_pg, "export").stdout


def test_import_refuses_bad_input_and_duplicates_and_changes_nothing(
    cli: Cli, pg_url: str
) -> None:
    cli("enqueue", '{"id":"j1","command":"true"}')
    exported = cli("export").stdout
    on_pg = ["--db", pg_url]
    bad = cli(*on_pg, "import", input=exported + "{oops\n", check=2)
    assert bad.stderr.strip() == "error: line 4: invalid JSON: Expecting property name " \
                                 "enclosed in double quotes"
    cli(*on_pg, "import", input=exported)
    for _ in range(3):  # psycopg's second line after a failed pipeline came 13 times in 20
        duplicate = cli(*on_pg, "import", input=exported, check=1)
        assert duplicate.stderr.strip() == "error: a job with id 'j1' already exists"
    assert len(as_json(cli(*on_pg, "list", "--json"))) == 1
