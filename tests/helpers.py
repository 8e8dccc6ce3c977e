"""What tests share besides fixtures (those are in the conftest.py files): deadline polling,
the real CLI in a subprocess, worker processes with their logs in files, jobs as the CLI shows
them, and the processes a job left behind.

Workers log every job to stderr, so a WorkerPool sends their stderr to a file rather than a pipe
that nobody reads (a full pipe would stall the worker). Whatever a test leaves running (workers,
and the job processes of workers killed with SIGKILL, which live in sessions of their own) is
killed when the test ends: every process whose environment names the test's database.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from queuectl import Queue


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Cli:
    """Runs the real ``queuectl`` in a subprocess against the test's database."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "queuectl", *args]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60,
                 check: bool | int = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.argv(*args), env=self.env, cwd=self.cwd, input=input,
                                capture_output=True, text=True, timeout=timeout)
        expected = 0 if check is True else check
        if check is not False and result.returncode != expected:
            raise AssertionError(
                f"queuectl {' '.join(args)} exited {result.returncode}, expected {expected}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def spawn(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), env=self.env, cwd=self.cwd, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


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

    def force_stop(self) -> int:
        """Signal until the worker exits: the first SIGTERM is graceful, any later one forces.

        Signals sent back to back may merge into one, hence the repetition.
        """
        self.signal(signal.SIGTERM)
        wait_until(self._exited_else_signalled, timeout=30, interval=0.2,
                   message="the worker to exit on a forced stop")
        return self.wait()

    def _exited_else_signalled(self) -> bool:
        if self.proc.poll() is not None:
            return True
        self.signal(signal.SIGTERM)
        return False


class WorkerPool:
    """Starts ``queuectl worker start`` processes; ``close`` kills them and their jobs.
    ``db_path`` is where the store is: a SQLite file, or a PostgreSQL URL."""

    def __init__(self, cli: Cli, db_path: Path | str, log_dir: Path) -> None:
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


def processes_using(db_path: Path | str, **variables: str) -> list[int]:
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


def kill_processes_using(db_path: Path | str) -> None:
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


def job_processes(job_id: str) -> list[int]:
    """Pids of live processes started for ``job_id`` (they carry it in their environment)."""
    needle = f"QUEUECTL_JOB_ID={job_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if needle in environ and state != "Z":
                pids.append(int(entry.name))
    return pids


def job(cli: Cli, job_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli("show", job_id, "--json").stdout)
    return shown


def state_of(cli: Cli, job_id: str) -> str:
    return str(job(cli, job_id)["state"])


# Starts one `queuectl worker start` process with the arguments given.
StartWorker = Callable[..., subprocess.Popen[str]]


def processes_of_run(job_id: str, run: int, *, worker_id: str) -> list[int]:
    """Live processes of one run of a job by one worker (they carry all three in their
    environment). The worker's id keeps out the runs of the same job id in other tests, other
    copies of the suite included, which a test would otherwise take for its own."""
    wanted = {f"QUEUECTL_JOB_ID={job_id}".encode(), f"QUEUECTL_ATTEMPT={run}".encode(),
              f"QUEUECTL_WORKER_ID={worker_id}".encode()}
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = set((entry / "environ").read_bytes().split(b"\0"))
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if wanted <= environ and state != "Z":
                found.append(int(entry.name))
    return found


def drain(queue: Queue) -> None:
    """Run every job that is ready, one worker step at a time, on the queue's own clock."""
    with queue.worker() as worker:
        while worker.run_once():
            pass


def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``2m``, ``16m``) mounted at ``folder/disk``, to fill up; the body of
    a fixture. Mounting needs root: elsewhere the test is skipped with one line."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk needs root to mount a small tmpfs")
    disk = folder / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                   check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(path: Path) -> None:
    """Write to ``path`` until the file system has not a byte left (unbuffered: a buffered
    file would flush again at close and raise there)."""
    with path.open("wb", buffering=0) as file:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    file.write(b"\0" * size)
            except OSError:
                pass


def what_the_terminal_holds(main: int, wait: float = 0.0) -> bytes:
    """What a pty's main end ``main`` still has to read, waiting up to ``wait`` seconds for
    each chunk; a read past the last secondary end's close fails (EIO), which ends it too."""
    held = b""
    while select.select([main], [], [], wait)[0]:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        held += chunk
    return held


def with_a_terminal(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a terminal (a pty) on stdin and stdout, as a person runs ``edit`` in
    $EDITOR; what it printed there is ``stdout`` (with the terminal's CRLF made LF)."""
    main, secondary = pty.openpty()
    try:
        done = subprocess.run(cli.argv(*args), env=cli.env, cwd=cli.cwd, stdin=secondary,
                              stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60)
        os.close(secondary)
        secondary = -1
        # The process has exited: what it printed waits in the pty (a few lines, well within
        # its buffer).
        printed = what_the_terminal_holds(main)
        return subprocess.CompletedProcess(
            done.args, done.returncode, printed.decode().replace("\r\n", "\n"), done.stderr)
    finally:
        os.close(main)
        if secondary != -1:
            os.close(secondary)
