"""The benchmark suite's smoke mode still runs and still produces every figure.

No timing is asserted here (speed lives in bench/RESULTS.md); what is checked is that each
section measured something, that no job ran twice, and that the outputs went to the folder
given, not into the repository.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_smoke_run_produces_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    # The suite's scratch folder goes in a short folder of the test's own: a socket path in it
    # (tsp's, a folder deeper) must fit in 108 bytes, which tmp_path, longer under xdist
    # (.../popen-gw0/test_smoke_run_produces_every_0/), does not leave room for.
    scratch = Path(tempfile.mkdtemp(prefix="qbs-"))
    env["TMPDIR"] = str(scratch)
    try:
        _check_smoke_run(env, out, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_smoke_run(env: dict[str, str], out: Path, scratch: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--out", str(out),
         "--peers", "none"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    results = json.loads((out / "results.json").read_text())
    sections = results["sections"]
    assert set(sections) == {"throughput", "enqueue", "latency", "storage", "scale", "idle"}

    throughput = sections["throughput"]
    for workers in ("1", "2", "4"):
        assert _positive(throughput["ceiling"][workers]["best"])
        mine = throughput["systems"]["queuectl"]["true"][workers]
        assert _positive(mine["jobs_per_second"]) and _positive(mine["of_ceiling"])
        assert mine["duplicates"] == 0
        assert _positive(sections["storage"][workers])
        for kind in ("end_to_end", "storage"):
            assert _positive(sections["scale"][kind][workers]["ratio"])
    assert _positive(throughput["systems"]["queuectl"]["sleep"]["seconds"])
    assert _positive(throughput["systems"]["queuectl"]["sleep"]["of_bare_pool"])
    assert all(_positive(throughput["systems"]["queuectl"]["true"][w]["cpu_ratio"])
               for w in ("1", "2", "4"))
    assert set(results["loads"]) == set(sections)

    enqueue = sections["enqueue"]
    assert _positive(enqueue["cold_ratio_to_python"])
    assert _positive(enqueue["bulk_jobs_per_second"])
    assert _positive(enqueue["library_enqueue_per_second"])
    assert _positive(enqueue["library_enqueue_many_per_second"])
    assert _positive(sections["latency"]["p50_ms"]) and _positive(sections["latency"]["p99_ms"])
    assert _positive(sections["scale"]["status_seconds"])
    assert _positive(sections["scale"]["stats_seconds"])
    assert sections["idle"]["cpu_percent"] >= 0

    assert results["targets"] and all(isinstance(t["met"], bool) for t in results["targets"])
    report = (out / "RESULTS.md").read_text()
    assert "## Targets (issue 15)" in report and "| workers |" in report
    graded = " ".join(t["target"] for t in results["targets"])
    assert "0.9 of the ceiling" in graded and "p50 at most 3 ms" in graded
    assert "0.98 of a bare" in graded and "3x the wall time" in graded
    assert "ahead of" not in graded  # no peer is a target
    # Nothing was written next to the tracked results, and the scratch folder is gone.
    assert not list(scratch.glob("queuectl-bench-*"))
