"""bench/scale.py's database is counted as the store counts what it writes: ``status`` and
``stats`` (the real CLI) show every job it built, not only the one that really ran."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import Cli, as_json

REPO = Path(__file__).resolve().parents[2]
_BUILD = "import sys; sys.path.insert(0, sys.argv[1]); import scale; scale.build(sys.argv[2], 500)"


def test_status_and_stats_count_every_job_the_scale_bench_built(
        cli: Cli, db_path: Path) -> None:
    subprocess.run([sys.executable, "-c", _BUILD, str(REPO / "bench"), str(db_path)],
                   env=cli.env, check=True, timeout=120)
    jobs = as_json(cli("status", "--json"))["jobs"]
    assert {state: n for state, n in jobs.items() if n} == {"completed": 501}
    total = as_json(cli("stats", "--since", "8d", "--json"))["total"]
    assert (total["completed"], total["failed"]) == (501, 0)
    ids = [job["id"] for job in as_json(cli("list", "--limit", "3", "--json"))]
    assert all(job_id.isdigit() for job_id in ids)  # numbers, as enqueue hands them out
    cli("add", "true")  # the next number enqueue hands out is past the copies' (exit 0)
    assert as_json(cli("status", "--json"))["jobs"]["pending"] == 1
