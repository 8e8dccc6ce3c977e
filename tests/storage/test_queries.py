"""Each driver keeps one queries.sql, and both hold the same statements by name: the store's
code runs either, so a statement missing from one backend would fail only there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from queuectl.storage.sql import load_queries

STORAGE = Path(__file__).resolve().parents[2] / "src" / "queuectl" / "storage"


def test_both_drivers_name_the_same_statements() -> None:
    sqlite = load_queries(STORAGE / "sqlite" / "queries.sql")
    postgres = load_queries(STORAGE / "postgres" / "queries.sql")
    assert sorted(sqlite) == sorted(postgres)
    # A name may be empty where a database needs no such step, never in both.
    assert not [name for name in sqlite if not sqlite[name] and not postgres[name]]


def test_the_store_asks_only_for_statements_that_exist() -> None:
    names = set(load_queries(STORAGE / "sqlite" / "queries.sql"))
    used: set[str] = set()
    for path in STORAGE.glob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r'tx\.(?:one|all|run|many|each|jobs|jobs_with)\(\s*"(\w+)"', text))
    assert used, "no statement found: the pattern above needs updating"
    assert used <= names, sorted(used - names)


def _code(statement: str) -> str:
    """A statement's SQL without its comments, on one line, one space apart."""
    return " ".join(" ".join(line.partition("--")[0] for line in statement.splitlines()).split())


@pytest.mark.parametrize("driver", ["sqlite", "postgres"])
def test_a_rule_of_several_statements_is_written_once(driver: str) -> None:
    """The count of a job's dependencies not completed was written out five times (the pass
    for jobs waiting in vain counted it three times per job), and held_jobs_expired looked
    its holder up twice: a rule changed in one copy and not the other goes wrong quietly."""
    path = STORAGE / driver / "queries.sql"
    queries = load_queries(path)
    count = _code(queries["dependencies_not_completed"])
    assert path.read_text().count("p.state <> 'completed'") == 1
    for name in ("jobs_waiting_in_vain", "bury_jobs_waiting_in_vain", "redo_dependency_deaths"):
        assert _code(queries[name]).count(count) == 1, name
    held = _code(queries["held_jobs_expired"])
    assert (held.count("workers"), held.count("EXISTS")) == (1, 0)
