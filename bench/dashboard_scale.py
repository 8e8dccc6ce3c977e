"""The dashboard, ``/metrics`` and the read commands at a million jobs (issue 14, issue 15 item 7).

Builds a SQLite database that looks like a week of real use: numbered ids as ``queuectl
enqueue`` hands them out, four queues, commands that differ, runs spread over seven days
with waits and run times that vary, some dead jobs (three failed runs each), some canceled,
a backlog of pending ones. The rows go in with ``INSERT ... SELECT`` over a counter, through
the same triggers a worker's writes go through, so the counts and rollups are the ones the
database keeps itself. Then it starts ``queuectl dashboard`` and times every page and API
read with a blocking request: the first one (cold: nothing cached by the dashboard) and the
median of the next three (warm), each against its budget; then ``queuectl stats``, ``status``
and ``list``, process start included. The load average is printed with each section.

    python bench/dashboard_scale.py                 # a million jobs, in a scratch folder
    python bench/dashboard_scale.py --jobs 20000    # small, for a smoke test
    python bench/dashboard_scale.py --db keep.db    # build once, time again later
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import select
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from queuectl import Queue  # noqa: E402

BUDGET = 0.2  # seconds, every page and read (issue 14)
FIRST_SCRAPE_BUDGET = 1.0
DAYS = 7
QUEUES = "CASE WHEN n % 10 < 6 THEN 'default' WHEN n % 10 < 8 THEN 'mail' " \
         "WHEN n % 10 = 8 THEN 'reports' ELSE 'images' END"
COMMANDS = ("CASE WHEN n % 10 < 6 THEN 'backup.sh --host db' || (n % 40) || ' --full' "
            "WHEN n % 10 < 8 THEN 'send-mail --to user' || n || '@example.com' "
            "WHEN n % 10 = 8 THEN 'report --day ' || (n % 365) || ' --format pdf' "
            "ELSE 'convert img' || n || '.png -resize 200x200 thumb' || n || '.png' END")
# A job's fate by its number: the newest 2,000 still pending, every 53rd dead after three
# failed runs (stored as running first: its last run's end makes it dead, as a worker's does,
# and the database counts the death), every 200th canceled before it ran, the rest
# completed on the first run.
STATE = ("CASE WHEN n > :jobs - :backlog THEN 'pending' WHEN n % 53 = 7 THEN 'processing' "
         "WHEN n % 200 = 3 THEN 'canceled' ELSE 'completed' END")
RUNS = ("CASE WHEN n > :jobs - :backlog THEN 0 WHEN n % 53 = 7 THEN 3 "
        "WHEN n % 200 = 3 THEN 0 ELSE 1 END")
CREATED = ":start + n * :span / :jobs"
WAIT = "(0.05 + (n * 7919 % 1000) / 100.0)"  # 0.05 to 10 s from enqueue to start
TOOK = "(0.02 + (n * 104729 % 5000) / 1000.0)"  # 0.02 to 5 s of run time
COUNTER = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < :jobs) "


def build(db: Path, jobs: int) -> float:
    """A week of history in a new database at ``db``; returns the seconds it took."""
    started = time.perf_counter()
    Queue(db).close()  # the schema, migrated
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    now = time.time()
    params = {"jobs": jobs, "backlog": min(2000, jobs // 10), "start": now - DAYS * 86400,
              "span": DAYS * 86400.0}
    conn.execute("BEGIN")
    conn.execute(
        f"INSERT INTO jobs (id, command, state, attempts, runs, max_retries, run_at, "
        f"created_at, updated_at, queue, exit_code, last_error) {COUNTER}"
        f"SELECT CAST(n AS TEXT), {COMMANDS}, {STATE}, {RUNS}, {RUNS}, 2, {CREATED}, "
        f"{CREATED}, {CREATED} + {WAIT} + 3 * {TOOK}, {QUEUES}, "
        f"CASE WHEN n % 53 = 7 THEN 1 ELSE 0 END, NULL FROM c", params)
    # Counted as the store counts the jobs it inserts (count_new_jobs in queries.sql).
    conn.execute("INSERT INTO job_counts (queue, state, n) "
                 "SELECT queue, state, COUNT(*) FROM jobs GROUP BY 1, 2")
    # Each run's attempt: the dead ones' three a minute apart, the last one failing for good.
    conn.execute(
        f"INSERT INTO attempts (job_id, number, worker_id, started_at, output) "
        f"{COUNTER}, r(number) AS (VALUES (1), (2), (3)) "
        f"SELECT CAST(n AS TEXT), number, 'w-' || (n % 4), "
        f"{CREATED} + {WAIT} + (number - 1) * 60, CAST('ok' AS BLOB) "
        f"FROM c JOIN r ON number <= {RUNS}", params)
    # Each run ends as a worker's does, through the trigger that counts it in the rollups.
    took = TOOK.replace("n", "CAST(job_id AS INTEGER)")
    conn.execute(f"UPDATE attempts SET finished_at = started_at + {took}, "
                 f"exit_code = CASE WHEN CAST(job_id AS INTEGER) % 53 = 7 THEN 1 ELSE 0 END")
    conn.execute("UPDATE jobs SET state = 'dead', last_error = 'exit code 1' "
                 "WHERE state = 'processing'")
    conn.execute("UPDATE job_numbers SET next = :next", {"next": jobs + 1})
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (runs,) = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()
    (rolled,) = conn.execute("SELECT SUM(completed + failed) FROM run_minutes").fetchone()
    conn.close()
    if rolled != runs:  # the figures below would time the fold of every run instead
        raise SystemExit(f"the rollups hold {rolled} runs of {runs}")
    return time.perf_counter() - started


class Dashboard:
    """``queuectl dashboard --port 0`` over ``db``, read-only, in a subprocess."""

    def __init__(self, db: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
        env["QUEUECTL_DB"] = str(db)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "queuectl", "dashboard", "--port", "0", "--read-only"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        banner = self.proc.stdout.readline() if ready else ""
        found = re.search(r"http://\S+?/", banner)
        if found is None:
            self.proc.kill()
            raise SystemExit(f"the dashboard did not start: {banner!r}")
        self.url = found.group(0).rstrip("/")

    def get(self, path: str) -> tuple[float, float]:
        """Seconds for one blocking request, the whole body read, and the CPU seconds the
        dashboard's process spent on it (steady on a shared machine, where waits are not)."""
        cpu = self.cpu()
        started = time.perf_counter()
        with urllib.request.urlopen(self.url + path, timeout=120) as response:
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
        return time.perf_counter() - started, self.cpu() - cpu

    def cpu(self) -> float:
        """CPU seconds run by every thread of the dashboard so far (schedstat: nanoseconds)."""
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                pass  # a thread that ended meanwhile
        return total / 1e9

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _line(name: str, cold: tuple[float, float], warm: tuple[float, float], budget: float,
          cold_budget: float) -> bool:
    """One figure: wall and CPU milliseconds, cold and warm, graded on wall time."""
    ok = cold[0] <= cold_budget and warm[0] <= budget
    print(f"  {name:<28} {cold[0] * 1000:8.1f} {warm[0] * 1000:8.1f}"
          f" {cold[1] * 1000:8.1f} {warm[1] * 1000:8.1f}"
          f"   {budget * 1000:5.0f} ms   {'OK' if ok else 'SHORT'}", flush=True)
    return ok


def _median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (statistics.median(wall for wall, _ in samples),
            statistics.median(cpu for _, cpu in samples))


HEADER = (f"  {'':<28} {'cold':>8} {'warm':>8} {'cold':>8} {'warm':>8}\n"
          f"  {'':<28} {'wall ms':>8} {'wall ms':>8} {'CPU ms':>8} {'CPU ms':>8}   budget")


def endpoints(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    (jobs,) = conn.execute("SELECT MAX(seq) FROM jobs").fetchone()
    (dead,) = conn.execute("SELECT id FROM jobs WHERE state = 'dead' LIMIT 1").fetchone()
    conn.close()
    deep = jobs // 100 * 3  # 97% of the way down the list
    wanted = max(1, jobs - jobs // 3)
    return [
        ("overview", "/"),
        ("jobs, first page", "/jobs"),
        ("jobs, deep page", f"/jobs?before={deep}"),
        ("jobs, oldest page", "/jobs?after=0"),
        ("jobs, dead", "/jobs?state=dead"),
        ("jobs, one queue", "/jobs?queue=reports"),
        ("jobs, queue and state", "/jobs?queue=images&state=dead"),
        ("search, one hit", f"/jobs?q=user{wanted - wanted % 10 + 6}@"),
        ("search, many hits", "/jobs?q=backup.sh"),
        ("job detail", f"/jobs/{dead}"),
        ("dead letters", "/dlq"),
        ("queues", "/queues"),
        ("schedules", "/schedules"),
        ("workers", "/workers"),
        ("/api/status", "/api/status"),
        ("/api/jobs", "/api/jobs"),
        ("/api/jobs/{id}", f"/api/jobs/{dead}"),
        ("/api/dlq", "/api/dlq"),
        ("/api/queues", "/api/queues"),
        ("/api/workers", "/api/workers"),
        ("/api/schedules", "/api/schedules"),
        ("/api/stats?since=1h", "/api/stats?since=1h"),
        ("/api/stats?since=1d", "/api/stats?since=1d"),
        ("/api/stats?since=7d", "/api/stats?since=7d"),
    ]


def time_dashboard(db: Path, warm_runs: int = 3) -> list[bool]:
    results = []
    print(f"dashboard (load average {_load()})")
    print(HEADER)
    dashboard = Dashboard(db)
    try:
        first = dashboard.get("/metrics")
        later = _median([dashboard.get("/metrics") for _ in range(warm_runs)])
        results.append(_line("/metrics", first, later, BUDGET, FIRST_SCRAPE_BUDGET))
        for name, path in endpoints(db):
            cold = dashboard.get(path)
            warm = _median([dashboard.get(path) for _ in range(warm_runs)])
            results.append(_line(name, cold, warm, BUDGET, BUDGET))
    finally:
        dashboard.stop()
    return results


def time_cli(db: Path, runs: int = 3) -> list[bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
    env["QUEUECTL_DB"] = str(db)
    print(f"commands, process start included (load average {_load()})")
    print(HEADER)
    results = []
    baseline = [_run([sys.executable, "-c", "pass"], env) for _ in range(runs)]
    wall, cpu = _median(baseline)
    print(f"  {'(python -c pass)':<28} {'':8} {wall * 1000:8.1f} {'':8} {cpu * 1000:8.1f}")
    for args in (["stats", "--since", "1h"], ["stats", "--since", "7d"], ["status"], ["list"]):
        argv = [sys.executable, "-m", "queuectl", *args]
        times = [_run(argv, env) for _ in range(runs + 1)]
        results.append(_line("queuectl " + " ".join(args), times[0], _median(times[1:]),
                             BUDGET, BUDGET))
    return results


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user and system, of the child) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs to build")
    parser.add_argument("--db", type=Path, help="database to build (or reuse if it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="queuectl-dashboard-") as scratch:
        db = args.db or Path(scratch) / "queue.db"
        if not db.exists():
            seconds = build(db, args.jobs)
            print(f"built {args.jobs:,} jobs in {seconds:.1f} s ({db.stat().st_size / 1e6:.0f} MB)"
                  f" (load average {_load()})", flush=True)
        results = time_dashboard(db) + time_cli(db)
    short = results.count(False)
    print(f"{len(results) - short} of {len(results)} within budget"
          + (f", {short} SHORT" if short else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
