"""Issue 12 item 9: many hosts on one PostgreSQL. What a job costs the server, what idle
workers cost, how many connections they hold, and whether an outage runs anything twice.

    .venv/bin/python bench/pg_scale.py                 # 4 hosts x 2 workers x 2 slots
    .venv/bin/python bench/pg_scale.py --short --json  # the smoke test's size

Hosts are network namespaces joined by veth pairs, each with its own host name and PID
namespace (tests/postgres/hosts.py; without root they fall back to loopback, and the output
says so). The server is a private PostgreSQL instance, so that its CPU can be read from its
own processes (/proc, the postmaster's children and what it reaped).

1. Throughput: --jobs `true` jobs through --hosts x --workers workers of --slots slots:
   jobs/s, server CPU per job, workers' CPU per job, connections (pg_stat_activity, sampled).
2. Idle: --idle-workers workers of one slot, spread over the hosts, with nothing to do, for
   --idle-seconds: CPU of the workers and the server together (% of one core), commits/s
   (pg_stat_database), connections. --poll-interval sets their fallback poll.
3. Outages: jobs under `flock -n` (bench/chaos_lab.py) while the server is stopped for longer
   than the lease, and while one host's link is down for longer than the lease: how many
   commands ran twice at once (overlaps; the target is 0).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.postgres

from chaos_lab import Lab, kill_job_processes, own_pid_namespace, wait_for

TICK = os.sysconf("SC_CLK_TCK")
LEASE = 4  # seconds, in the outage rounds: short, so that they take seconds
# --short's: each outage lasts a multiple of the lease, and the smoke test only needs one
# longer than the lease, so half the lease halves its two outages (as sigstop's 2 s lease in
# bench/chaos.py: heartbeats every 0.7 s, the fence's margin 0.2 s).
SHORT_LEASE = 2


def _cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of ``pid`` (with ``children``: also of the children it reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


class Scale:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        from tests.postgres.hosts import TestHosts
        from tests.postgres.server import PrivateServer

        self.args = args
        self.workdir = workdir
        self.hosts = TestHosts(tuple("abcdefgh"[:args.hosts]))
        self.server = PrivateServer()
        self.server.start(sorted(set(self.hosts.addresses.values())))
        self.lab: Lab | None = None

    def close(self) -> None:
        self._stop_workers()
        if self.lab is not None:
            self.lab.close()
        self.server.close()
        self.hosts.close()
        kill_job_processes(self.workdir)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- measuring ---------------------------------------------------------------------------

    def server_cpu(self) -> float:
        postmaster = int((self.server.data / "postmaster.pid").read_text().split()[0])
        return _cpu(postmaster, children=True) + sum(_cpu(p) for p in _children(postmaster))

    def workers_cpu(self) -> float:
        return sum(_cpu(pid, children=True) for name in self.hosts.names
                   for pid in self.hosts.pids(name))

    def sql(self, query: str) -> Any:
        import psycopg

        with psycopg.connect(self.server.url(), autocommit=True) as conn:
            row = conn.execute(query).fetchone()
        return row[0] if row else None

    def connections(self) -> int:
        return int(self.sql("SELECT count(*) FROM pg_stat_activity"
                            " WHERE application_name = 'queuectl'"))

    def commits(self) -> int:
        return int(self.sql("SELECT xact_commit FROM pg_stat_database"
                            " WHERE datname = 'postgres'"))

    # -- workers -----------------------------------------------------------------------------

    def start_workers(self, lab: Lab, per_host: int, slots: int) -> None:
        assert lab.url is not None
        query = lab.url.split("?", 1)[1]  # the lab's schema, reached through each host's link
        for name in self.hosts.names:
            url = f"{self.server.url(self.hosts.addresses[name])}?{query}"
            for _ in range(per_host):
                lab.start_worker(slots, host=partial(self._on_host, name),
                                 env={**self.hosts.marker(name), "QUEUECTL_DB": url})

    def _on_host(self, name: str, argv: list[str]) -> list[str]:
        """``argv`` as run on host ``name``: in its network namespace, a PID namespace of its
        own."""
        return self.hosts.command(name, own_pid_namespace(argv))

    def _stop_workers(self) -> None:
        for name in self.hosts.names:  # unshare's parent ignores SIGTERM: to the workers
            for pid in self.hosts.pids(name):
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
        if self.lab is not None:
            self.lab.stop_workers(timeout=30)
            self.lab.workers.clear()

    def new_lab(self, name: str, **settings: str) -> Lab:
        self._stop_workers()
        if self.lab is not None:
            self.lab.close()
        schema = f"qscale_{name}"
        url = f"{self.server.url()}?schema={schema}"
        self.lab = Lab(self.workdir / name, "postgres", url=url)
        self.lab.configure(**settings)
        return self.lab

    # -- the rounds --------------------------------------------------------------------------

    def throughput(self) -> dict[str, Any]:
        from queuectl import Queue

        args = self.args
        lab = self.new_lab("throughput", lease_duration="30s")
        assert lab.url is not None
        with Queue(lab.url, environ={}) as queue:
            queue.enqueue_many([{"command": "true"}] * args.jobs)
        server_before, workers_before = self.server_cpu(), self.workers_cpu()
        started = time.monotonic()
        self.start_workers(lab, args.workers, args.slots)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while True:
                peak[0] = max(peak[0], self.connections())
                if done.wait(0.2):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        lab.wait_finished(args.jobs, timeout=600)
        elapsed = time.monotonic() - started
        server = self.server_cpu() - server_before
        workers = self.workers_cpu() - workers_before
        done.set()
        sampler.join()
        return {
            "workers": args.hosts * args.workers, "slots": args.hosts * args.workers * args.slots,
            "jobs": args.jobs, "seconds": round(elapsed, 2),
            "jobs_per_second": round(args.jobs / elapsed, 1),
            "server_cpu_ms_per_job": round(1000 * server / args.jobs, 3),
            "workers_cpu_ms_per_job": round(1000 * workers / args.jobs, 2),
            "connections_peak": peak[0],
            "timed_out": int(lab.timed_out),
        }

    def idle(self) -> dict[str, Any]:
        from queuectl import Queue

        args = self.args
        settings = {"poll_interval": args.poll_interval} if args.poll_interval else {}
        lab = self.new_lab("idle", **settings)
        assert lab.url is not None
        per_host = max(1, args.idle_workers // args.hosts)
        self.start_workers(lab, per_host, 1)
        total = per_host * args.hosts
        with Queue(lab.url, environ={}) as queue:
            wait_for(lambda: len(queue.workers()) >= total, 120, f"{total} workers up")
        # Past their start-up, and past the moment PostgreSQL counts its commits: a backend
        # reports its counters to pg_stat_database up to 10 s after it went idle, so that
        # without this wait the window would count start-up commits too.
        threading.Event().wait(args.idle_settle)
        server_before, workers_before = self.server_cpu(), self.workers_cpu()
        commits_before, started = self.commits(), time.monotonic()
        threading.Event().wait(args.idle_seconds)  # the window measured, not a wait for a result
        elapsed = time.monotonic() - started
        server = self.server_cpu() - server_before
        workers = self.workers_cpu() - workers_before
        commits = self.commits() - commits_before - 2  # the two reads of the counter
        return {
            "idle_workers": total, "poll_interval": args.poll_interval or "default",
            "seconds": round(elapsed, 1),
            "cpu_percent_of_a_core": round(100 * (server + workers) / elapsed, 2),
            "server_cpu_percent": round(100 * server / elapsed, 2),
            "workers_cpu_percent": round(100 * workers / elapsed, 2),
            "commits_per_second": round(commits / elapsed, 2),
            "commits_per_worker_per_second": round(commits / elapsed / total, 3),
            "connections": self.connections(),
        }

    def outage(self, kind: str) -> dict[str, Any]:
        lease = SHORT_LEASE if self.args.short else LEASE
        lab = self.new_lab(kind.replace("-", "_"), lease_duration=f"{lease}s",
                           backoff_base="1", max_retries="25")
        count, seconds = (8, 1.0) if self.args.short else (40, 1.5)  # under the lease
        ids = lab.enqueue((f"{kind[0]}{n:03}", f"sleep {seconds:g}") for n in range(count))
        self.start_workers(lab, 1, 2)
        slots = 2 * len(self.hosts.names)  # every worker busy, host a's too, before the cut
        wait_for(lambda: sum(1 for e, _, _ in lab.runs() if e == "start") >= slots, 60,
                 "every slot to start a job")
        if kind == "server-restart":
            self.server._pg_ctl("stop", "-m", "fast")
            threading.Event().wait(lease * 1.5)  # the outage itself
            self.server.start(self.server.addresses)
        else:
            link = f"vqa{self.hosts.tag}o"
            subprocess.run(["ip", "link", "set", link, "down"], check=False)
            threading.Event().wait(lease * 2)  # the outage itself
            subprocess.run(["ip", "link", "set", link, "up"], check=False)
        lab.wait_finished(len(ids), timeout=180)
        self._stop_workers()
        verdict = lab.verdict(ids)
        return {"jobs": len(ids), "ran_twice_at_once": verdict["overlaps"],
                "lost": verdict["lost"], "completed_twice": verdict["completed_twice"],
                "rescued_runs": verdict["lost_runs"], "timed_out": verdict["timed_out"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="workers per host")
    parser.add_argument("--slots", type=int, default=2, help="slots per worker")
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--idle-workers", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--poll-interval", help="the idle workers' poll_interval (e.g. 10s)")
    parser.add_argument("--idle-settle", type=float, default=12,
                        help="seconds between the last idle worker's start and the window")
    parser.add_argument("--only", choices=("throughput", "idle", "outages"),
                        help="one round only")
    parser.add_argument("--short", action="store_true", help="the smoke test's size")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    if args.short:
        args.hosts, args.workers, args.jobs = 2, 1, 200
        args.idle_workers, args.idle_seconds, args.idle_settle = 6, 1, 0.5
    workdir = Path(tempfile.mkdtemp(prefix="queuectl-scale-"))
    # A SIGTERM (a test's timeout) cleans up too: the server, the namespaces, the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    scale = Scale(args, workdir)
    report: dict[str, Any] = {"hosts": scale.hosts.mode, "load_before": os.getloadavg()[0]}
    try:
        if args.only in (None, "throughput"):
            report["throughput"] = scale.throughput()
        if args.only in (None, "idle"):
            report["idle"] = scale.idle()
        if args.only in (None, "outages"):
            if scale.hosts.namespaces:
                report["link_cut"] = scale.outage("link-cut")
            report["server_restart"] = scale.outage("server-restart")
    finally:
        scale.close()
    report["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(report))
    else:
        for section, figures in report.items():
            if isinstance(figures, dict):
                print(f"{section}:")
                for key, value in figures.items():
                    print(f"  {key:28} {value}")
            else:
                print(f"{section}: {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
