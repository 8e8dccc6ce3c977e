"""bench/dashboard_scale.py still runs, small: it builds its database, starts the dashboard,
and prints a figure for every endpoint and command. No timing is asserted here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_dashboard_scale_bench_prints_every_figure(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "dashboard_scale.py"), "--jobs", "3000",
         "--db", str(tmp_path / "queue.db")],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    graded = re.findall(r"^  (\S.*?)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+ ms\s+(OK|SHORT)$",
                        result.stdout, re.MULTILINE)
    names = [name for name, _ in graded]
    assert {"/metrics", "search, one hit", "queuectl stats --since 7d"} <= set(names)
    assert len(graded) == 29
    assert re.search(r"^built 3,000 jobs", result.stdout, re.MULTILINE)
    assert result.stdout.count("load average") >= 3
