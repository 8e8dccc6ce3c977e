"""``queuectl db status`` and ``queuectl db upgrade`` on both backends, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from queuectl.storage.postgres.migrate import NAMES
from tests.cli.e2e import as_json
from tests.conftest import Cli


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
    status = as_json(cli("--db", str(db), "db", "status", "--json"))
    assert (status["backend"], status["version"]) == ("sqlite", 0)
    assert not db.exists()
    cli("--db", str(db), "db", "upgrade")
    assert as_json(cli("--db", str(db), "db", "status", "--json"))["pending"] == []


def test_a_bad_schema_name_is_invalid_input(cli: Cli) -> None:
    result = cli("--db", "postgresql://127.0.0.1/test?schema=Drop;Table", "db", "status",
                 check=2)
    assert result.stderr.startswith("error: schema: expected a lower-case name")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_server_fails_with_one_line(cli: Cli) -> None:
    result = cli("--db", "postgresql://u:secret@127.0.0.1:1/test", "status", check=1)
    assert result.stderr.startswith("error: cannot reach PostgreSQL at postgresql://u:***@")
    assert "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
