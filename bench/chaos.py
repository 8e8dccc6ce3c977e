"""The reliability suite: faults thrown at real workers, and what came of them, as figures.

    python bench/chaos.py                      # every scenario, full length (about 10 minutes)
    python bench/chaos.py --short              # the short form CI runs (tests/chaos)
    python bench/chaos.py --only kill9 --backend postgres --json

Each scenario prints one line of figures; every figure but ``jobs``, ``kills``, ``lost_runs``
and ``ambiguous_attempts`` should be 0 (``integrity`` should be ok). The scenarios:

  kill9        workers killed with SIGKILL about once a second while jobs run (both backends)
  kill9-fast   many tiny jobs, workers killed every 0.3 s: many kills land in a commit
  sigstop      a worker frozen past its lease while its jobs run; then thawed
  full-disk    the SQLite file on a small tmpfs that fills up while workers run (root only)
  lock-held    a write lock held past the busy timeout while workers run
  pg-restart   a private PostgreSQL server stopped for longer than the lease, then started
  pg-stop-short  the same, stopped for a quarter of the lease: running jobs go on
  link-down    one host's link to PostgreSQL cut for longer than the lease (network namespaces)
  env-clear    a job that clears its environment (`exec env -i sleep`) whose worker is killed
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.postgres.server

from chaos_lab import Lab, kill_job_processes, own_pid_namespace, wait_for

Figures = dict[str, Any]
Scenario = Callable[[Path, str, bool], Figures]  # (workdir, backend, short) -> figures
SCENARIOS: dict[str, Scenario] = {}
BACKENDS: dict[str, tuple[str, ...]] = {}


def scenario(name: str,
             backends: tuple[str, ...] = ("sqlite",)) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        BACKENDS[name] = backends
        return function

    return register


def _pause(seconds: float) -> None:
    threading.Event().wait(seconds)  # the pace of the chaos itself, not a wait for a result


def _all_started(lab: Lab, job_ids: list[str]) -> bool:
    """Whether every one of ``job_ids`` has started a run."""
    started = {job for event, job, _ in lab.runs() if event == "start"}
    return started >= set(job_ids)


def _all_tried_again(lab: Lab, job_ids: list[str]) -> bool:
    """Whether every one of ``job_ids`` has had a second run start, or find its first run
    still alive (an overlap: the verdict counts it, where waiting for a start line would
    time out)."""
    again = {job for event, job, number in lab.runs()
             if event in ("start", "overlap") and number >= 2}
    return again >= set(job_ids)


def _holders(lab: Lab) -> int:
    """How many workers hold a running job."""
    from queuectl import Queue

    with Queue(lab.url, environ={}) as queue:
        return len({job.worker_id for job in queue.jobs("processing", limit=100)})


def _has_words(path: Path, least: int) -> bool:
    return path.exists() and len(path.read_text().split()) >= least


def _first_run_long(first: float, later: float = 0.5) -> str:
    """A body whose first run sleeps ``first`` seconds and any later run ``later``: the first
    run is the one a fault catches; a run again after its kill or rescue is caught
    overlapping it at its start (flock -n), so it need only last while the scenario still
    has something to check during it (the stale worker's return, in sigstop and link-down)."""
    return f'if [ "$QUEUECTL_ATTEMPT" = 1 ]; then sleep {first:g}; else sleep {later:g}; fi'


def _bodies(count: int, prefix: str, rng: random.Random, longest: float) -> list[tuple[str, str]]:
    return [(f"{prefix}{n:05}", f"sleep {rng.uniform(0.01, longest):.3f}") for n in range(count)]


@scenario("kill9", backends=("sqlite", "postgres"))
def kill9(workdir: Path, backend: str, short: bool) -> Figures:
    """3 workers of 2 slots; one is killed about every second and replaced (every 0.6 s in
    the short form, whose 240 jobs are done in about 5 s: at one a second its last three kills
    found nothing left to run)."""
    jobs, kills = (240, 8) if short else (1500, 40)
    return _killing(workdir, backend, jobs, kills, every=0.6 if short else 1.0, longest=0.2,
                    slots=2, seed=1, short=short)


@scenario("kill9-fast")
def kill9_fast(workdir: Path, backend: str, short: bool) -> Figures:
    """2 workers of 4 slots on tiny jobs, one killed every 0.3 s: kills land in commits."""
    jobs, kills = (400, 10) if short else (3000, 60)
    return _killing(workdir, backend, jobs, kills, every=0.3, longest=0.01, slots=4, seed=2,
                    short=short)


def _killing(workdir: Path, backend: str, jobs: int, kills: int, *, every: float,
             longest: float, slots: int, seed: int, short: bool) -> Figures:
    rng = random.Random(seed)
    lab = Lab(workdir, backend)
    try:
        lab.configure(lease_duration="3s", backoff_base="1", max_retries="25")
        ids = lab.enqueue(_bodies(jobs, "k", rng, longest))
        for _ in range(3 if slots == 2 else 2):
            lab.start_worker(slots)
        for _ in range(kills):
            _pause(rng.uniform(0.5, 1.5) * every)
            if lab.kill_random(rng) is not None:
                lab.start_worker(slots)
        lab.wait_finished(len(ids), timeout=60 if short else 300)
        lab.stop_workers()
        return lab.verdict(ids)
    finally:
        lab.close()


@scenario("sigstop", backends=("sqlite", "postgres"))
def sigstop(workdir: Path, backend: str, short: bool) -> Figures:
    """A worker holding long jobs is frozen (SIGSTOP) past its lease; another worker rescues
    them. The frozen runs must be killed before their re-runs start, and the thawed worker's
    stale results refused."""
    rounds = 1 if short else 3
    lab = Lab(workdir, backend)
    try:
        lab.configure(lease_duration="2s", backoff_base="1", max_retries="10")
        ids: list[str] = []
        for number in range(rounds):
            # The re-runs outlast the thawed worker's first moves (its results refused).
            batch = lab.enqueue([(f"s{number}-{n}", _first_run_long(4, later=1.5))
                                 for n in range(2)])
            ids += batch
            frozen = lab.start_worker(2)
            wait_for(partial(_all_started, lab, batch), 30, "the frozen worker's jobs to start")
            frozen.proc.send_signal(19)  # SIGSTOP
            rescuer = lab.start_worker(2)
            wait_for(partial(_all_tried_again, lab, batch), 60, "the re-runs to start")
            frozen.proc.send_signal(18)  # SIGCONT: its results must now be refused
            lab.wait_finished(len(ids), timeout=60 if short else 120)
            lab.stop_workers()
            del rescuer
        figures = lab.verdict(ids)
        figures["stale_results_recorded"] = sum(
            1 for job_id in ids for a in _attempts(lab, job_id)
            if a.error is None and a.number == 1)
        return figures
    finally:
        lab.close()


def _attempts(lab: Lab, job_id: str) -> list[Any]:
    from queuectl import Queue

    with Queue(lab.url, environ={}) as queue:
        return queue.attempts(job_id)


@scenario("full-disk")
def full_disk(workdir: Path, backend: str, short: bool) -> Figures:
    """The database on a 24 MiB tmpfs that a filler file fills while 2 workers run jobs.

    While the disk is full, workers must stay alive and print no traceback, and CLI writes
    must fail with one line and exit 1; once space is freed every job completes."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return {"skipped": "needs root to mount a tmpfs"}
    disk = workdir / "disk"
    disk.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], check=True)
    lab = Lab(workdir / "lab", url=str(disk / "queue.db"))
    filler = disk / "filler"
    try:
        jobs = 60 if short else 300
        lab.configure(lease_duration="3s", backoff_base="1", max_retries="25")
        ids = lab.enqueue((f"d{n:04}", "echo some output; sleep 0.05") for n in range(jobs))
        for _ in range(2):
            lab.start_worker(2)
        wait_for(lambda: lab.states()["completed"] >= 5, 60, "some jobs to complete")
        _fill(filler)
        _pause(3 if short else 15)  # the workers meet the full disk again and again
        alive_while_full = sum(1 for w in lab.workers if w.alive)
        enqueue = lab.cli("enqueue", "--command", "true")
        setting = lab.cli("config", "set", "max_retries", "3")
        filler.unlink()
        lab.wait_finished(len(ids), timeout=60 if short else 180)
        lab.stop_workers()
        figures = lab.verdict(ids)
        figures["workers_dead_while_full"] = 2 - alive_while_full
        figures["cli_writes_not_one_line_exit_1"] = sum(
            1 for r in (enqueue, setting)
            if r.returncode != 1 or len(r.stderr.strip().splitlines()) != 1)
        return figures
    finally:
        lab.close()
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(path: Path) -> None:
    """Write to ``path`` until the file system has not a byte left (unbuffered, so that no
    failed flush is left for ``close``)."""
    with path.open("wb", buffering=0) as file:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    file.write(b"\0" * size)
            except OSError:
                pass


@scenario("lock-held")
def lock_held(workdir: Path, backend: str, short: bool) -> Figures:
    """Another process holds SQLite's write lock for longer than the busy timeout (set short
    through QUEUECTL_BUSY_TIMEOUT where supported; else the default 60 s, full form only)."""
    busy = 2.0 if short else 5.0
    lab = Lab(workdir, backend)
    lab.env["QUEUECTL_BUSY_TIMEOUT"] = f"{busy:g}s"
    try:
        lab.configure(lease_duration="3s", backoff_base="1", max_retries="25")
        ids = lab.enqueue((f"l{n:04}", "sleep 0.05") for n in range(40 if short else 200))
        for _ in range(2):
            lab.start_worker(2)
        wait_for(lambda: lab.states()["completed"] >= 3, 60, "some jobs to complete")
        holder = sqlite3.connect(lab.url or "", timeout=60, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        enqueue = lab.cli("enqueue", "--command", "true")
        _pause(max(0.0, busy * 2 + 1 - (time.monotonic() - started)))
        alive_while_locked = sum(1 for w in lab.workers if w.alive)
        holder.execute("ROLLBACK")
        holder.close()
        lab.wait_finished(len(ids), timeout=60 if short else 180)
        lab.stop_workers()
        figures = lab.verdict(ids)
        figures["workers_dead_while_locked"] = 2 - alive_while_locked
        figures["cli_write_not_one_line_exit_1"] = int(
            enqueue.returncode != 1 or len(enqueue.stderr.strip().splitlines()) != 1)
        return figures
    finally:
        lab.close()


@scenario("pg-restart", backends=("postgres",))
def pg_restart(workdir: Path, backend: str, short: bool) -> Figures:
    """A private PostgreSQL server is stopped for longer than the lease while jobs run, then
    started: no run may be taken from a live worker, none recorded twice, none run twice at
    once. Runs whose leases ran out meanwhile were ended by their own workers (fence.py) and
    run again; ``outage_kills`` counts them."""
    return _server_outage(workdir, lease=4, stopped=6, long_job=8, short=short)


@scenario("pg-stop-short", backends=("postgres",))
def pg_stop_short(workdir: Path, backend: str, short: bool) -> Figures:
    """The server is stopped for a quarter of the lease: running jobs go on and are recorded
    once (``outage_kills`` must be 0 here)."""
    figures = _server_outage(workdir, lease=12, stopped=3, long_job=8, short=short)
    figures["outage_kills_short_outage"] = figures.pop("outage_kills", 0)
    return figures


def _server_outage(workdir: Path, *, lease: float, stopped: float, long_job: float,
                   short: bool) -> Figures:
    from tests.postgres.server import PrivateServer

    server = PrivateServer()
    server.start()
    lab = Lab(workdir, "postgres", url=server.url())
    try:
        lab.configure(lease_duration=f"{lease:g}s", backoff_base="1", max_retries="25")
        rng = random.Random(3)
        # The long jobs first (FIFO), so that the outage starts as soon as both workers run
        # jobs, not once the short jobs ahead have drained; the short ones run around them.
        ids = lab.enqueue([(f"long{n}", _first_run_long(long_job)) for n in range(2)]
                          + _bodies(60 if short else 300, "p", rng, 0.3))
        for _ in range(2):
            lab.start_worker(2)
        # Both at work, not one still starting: a worker that cannot reach the server as it
        # starts exits with one line, which is right, and no outage of a running queue.
        wait_for(lambda: sum(1 for e, j, _ in lab.runs() if e == "start" and
                             j.startswith("long")) >= 1 and _holders(lab) == 2, 60,
                 "a long job to start, and both workers to hold jobs")
        rounds = 1 if short else 3
        for number in range(rounds):
            server._pg_ctl("stop", "-m", "fast")
            _pause(stopped)
            server.start()
            if number < rounds - 1:
                _pause(2)  # up a while before the next outage; after the last, wait_finished
        lab.wait_finished(len(ids), timeout=90 if short else 240)
        lab.stop_workers()
        figures = lab.verdict(ids)
        # No worker died: every run charged "worker lost" was taken from a live worker.
        figures["rescued_while_alive"] = figures["lost_runs"]
        figures["outage_kills"] = outage_kills(lab.worker_logs())
        return figures
    finally:
        lab.close()
        server.close()


def outage_kills(logs: str) -> int:
    """Runs their own workers ended as their leases ran out unrenewed (fence.report_ended's
    lines in the workers' ``logs``; tests/chaos checks that this still reads them)."""
    return sum(int(line.split("leases of ")[1].split()[0])
               for line in logs.splitlines() if "ran out unrenewed" in line)


@scenario("link-down", backends=("postgres",))
def link_down(workdir: Path, backend: str, short: bool) -> Figures:
    """Host a (a network namespace) runs long jobs; its link to the PostgreSQL server goes
    down for longer than the lease, and a worker on host b rescues those jobs once their
    leases have run out. Host a's workers must have ended the runs first (fence.py): nothing
    runs twice at once. Once the link is back, host a's worker carries on."""
    from tests.postgres.hosts import TestHosts
    from tests.postgres.server import PrivateServer

    hosts = TestHosts()
    if not hosts.namespaces:
        hosts.close()
        return {"skipped": "needs network namespaces (root and ip netns)"}
    server = PrivateServer()
    lab: Lab | None = None
    try:
        server.start(sorted(set(hosts.addresses.values())))
        lease = 4
        lab = Lab(workdir, "postgres", url=server.url(hosts.addresses["a"]))
        lab.configure(lease_duration=f"{lease}s", backoff_base="1", max_retries="25")
        rounds = 1 if short else 3
        ids: list[str] = []
        for number in range(rounds):
            # Host b's re-runs outlast host a's return (its connection tried again at least
            # once a second, a heartbeat every 1.3 s): a comes back while b runs its jobs.
            batch = lab.enqueue([(f"n{number}-{n}", _first_run_long(7, later=3))
                                 for n in range(2)])
            ids += batch
            lab.start_worker(2, host=lambda argv: hosts.command("a", own_pid_namespace(argv)),
                             env=hosts.marker("a"))
            wait_for(partial(_all_started, lab, batch), 30, "host a's jobs to start")
            link = f"vqa{hosts.tag}o"
            subprocess.run(["ip", "link", "set", link, "down"], check=True)
            lab.start_worker(2, host=lambda argv: hosts.command("b", own_pid_namespace(argv)),
                             env={**hosts.marker("b"),
                                  "QUEUECTL_DB": server.url(hosts.addresses["b"])})
            # The leases run out (host a's fence ends its runs first), then host b rescues
            # the jobs: the link is down for longer than the lease, however long that takes.
            wait_for(partial(_all_tried_again, lab, batch), 60, "host b's re-runs")
            subprocess.run(["ip", "link", "set", link, "up"], check=True)
            lab.wait_finished(len(ids), timeout=60 if short else 120)
            for name in hosts.names:  # unshare's parent ignores SIGTERM: to the workers
                for pid in hosts.pids(name):
                    os.kill(pid, signal.SIGTERM)
            lab.stop_workers()
        figures = lab.verdict(ids)
        figures["outage_kills"] = outage_kills(lab.worker_logs())
        return figures
    finally:
        if lab is not None:
            lab.close()
        server.close()
        hosts.close()


@scenario("env-clear")
def env_clear(workdir: Path, backend: str, short: bool) -> Figures:
    """A job that clears its environment is orphaned by a SIGKILLed worker: the next worker
    must end it before running the job again."""
    lab = Lab(workdir, backend)
    pids = workdir / "pids"
    try:
        lab.configure(lease_duration="3s", backoff_base="1", max_retries="5")
        overlaps = 0
        ids: list[str] = []
        for number in range(1 if short else 3):
            job_id = f"e{number}"
            ids.append(job_id)
            # Not wrapped in lab.command: flock would keep the environment alive in a
            # process of the run, and the test is of a run whose every process cleared it.
            mark = f"{job_id} $QUEUECTL_ATTEMPT >> {lab.runs_log}"
            body = (f'echo start {mark}; echo "$QUEUECTL_ATTEMPT $$" >> {pids}; '
                    'if [ "$QUEUECTL_ATTEMPT" = 1 ]; then exec env -i sleep 30; fi; '
                    f'echo end {mark}')
            lab.cli("enqueue", "--id", job_id, "--command", body)
            worker = lab.start_worker(1)
            wanted = 2 * (number + 1)  # two words per started run: attempt and pid
            wait_for(partial(_has_words, pids, wanted), 30, "the job to start")
            first_pid = int(pids.read_text().split()[-1])
            lab.kill(worker)
            lab.start_worker(1)
            lab.wait_finished(number + 1, timeout=60)
            lab.stop_workers()
            overlaps += int(_alive(first_pid))
        figures = lab.verdict(ids)
        figures["overlaps"] += overlaps
        return figures
    finally:
        lab.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# -- running and reporting -------------------------------------------------------------------

ZERO_EXPECTED = ("timed_out", "lost", "stuck", "overlaps", "unexplained_doubles", "wasted_attempts",
                 "tracebacks", "worker_deaths", "stale_results_recorded",
                 "workers_dead_while_full", "cli_writes_not_one_line_exit_1",
                 "workers_dead_while_locked", "cli_write_not_one_line_exit_1",
                 "rescued_while_alive", "outage_kills_short_outage")


def failures(figures: Figures) -> list[str]:
    """The figures that are not what a reliable queue gives."""
    bad = [f"{key}={figures[key]}" for key in ZERO_EXPECTED if figures.get(key, 0)]
    if figures.get("integrity", "ok") != "ok":
        bad.append(f"integrity={figures['integrity']}")
    if "error" in figures:
        bad.append(f"error={figures['error']}")
    return bad


def run(name: str, backend: str, short: bool) -> Figures:
    workdir = Path(tempfile.mkdtemp(prefix=f"queuectl-chaos-{name}-"))
    started = time.monotonic()
    try:
        figures = SCENARIOS[name](workdir, backend, short)
    except Exception as exc:  # a scenario that cannot finish is a finding, not a crash
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        kill_job_processes(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the short form run in CI")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    code = 0
    for name in args.only or list(SCENARIOS):
        for backend in BACKENDS[name]:
            if args.backend not in ("all", backend):
                continue
            figures = run(name, backend, args.short)
            load = os.getloadavg()[0]
            bad = failures(figures)
            code = code or int(bool(bad))
            if args.json:
                print(json.dumps({"scenario": name, "backend": backend, "load": load,
                                  "figures": figures, "failures": bad}), flush=True)
            else:
                shown = " ".join(f"{k}={v}" for k, v in figures.items())
                print(f"{name:11} {backend:8} load {load:.1f}  {shown}"
                      f"{'  FAIL: ' + ', '.join(bad) if bad else ''}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
