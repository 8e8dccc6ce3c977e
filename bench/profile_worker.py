"""Where a queuectl worker's time goes on short jobs: a diagnostic, not part of the report.

    bench/.venv/bin/python bench/profile_worker.py --slots 4 --jobs 4000 [--py-spy FILE]

1. A real ``queuectl worker start`` drains the jobs; its CPU per job is read per thread from
   /proc (coordinator = main thread, slots = the rest), beside a bare thread pool's.
2. The same jobs run through ``Worker.run(burst=True)`` in this process under cProfile, which
   sees the coordinator thread only: transactions per job, time per commit (the fsync), and
   the functions that cost the most.
With ``--py-spy FILE`` the real worker is also sampled by py-spy (all threads, raw format).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ceiling
from common import queuectl_worker, thread_cpu_seconds, unfinished, wait_for
from queuectl import Queue


def real_worker(folder: Path, jobs: int, slots: int, spy: Path | None) -> None:
    db = folder / "real.db"
    Queue(db).close()
    with queuectl_worker(db, slots, folder / "worker.log") as worker:
        sampler = None
        if spy is not None:
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            sampler = subprocess.Popen(
                [py_spy, "record", "--pid", str(worker.pid), "--rate", "250", "--format", "raw",
                 "--threads", "--nonblocking", "--output", str(spy)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # py-spy attaches
        remaining = unfinished(db)
        before = thread_cpu_seconds(worker.pid)
        with Queue(db) as queue:
            started = time.perf_counter()
            queue.enqueue_many([{"command": "true"}] * jobs)
            wait_for(lambda: remaining() == 0, 600, "the jobs")
            elapsed = time.perf_counter() - started
        after = thread_cpu_seconds(worker.pid)
        if sampler is not None:
            sampler.terminate()
            sampler.wait(60)
    used = {tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()}
    coordinator = used.pop(str(worker.pid), 0.0)
    rate, pool_cpu = ceiling.thread_pool(jobs, slots)
    print(f"queuectl worker, {slots} slot(s): {jobs / elapsed:,.0f} jobs/s; CPU per job: "
          f"coordinator {1000 * coordinator / jobs:.3f} ms, slots "
          f"{1000 * sum(used.values()) / jobs:.3f} ms")
    print(f"thread pool, {slots} thread(s): {rate:,.0f} jobs/s; CPU per job {pool_cpu:.3f} ms")


def coordinator_profile(folder: Path, jobs: int, slots: int) -> None:
    with Queue(folder / "profiled.db") as queue:
        queue.enqueue_many([{"command": "true"}] * jobs)
        worker = queue.worker(slots)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        worker.run(burst=True)
        profile.disable()
        elapsed = time.perf_counter() - started
    # (file, line, function) -> (primitive calls, calls, own time, cumulative time, callers);
    # typeshed's pstats.Stats does not declare the attribute.
    table: dict[tuple[str, int, str], tuple[Any, ...]] = \
        pstats.Stats(profile).stats  # type: ignore[attr-defined]
    calls = {func[2]: (value[1], value[3]) for func, value in table.items()}
    transactions, exchange_seconds = calls.get("record_and_claim", (0, 0.0))
    commits = [value for func, value in table.items()
               if func[2] == "__exit__" and "contextlib" in func[0]]
    commit_seconds = sum(value[3] for value in commits)
    print(f"in-process worker, {slots} slot(s): {jobs / elapsed:,.0f} jobs/s; "
          f"{transactions} transactions ({jobs / max(transactions, 1):.2f} jobs each), "
          f"{1000 * exchange_seconds / max(transactions, 1):.2f} ms per transaction of which "
          f"{1000 * commit_seconds / max(transactions, 1):.2f} ms in COMMIT; the coordinator "
          f"spent {100 * exchange_seconds / elapsed:.0f}% of the wall time in transactions")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--py-spy", type=Path, default=None, dest="spy")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="queuectl-profile-"))
    try:
        real_worker(folder, args.jobs, args.slots, args.spy)
        coordinator_profile(folder, args.jobs, args.slots)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
