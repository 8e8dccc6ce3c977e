"""The reliability suite's laboratory: one queue, real workers, and a record of every run.

Every job of a scenario runs its body under ``flock -n`` on a lock file of its own, and logs
``start``, ``end`` or ``overlap`` lines (job id, attempt) to one file: a run that finds the
lock taken means that an earlier run of the same job is still alive, which is exactly the
"ran twice at once" this suite hunts for. The lock is held by the processes of the run (the
lock's file descriptor is inherited), so it is released when the last of them dies, however
it dies.

``Lab.verdict()`` reads the database through the library and the runs log, and counts what
went wrong: jobs lost or stuck, overlaps, commands completed twice, attempts charged as "worker
lost" to runs that never started, tracebacks in any log, and SQLite's integrity check.
"""

from __future__ import annotations

import os
import random
import secrets
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from queuectl import Queue

PG_URL = os.environ.get("QUEUECTL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
LOST = "worker lost"
FINISHED = {"completed", "dead", "canceled"}
# An attempt charged "worker lost" with no start line in the log is a run that never started,
# unless its worker was killed within this long of the claim (the job may have been spawned
# and killed before its first line): those are counted apart, as ambiguous.
AMBIGUOUS_SECONDS = 0.02


def wait_for(condition: Callable[[], Any], timeout: float, message: str,
             interval: float = 0.05) -> Any:
    """Poll ``condition`` until it is truthy; raise ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {message}")
        pause.wait(interval)


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    killed: bool = False

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Lab:
    """A queue in ``workdir`` on ``backend`` ("sqlite" or "postgres"), or at ``url``."""

    workdir: Path
    backend: str = "sqlite"
    url: str | None = None
    workers: list[Worker] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)  # time.time() of every SIGKILL
    cli_errors: list[str] = field(default_factory=list)  # stderr of CLI calls with a traceback
    timed_out: bool = False  # the jobs did not all finish in time
    _schema: str | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "locks").mkdir(exist_ok=True)
        self.runs_log = self.workdir / "runs.log"
        self.runs_log.touch()
        if self.url is None:
            if self.backend == "postgres":
                self._schema = "qchaos_" + secrets.token_hex(5)
                self.url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={self._schema}"
            else:
                self.url = str(self.workdir / "queue.db")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUECTL_")}
        self.env.update(QUEUECTL_DB=self.url, XDG_DATA_HOME=str(self.workdir / "xdg"),
                        XDG_STATE_HOME=str(self.workdir / "state"), NO_COLOR="1",
                        # Run records of its own: workers of other queues on this host (other
                        # test runs) may not prune a dead worker's before its rescue read them.
                        QUEUECTL_RECORDS_DIR=str(self.workdir / "records"))

    # -- the CLI and jobs -------------------------------------------------------------------

    def cli(self, *args: str, input: str | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "queuectl", *args],
                                env={**self.env, **(env or {})}, cwd=self.workdir, input=input,
                                capture_output=True, text=True, timeout=timeout)
        if "Traceback" in result.stderr:
            self.cli_errors.append(f"queuectl {' '.join(args)}: {result.stderr}")
        return result

    def configure(self, **settings: str) -> None:
        # Through the library, not `queuectl config set` (a thin client of config_set): a
        # process per setting cost every scenario some 0.7 s.
        with Queue(self.url, environ={}) as queue:
            for key, value in settings.items():
                queue.config_set(key, value)

    def command(self, job_id: str, body: str) -> str:
        """``body`` wrapped so that its runs are logged and an overlap is caught."""
        log = shlex.quote(str(self.runs_log))
        lock = shlex.quote(str(self.workdir / "locks" / job_id))
        mark = f"{job_id} $QUEUECTL_ATTEMPT >> {log}"
        inner = shlex.quote(f"echo start {mark}; {body}; echo end {mark}")
        return (f"flock -n -E 75 {lock} sh -c {inner}; rc=$?; "
                f"if [ $rc -eq 75 ]; then echo overlap {mark}; exit 0; fi; exit $rc")

    def enqueue(self, jobs: Iterable[tuple[str, str]], **fields: Any) -> list[str]:
        """Enqueue ``(id, body)`` pairs in one transaction; returns the ids. (Through the
        library, as ``configure``: the scenarios that test the CLI call it themselves.)"""
        specs = [{"id": job_id, "command": self.command(job_id, body), **fields}
                 for job_id, body in jobs]
        with Queue(self.url, environ={}) as queue:
            queue.enqueue_many(specs, ids_only=True)
        return [spec["id"] for spec in specs]

    # -- workers ----------------------------------------------------------------------------

    def start_worker(self, slots: int = 2, *args: str,
                     host: Callable[[list[str]], list[str]] | None = None,
                     env: dict[str, str] | None = None) -> Worker:
        """A worker of ``slots`` slots; ``host`` wraps its command line to run it elsewhere
        (a network namespace, see tests/postgres/hosts.py), ``env`` adds to its environment."""
        log = self.workdir / f"worker-{len(self.workers)}.log"
        argv = [sys.executable, "-m", "queuectl", "worker", "start", "--count", str(slots),
                *args]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                host(argv) if host else argv, env={**self.env, **(env or {})},
                cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        worker = Worker(proc, log)
        self.workers.append(worker)
        return worker

    def kill(self, worker: Worker) -> None:
        self.kills.append(time.time())
        worker.killed = True
        worker.proc.kill()
        worker.proc.wait()

    def kill_random(self, rng: random.Random) -> Worker | None:
        alive = [worker for worker in self.workers if worker.alive]
        if not alive:
            return None
        victim = rng.choice(alive)
        self.kill(victim)
        return victim

    def stop_workers(self, timeout: float = 60) -> None:
        """Stop every worker gracefully (SIGTERM), then SIGKILL what is left."""
        for worker in self.workers:
            if worker.alive:
                worker.proc.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(worker)

    def unexpected_exits(self) -> int:
        """Workers that ended on their own, before anyone stopped or killed them."""
        return sum(1 for w in self.workers if not w.killed and w.proc.returncode not in
                   (None, 0, -signal.SIGTERM))

    def worker_logs(self) -> str:
        return "\n".join(w.log.read_text(errors="replace") for w in self.workers
                         if w.log.exists())

    # -- reading the outcome ----------------------------------------------------------------

    def states(self) -> Counter[str]:
        with Queue(self.url, environ={}) as queue:
            return Counter({s.value: n for s, n in queue.counts().items() if n})

    def wait_finished(self, total: int, timeout: float) -> bool:
        """Wait until ``total`` jobs have finished; False if ``timeout`` ran out first (the
        verdict then shows what was lost or stuck)."""
        try:
            wait_for(lambda: sum(self.states()[s] for s in FINISHED) >= total, timeout,
                     f"all {total} jobs to finish", interval=0.2)
        except TimeoutError:
            self.timed_out = True
            return False
        return True

    def runs(self) -> list[tuple[str, str, int]]:
        """The runs log as ``(event, job id, attempt)``."""
        rows = []
        for line in self.runs_log.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].isdigit():
                rows.append((parts[0], parts[1], int(parts[2])))
        return rows

    def verdict(self, ids: list[str]) -> dict[str, Any]:
        runs = self.runs()
        started = {(job, attempt) for event, job, attempt in runs if event == "start"}
        ends = Counter(job for event, job, _ in runs if event == "end")
        overlaps = sum(1 for event, _, _ in runs if event == "overlap")
        with Queue(self.url, environ={}) as queue:
            jobs = {job.id: job for job in queue.jobs(limit=len(ids) + 100)}
            history = {job_id: queue.attempts(job_id) for job_id in jobs}
        lost_runs = Counter(job_id for job_id, attempts in history.items()
                            for a in attempts if a.error == LOST)
        wasted = ambiguous = 0
        for job_id, attempts in history.items():
            for attempt in attempts:
                if attempt.error != LOST or (job_id, attempt.number) in started:
                    continue
                if any(0 <= kill - attempt.started_at <= AMBIGUOUS_SECONDS for kill in self.kills):
                    ambiguous += 1
                else:
                    wasted += 1
        figures: dict[str, Any] = {
            "jobs": len(ids),
            "kills": len(self.kills),
            "lost": sum(1 for i in ids if i not in jobs or jobs[i].state.value != "completed"),
            "stuck": sum(1 for j in jobs.values() if j.state.value == "processing"),
            "overlaps": overlaps,
            "completed_twice": sum(1 for i in ids if ends[i] > 1),
            # a command may complete twice only when a run of it was lost with its worker
            "unexplained_doubles": sum(1 for i in ids if ends[i] > 1 + lost_runs[i]),
            "lost_runs": sum(lost_runs.values()),
            "wasted_attempts": wasted,
            "ambiguous_attempts": ambiguous,
            "tracebacks": self.worker_logs().count("Traceback") + len(self.cli_errors),
            "worker_deaths": self.unexpected_exits(),
            "timed_out": int(self.timed_out),
        }
        if self.backend == "sqlite" and "://" not in (self.url or ""):
            figures["integrity"] = integrity(Path(self.url or ""))
        return figures

    def close(self) -> None:
        for worker in self.workers:
            if worker.alive:
                worker.proc.kill()
                worker.proc.wait()
        kill_job_processes(self.workdir)
        if self._schema is not None:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE')


def own_pid_namespace(argv: list[str]) -> list[str]:
    """``argv`` in a PID namespace of its own, as on another machine: no rescuer elsewhere can
    reach its processes. (unshare's parent ignores SIGTERM: signal the worker itself.)"""
    return ["unshare", "--pid", "--mount-proc", "--kill-child=SIGKILL", *argv]


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def kill_job_processes(workdir: Path) -> None:
    """SIGKILL what is left of the lab's jobs: every process whose command line or
    environment names its folder (jobs of killed workers live in sessions of their own)."""
    needle = str(workdir).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in seen:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass
