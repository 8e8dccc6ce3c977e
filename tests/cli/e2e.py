"""Helpers for end-to-end tests: worker processes with their logs in files, the queue as the
library sees it, and the processes a job left behind.

Workers log every job to stderr, so their stderr goes to a file rather than a pipe that nobody
reads (a full pipe would stall the worker). Whatever a test leaves running — workers, and the
job processes of workers killed with SIGKILL, which live in sessions of their own — is killed
when the test ends: every process whose environment names the test's database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Cli, wait_until

from queuectl import Queue


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL the worker and reap it (an unreaped zombie still looks alive by pid)."""
        self.proc.kill()
        self.proc.wait()

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)


class WorkerPool:
    """Starts ``queuectl worker start`` processes; ``close`` kills them and their jobs."""

    def __init__(self, cli: Cli, db_path: Path, log_dir: Path) -> None:
        self.cli = cli
        self.db_path = db_path
        self.log_dir = log_dir
        self.started: list[WorkerProcess] = []

    def start(self, count: int = 1, *args: str, env: dict[str, str] | None = None,
              wait: bool = True) -> WorkerProcess:
        """Start a worker; with ``wait``, return once it has registered in the database."""
        log = self.log_dir / f"worker-{len(self.started)}.log"
        with log.open("wb") as stderr:
            proc = subprocess.Popen(
                self.cli.argv("worker", "start", "--count", str(count), *args),
                env={**self.cli.env, **(env or {})}, cwd=self.cli.cwd,
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(proc, log)
        self.started.append(worker)
        if wait:
            wait_until(lambda: self.worker_id(worker) or proc.poll() is not None,
                       timeout=30, interval=0.05, message="the worker to register")
            assert proc.poll() is None, f"worker exited early:\n{worker.stderr()}"
        return worker

    def worker_id(self, worker: WorkerProcess) -> str | None:
        with Queue(self.db_path, environ={}) as queue:
            return next((w.id for w in queue.workers() if w.pid == worker.pid), None)

    def logs(self) -> str:
        return "\n".join(worker.stderr() for worker in self.started)

    def close(self) -> None:
        for worker in self.started:
            if worker.proc.poll() is None:
                worker.proc.kill()
            worker.proc.wait()
        kill_processes_using(self.db_path)


def _environ(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # gone, a zombie, or not ours
        return []


def processes_using(db_path: Path, **variables: str) -> list[int]:
    """Pids of live processes started for ``db_path`` whose environment has ``variables``."""
    wanted = [f"QUEUECTL_DB={db_path}".encode()]
    wanted += [f"{key}={value}".encode() for key, value in variables.items()]
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            environ = _environ(int(entry.name))
            if all(item in environ for item in wanted):
                pids.append(int(entry.name))
    return pids


def kill_processes_using(db_path: Path) -> None:
    """SIGKILL whatever is left of a test: job process groups, stray CLI processes."""
    own_group = os.getpgrp()
    for pid in processes_using(db_path):
        try:
            group = os.getpgid(pid)
            if group == own_group:  # a process we started: never signal our own group
                os.kill(pid, signal.SIGKILL)
            else:
                os.killpg(group, signal.SIGKILL)
        except OSError:
            pass


def dump(db_path: Path) -> list[str]:
    """The whole database as SQL, to prove that a refused command changed nothing."""
    db = sqlite3.connect(db_path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def counts(db_path: Path) -> dict[str, int]:
    with Queue(db_path, environ={}) as queue:
        return {state.value: n for state, n in queue.counts().items()}


@pytest.fixture
def workers(cli: Cli, db_path: Path, tmp_path: Path) -> Iterator[WorkerPool]:
    pool = WorkerPool(cli, db_path, tmp_path)
    try:
        yield pool
    finally:
        pool.close()
