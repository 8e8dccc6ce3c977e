"""``queuectl db status`` and ``queuectl db upgrade`` on both backends, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from queuectl.storage.postgres.migrate import NAMES
from tests.helpers import Cli, as_json


@pytest.mark.postgres
def test_status_shows_pending_migrations_until_upgrade(cli: Cli, pg_url: str) -> None:
    before = as_json(cli("--db", pg_url, "db", "status", "--json"))
    schema = pg_url.rsplit("schema=", 1)[1]
    assert (before["backend"], before["schema"], before["version"]) == ("postgresql", schema, 0)
    assert len(before["pending"]) == before["latest"] == len(NAMES)
    assert "run `queuectl db upgrade`" in cli("--db", pg_url, "db", "status").stdout

    upgrade = cli("--db", pg_url, "db", "upgrade").stdout
    assert upgrade.splitlines() == [f"Applied {name}" for name in before["pending"]] + [
        "Up to date."]
    after = as_json(cli("--db", pg_url, "db", "status", "--json"))
    assert (after["version"], after["pending"]) == (len(NAMES), [])
    assert cli("--db", pg_url, "db", "upgrade").stdout.strip() == "Already up to date."


def test_status_of_a_sqlite_file_does_not_create_it(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    refused = cli("--db", str(db), "db", "status", "--json", check=1)
    assert refused.stderr.startswith(f"error: no queue at {db} ")  # not "version 0 of N"
    assert not db.exists()
    cli("--db", str(db), "db", "upgrade")
    assert as_json(cli("--db", str(db), "db", "status", "--json"))["pending"] == []


@pytest.mark.parametrize(("url", "said"), [
    ("postgresql://127.0.0.1/test?schema=Drop;Table", "error: schema: expected a lower-case"),
    ("postgresql://127.0.0.1/test?schema=pg_x", "error: schema: expected a lower-case"),
    ("postgresql://127.0.0.1:port/test", "error: invalid database URL postgresql://127"),
    ("postgresql://u:secret@127.0.0.1/test?bogus=1", "error: invalid database URL"),
    ("mysql://127.0.0.1/test", "error: unsupported database"),
])
@pytest.mark.parametrize("command", [["db", "status"], ["status"]])
def test_a_bad_url_or_schema_name_is_invalid_input(cli: Cli, url: str, said: str,
                                                   command: list[str]) -> None:
    result = cli("--db", url, *command, check=2)
    assert result.stderr.startswith(said), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "secret" not in result.stderr


@pytest.mark.postgres
def test_sqlalchemys_spelling_of_a_postgresql_url_is_postgresql(cli: Cli, pg_url: str) -> None:
    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    assert as_json(cli("--db", url, "db", "status", "--json"))["backend"] == "postgresql"
    cli("--db", url, "enqueue", "-c", "true", "--id", "j")
    assert as_json(cli("--db", pg_url, "show", "j", "--json"))["id"] == "j"


@pytest.mark.parametrize("backend", ["sqlite",
                                     pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_upgraders_each_report_only_what_they_applied(
    cli: Cli, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = str(tmp_path / "new.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    upgraders = [cli.spawn("--db", url, "db", "upgrade") for _ in range(3)]
    outputs = [proc.communicate(timeout=60)[0] for proc in upgraders]
    assert [proc.returncode for proc in upgraders] == [0, 0, 0]
    applied = [line.removeprefix("Applied ") for out in outputs for line in out.splitlines()
               if line.startswith("Applied ")]
    pending = as_json(cli("--db", url, "db", "status", "--json"))
    assert pending["pending"] == [] and pending["version"] == pending["latest"]
    assert sorted(applied) == sorted(set(applied)) and len(applied) == pending["latest"]
    assert sum("Already up to date." in out for out in outputs) >= 1



def test_an_unreachable_server_fails_with_one_line(cli: Cli) -> None:
    result = cli("--db", "postgresql://u:secret@127.0.0.1:1/test", "status", check=1)
    assert result.stderr.startswith("error: cannot reach PostgreSQL at postgresql://u:***@")
    assert "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
