"""What every benchmark shares: sizes, timing, waiting, and a queuectl worker to drive."""

from __future__ import annotations

import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PYTHON = sys.executable
# Polling for "all done" every 5 ms costs well under 1% of a core and biases a figure by
# 2.5 ms on average: under 0.3% of the shortest timed run.
POLL_SECONDS = 0.005


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is; ``FULL`` for the report, ``SMOKE`` to check the suite runs."""

    runs: int = 3
    parallelism: tuple[int, ...] = (1, 2, 4)
    true_jobs: int = 2000
    sleep_jobs: int = 200
    sleep_seconds: float = 0.05
    sleep_slots: int = 4
    cold_calls: int = 15
    bulk_jobs: int = 100_000
    library_single: int = 1000
    library_many: int = 100_000
    latency_jobs: int = 200
    storage_cycles: int = 6000
    scale_rows: int = 1_000_000
    idle_seconds: float = 10.0
    cli_calls: int = 3  # timings of a read command (status, stats, list): at least this many
    worker_settle: float = 0.2  # seconds for a registered worker's slots to go idle


FULL = Sizes()
# The smoke run checks that every figure comes out, not what it is: one timing of each read
# command, and no pause for a drain's worker to settle (14 drains: 2.8 s).
SMOKE = Sizes(
    runs=1, true_jobs=40, sleep_jobs=8, cold_calls=2, bulk_jobs=500, library_single=20,
    library_many=500, latency_jobs=8, storage_cycles=200, scale_rows=2000, idle_seconds=0.5,
    cli_calls=1, worker_settle=0.0,
)


@dataclass
class Context:
    """One benchmark run: its sizes, scratch folder, and the peers it may use."""

    sizes: Sizes
    workdir: Path
    smoke: bool
    peers: Sequence[str] = ()
    log: Callable[[str], None] = field(default=lambda message: print(message, flush=True))
    _counter: int = 0

    def scratch(self, name: str) -> Path:
        """A fresh folder for one measurement."""
        self._counter += 1
        path = self.workdir / f"{self._counter:04d}-{name}"
        path.mkdir(parents=True)
        return path


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: ``percentile([1, 2, 3, 4], 0.5) == 2``."""
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return float(ordered[min(rank, len(ordered)) - 1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str,
             interval: float = POLL_SECONDS) -> Any:
    """Poll ``condition`` until it is truthy; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def queuectl_argv(*args: str) -> list[str]:
    return [PYTHON, "-m", "queuectl", *args]


def queuectl_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env.update(QUEUECTL_DB=str(db), **extra)
    return env


def unfinished(db: Path) -> Callable[[], int]:
    """A cheap probe of how many jobs are not finished yet (served by the state index)."""
    conn = sqlite3.connect(db, timeout=60, isolation_level=None)

    def count() -> int:
        row = conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'processing', 'failed')"
        ).fetchone()
        return int(row[0])

    return count


def duplicate_runs(db: Path) -> int:
    """Runs beyond the first of any job: a queue that runs a job twice shows it here."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT COALESCE(SUM(runs - 1), 0) FROM jobs WHERE runs > 1").fetchone()
    return int(row[0])


@contextmanager
def queuectl_worker(db: Path, count: int, log_path: Path, *, quiet: bool = False,
                    extra_env: dict[str, str] | None = None,
                    settle: float = FULL.worker_settle) -> Iterator[subprocess.Popen[bytes]]:
    """A ``queuectl worker start`` process, registered and idle when the block starts."""
    argv = queuectl_argv("worker", "start", "--count", str(count), *(["-q"] if quiet else []))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, env=queuectl_env(db, **(extra_env or {})),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        conn = sqlite3.connect(db, timeout=60)
        try:
            wait_for(lambda: proc.poll() is not None or conn.execute(
                "SELECT COUNT(*) FROM workers WHERE pid = ?", (proc.pid,)).fetchone()[0],
                timeout=60, what="the worker to register")
        finally:
            conn.close()
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}: see {log_path}")
        # Registration happens just before the slots start: give them a moment to be idle.
        time.sleep(settle)
        yield proc
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process, by thread id (the main thread's id is the pid)."""
    ticks = os.sysconf("SC_CLK_TCK")
    result = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        result[tid] = (int(fields[11]) + int(fields[12])) / ticks
    return result


def thread_names(pid: int) -> dict[str, str]:
    """Each thread's name as the OS knows it (a worker names its own: ``coordinator``,
    ``slot-0``...), by thread id."""
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            names[tid] = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except OSError:
            continue  # the thread ended meanwhile
    return names


def children_cpu_seconds(pid: int) -> float:
    """CPU time of the children ``pid`` has reaped (cutime + cstime in /proc/<pid>/stat): the
    jobs' own processes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")
