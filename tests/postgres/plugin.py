"""A pytest plugin: without a reachable PostgreSQL server (and outside CI), the tests marked
``postgres`` are left out and the run says so in one line, with how to enable them. Under
``CI=true`` they run and fail at their first use of the server instead."""

from __future__ import annotations

import os

import pytest

from .support import HOW_TO_ENABLE, unavailable_reason

_NOTE = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") == "true":
        return
    marked = [item for item in items if item.get_closest_marker("postgres")]
    if not marked:
        return
    reason = unavailable_reason()
    if reason is None:
        return
    config.hook.pytest_deselected(items=marked)
    items[:] = [item for item in items if not item.get_closest_marker("postgres")]
    config.stash[_NOTE] = (f"PostgreSQL tests not run ({len(marked)}): {reason}; to run them, "
                           f"{HOW_TO_ENABLE}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    note = terminalreporter.config.stash.get(_NOTE, None)
    if note is not None:
        terminalreporter.write_line(note, yellow=True)
