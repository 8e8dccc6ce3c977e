"""bench/pg_scale.py (many hosts on one PostgreSQL) still runs, in its short form: figures for
throughput, idle cost, connections and outages come out, and no outage ran a command twice at
once. No timing is asserted: the figures live in the README."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .server import require_private_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.xdist_group("test-hosts")  # one user of test hosts at a time (hosts.py)
def test_the_scale_benchmark_runs_in_its_short_form() -> None:
    require_private_server()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pg_scale.py"), "--short", "--json"],
        cwd=ROOT / "bench", capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    throughput, idle = report["throughput"], report["idle"]
    assert throughput["timed_out"] == 0 and throughput["jobs_per_second"] > 0
    assert throughput["server_cpu_ms_per_job"] > 0
    assert idle["connections"] == idle["idle_workers"]  # one connection per worker
    for outage in ("link_cut", "server_restart"):
        if outage in report:  # link_cut needs network namespaces
            figures = report[outage]
            assert (figures["ran_twice_at_once"], figures["lost"], figures["timed_out"]) == (
                0, 0, 0), figures
