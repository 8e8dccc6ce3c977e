"""A worker survives its database restarting: running jobs keep running, and every result is
recorded once the server is back. No job is lost, and none runs twice."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from queuectl import Queue
from queuectl.errors import StorageError
from tests.helpers import Cli, WorkerPool, as_json, wait_until

from .server import PrivateServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    instance = PrivateServer()
    try:
        instance.start()
        yield instance
    finally:
        instance.close()


def _counts(url: str) -> Counter[str] | None:
    """Job counts per state, or None while the server is away."""
    try:
        with Queue(url, environ={}) as queue:
            return Counter({s.value: n for s, n in queue.counts().items() if n})
    except StorageError:
        return None


def _connected(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a TCP connection to ``port`` (on this host)."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            sockets.add(target[len("socket:["):-1])
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in sockets:
                return True
    return False


def test_jobs_complete_across_a_server_restart(
    server: PrivateServer, cli: Cli, tmp_path: Path
) -> None:
    url = server.url()
    cli.env["QUEUECTL_DB"] = url
    ran = tmp_path / "ran.log"
    long_started = tmp_path / "long-started"
    jobs = 30
    lines = [f'{{"id":"long","command":"touch {long_started}; sleep 2; echo long >> {ran}"}}']
    lines += [f'{{"id":"j{n:02}","command":"sleep 0.2; echo j{n:02} >> {ran}"}}'
              for n in range(jobs - 1)]
    cli("enqueue", "--file", "-", input="\n".join(lines) + "\n")
    pool = WorkerPool(cli, url, tmp_path)
    try:
        worker = pool.start(3)
        wait_until(long_started.exists, timeout=30, message="the long job to start")

        server.restart()  # while "long" and others run, and many wait
        wait_until(lambda: _counts(url) == Counter(completed=jobs), timeout=90, interval=0.2,
                   message=f"all {jobs} jobs to complete after the restart")

        assert worker.proc.poll() is None, "the worker died with its database"
        # The worker noticed: on its working connection, or first on the one wake-ups use
        # (the same connection since a worker holds one; which fails first is the server's).
        assert re.search(r"lost the (database )?connection", worker.stderr())
        assert Counter(ran.read_text().split()) == Counter(
            ["long"] + [f"j{n:02}" for n in range(jobs - 1)])  # every job ran exactly once
        long = as_json(cli("show", "long", "--json"))
        assert (long["state"], long["attempts"]) == ("completed", 1)  # not lost, not re-run
        cli("worker", "stop", "--timeout", "30s")
        assert worker.wait(30) == 0
    finally:
        pool.close()


def test_no_lease_is_rescued_until_the_server_has_been_up_for_a_lease(
    server: PrivateServer,
) -> None:
    """A worker started right after a restart from outside finds every lease expired (the
    server was away longer than they last), but their holders may be alive and reconnecting:
    a restart is an outage, and rescues wait for a lease after it (issue 12)."""
    from queuectl.config import Settings
    from queuectl.models import Job, JobState, NewJob, Outcome
    from queuectl.worker.maintenance import rescue_lost_runs

    with Queue(server.url(), environ={}) as queue:
        storage = queue.storage
        now = storage.clock().now()
        storage.enqueue([NewJob("held", "sleep 60", 3)], now)
        # Held by a worker elsewhere, on a 1 s lease that ran out during the restart.
        [job] = storage.record_and_claim("elsewhere", [], 1, now, now + 1)[0]
        server.restart()
        wait_until(lambda: storage.clock().now() > now + 1.5, timeout=10,
                   message="the lease to run out")

        assert rescue_lost_runs(storage, Settings(lease_duration=30.0),
                                storage.clock().now()) == []
        held = storage.get("held")
        assert held is not None and (held.state, held.worker_id) == (
            JobState.PROCESSING, "elsewhere")

        def lost(run: Job) -> Outcome:
            return Outcome(run.id, run.runs, JobState.FAILED, storage.clock().now(),
                           error="worker lost")

        # Only the server's age held it back: up for a lease (here 0 s), it is rescued.
        assert [o.job_id for o in storage.rescue(storage.clock().now(), lost, lease=0.0)] == [
            job.id]


def test_a_worker_started_while_the_server_is_down_waits_for_it(
    server: PrivateServer, cli: Cli, tmp_path: Path
) -> None:
    """`worker start` before the server is up (a host booting, a server restarting) waits for
    it, one line per try, instead of exiting 1 with "cannot reach PostgreSQL"; a SIGTERM
    meanwhile ends it at once, cleanly."""
    import signal

    cli.env["QUEUECTL_DB"] = url = server.url()
    cli("add", "--id", "early", "echo ran")
    server.stop()
    pool = WorkerPool(cli, url, tmp_path)
    try:
        waiting = pool.start(1, "--burst", wait=False)
        stopped = pool.start(1, wait=False)
        for worker in (waiting, stopped):
            wait_until(lambda w=worker: "(not started yet)" in w.stderr()  # type: ignore[misc]
                       or w.proc.poll() is not None, timeout=30,
                       message="the worker to say it waits for the database")
            assert worker.proc.poll() is None, f"the worker exited:\n{worker.stderr()}"
            assert re.search(r"^\d\d:\d\d:\d\d database error: cannot reach PostgreSQL at \S+:"
                             r" .*; retrying in \S+ \(not started yet\)$", worker.stderr(), re.M)

        stopped.signal(signal.SIGTERM)
        assert stopped.wait(30) == 0
        assert "Traceback" not in stopped.stderr()
        assert stopped.stderr().splitlines()[-1].endswith(
            "stopped before the database could be reached")

        server.start()
        assert waiting.wait(60) == 0, waiting.stderr()
        assert "database available again after" in waiting.stderr()
        assert "Traceback" not in waiting.stderr()
        assert as_json(cli("show", "early", "--json"))["state"] == "completed"
    finally:
        pool.close()


def test_wait_logs_follow_and_worker_stop_wait_on_across_a_server_restart(
    server: PrivateServer, cli: Cli, tmp_path: Path
) -> None:
    """`queuectl wait build && deploy` exited 1 (`cannot reach PostgreSQL`) on a restart that
    every worker rode out; `wait`, `logs --follow` and `worker stop` now wait on, saying so
    on stderr."""
    cli.env["QUEUECTL_DB"] = url = server.url()
    started, go = tmp_path / "started", tmp_path / "go"
    # The job runs until the server is back: a fixed length raced a loaded machine (the job
    # ended before the restart, and nobody had an outage to tell of).
    cli("add", "--id", "build",
        f"touch {started}; while [ ! -e {go} ]; do sleep 0.05; done; echo built")
    pool = WorkerPool(cli, url, tmp_path)
    spawned: dict[subprocess.Popen[str], Path] = {}

    def spawn(*args: str) -> subprocess.Popen[str]:
        # stderr to a file, read while the process runs: the test waits for its outage line.
        err = tmp_path / f"{len(spawned)}.err"
        with open(err, "w") as sink:
            proc = subprocess.Popen(cli.argv(*args), env=cli.env, cwd=cli.cwd, text=True,
                                    stdout=subprocess.PIPE, stderr=sink)
        spawned[proc] = err
        return proc

    try:
        worker = pool.start(1)
        wait_until(started.exists, timeout=30, message="the job to start")
        waiting = spawn("wait", "build")
        following = spawn("logs", "--follow", "build")
        wait_until(lambda: _connected(waiting.pid, server.port)
                   and _connected(following.pid, server.port), timeout=30,
                   message="wait and logs --follow to be waiting")
        stopping = spawn("worker", "stop")  # waits for the worker, which waits for build
        wait_until(lambda: "asked to stop" in worker.stderr(), timeout=30,
                   message="the worker to be asked to stop")
        server.stop()
        # Each sees the outage (a restart between two of its reads would pass unseen).
        wait_until(lambda: all("cannot reach" in err.read_text() for err in spawned.values()),
                   timeout=60, message="wait, logs --follow and worker stop to see the outage")
        server.start()
        go.touch()
        for proc, expected in ((waiting, "build: completed\n"), (following, "built\n"),
                               (stopping, "Stopped 1 worker.\n")):
            out, _ = proc.communicate(timeout=60)
            err = spawned[proc].read_text()
            assert (proc.returncode, out) == (0, expected), err
            lines = err.splitlines()
            assert len(lines) == 2, err
            assert re.fullmatch(r"cannot reach PostgreSQL at \S+: .*; waiting on until it"
                                r" answers", lines[0])
            assert re.fullmatch(r"the database answers again after \d+\.\ds; waiting on",
                                lines[1])
    finally:
        go.touch()
        for proc in spawned:  # a failure above must not leave them to the next test
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        pool.close()
