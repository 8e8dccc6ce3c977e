"""Each driver keeps one queries.sql, and both hold the same statements by name: the store's
code runs either, so a statement missing from one backend would fail only there."""

from __future__ import annotations

import re
from pathlib import Path

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
