"""The reliability suite's short form (bench/chaos.py): every scenario on every backend it
applies to, in a subprocess, with its figures in the failure message.

The full length is one command: ``python bench/chaos.py`` (see its docstring). Every
scenario must pass: none is marked as a known failure.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from chaos import BACKENDS, SCENARIOS, outage_kills  # noqa: E402


def _marks(name: str, backend: str) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.postgres] if backend == "postgres" else []
    if name == "link-down":  # on test hosts: one user of them at a time (hosts.py)
        marks.append(pytest.mark.xdist_group("test-hosts"))
    return marks


CASES = [
    pytest.param(name, backend, id=f"{name}-{backend}", marks=_marks(name, backend))
    for name in SCENARIOS for backend in BACKENDS[name]
]


@pytest.mark.parametrize(("name", "backend"), CASES)
def test_scenario_short_form(name: str, backend: str) -> None:
    if backend == "postgres":
        from tests.postgres.support import require_postgres

        require_postgres()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "chaos.py"), "--short", "--json",
         "--only", name, "--backend", backend],
        capture_output=True, text=True, timeout=600, env=env, check=False)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, result.stdout + result.stderr
    [report] = lines
    figures = report["figures"]
    if "skipped" in figures:
        pytest.skip(f"{name}: {figures['skipped']}")
    assert report["failures"] == [], json.dumps(figures)


def test_the_outage_kills_counted_are_those_the_workers_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """pg-stop-short requires outage_kills to be 0: a count that stopped matching the fence's
    words (they changed once, and the count read 0 for every outage) would pass it blind."""
    from queuectl.worker.fence import report_ended

    caplog.set_level(logging.WARNING, logger="queuectl")
    report_ended([("a", 1)], [("b", 1), ("c", 2)])
    report_ended([], [("d", 1)])
    report_ended([], [])  # nothing done: nothing logged
    assert outage_kills(caplog.text) == 4
