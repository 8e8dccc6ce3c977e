"""Without a reachable server the PostgreSQL tests are left out with one line saying how to
enable them; under CI=true they fail instead, so that CI can never pass without them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ["tests/storage/test_jobs.py", "-k", "postgres"]


def _postgres_tests_selected() -> int:
    """How many PostgreSQL tests the selection holds (it grows as tests are added)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
         *SELECTION], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return sum(1 for line in listed.stdout.splitlines() if "::" in line)


def _run_postgres_tests(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["QUEUECTL_TEST_PG"] = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens there
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELECTION],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("ci", [False, True])
def test_an_unreachable_server_skips_or_fails_under_ci(ci: bool) -> None:
    selected = _postgres_tests_selected()
    assert selected > 0
    result = _run_postgres_tests(ci)
    lines = result.stdout.splitlines()
    if ci:
        assert result.returncode == 1, result.stdout
        assert f"{selected} errors" in lines[-1]
        assert any("PostgreSQL tests: cannot connect to postgresql://postgres@127.0.0.1:1/"
                   in line for line in lines)
    else:
        assert result.returncode == 5, result.stdout  # nothing left to run in this selection
        [note] = [line for line in lines if "PostgreSQL tests not run" in line]
        assert f"({selected})" in note and "127.0.0.1:1" in note and "pg_ctlcluster" in note
