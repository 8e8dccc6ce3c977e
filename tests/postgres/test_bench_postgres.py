"""bench/postgres.py (PostgreSQL beside SQLite) still runs: figures produced, schemas dropped.

No timing is asserted: the figures live in the README and bench/RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .support import PG_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_the_postgres_benchmark_runs_side_by_side_with_sqlite() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "postgres.py"), "--url", PG_URL,
         "--cycles", "40", "--jobs", "20", "--runs", "1"],
        cwd=ROOT / "bench", capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split("|") for line in result.stdout.splitlines() if line.startswith("| ")]
    figures = {cells[1].strip(): cells[2:4] for cells in rows[1:]}
    assert len(figures) == 4
    for sqlite, postgres in figures.values():
        assert float(sqlite.replace(",", "")) > 0 and float(postgres.replace(",", "")) > 0
    import psycopg

    with psycopg.connect(PG_URL) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").fetchone()
    assert left is not None and left[0] == 0, "the benchmark left its schemas behind"
