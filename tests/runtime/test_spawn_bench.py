"""bench/spawn_cost.py still runs and measures every variant (no timing is asserted here)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from spawn_cost import measure


def test_every_variant_is_measured_at_each_parallelism() -> None:
    figures = measure(jobs=8, rounds=1, parallelism=(1, 2))
    assert set(figures) == {"ceiling", "popen", "lean", "lean:/bin/true", "lean+direct"}
    for by_threads in figures.values():
        assert set(by_threads) == {1, 2}
        for figure in by_threads.values():
            assert all(math.isfinite(value) and value >= 0 for value in figure.values())
            assert figure["jobs_per_second"] > 0
