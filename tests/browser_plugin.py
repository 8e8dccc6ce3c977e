"""A pytest plugin: without Debian's Chromium (and outside CI), the tests that drive a browser
are left out and the run says so in one line, with why and how to enable them. Under
``CI=true`` they run, and fail if there is no browser.

``scripts/test.sh`` installs Chromium when it can (as root, with apt-get); this covers
everyone else, and ``pytest`` run by hand.
"""

from __future__ import annotations

import os

import pytest

# Where tests/web/conftest.py launches it from; QUEUECTL_TEST_CHROMIUM is for this plugin's
# own test.
CHROMIUM = os.environ.get("QUEUECTL_TEST_CHROMIUM", "/usr/bin/chromium")
_NOTE = pytest.StashKey[str]()


def unavailable_reason() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") == "true":
        return
    marked = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    if not marked:
        return
    reason = unavailable_reason()
    if reason is None:
        return
    config.hook.pytest_deselected(items=marked)
    items[:] = [item for item in items if item not in marked]
    config.stash[_NOTE] = (f"browser tests not run ({len(marked)}): {reason}; to run them, "
                           "apt-get install chromium as root (scripts/test.sh does)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    note = terminalreporter.config.stash.get(_NOTE, None)
    if note is not None:
        terminalreporter.write_line(note, yellow=True)
