"""task-spooler (``tsp``, Debian's package): one server with N slots, one ``tsp CMD`` call
per job (tsp has no bulk enqueue), a private socket, and job output files in the scratch dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from common import Context
from peers.process import measure_latency

NAME = "tsp"


def unavailable() -> str | None:
    if shutil.which("tsp") is None:
        return "tsp is not installed (bash bench/run.sh installs Debian's task-spooler)"
    return None


def tsp_env(folder: os.PathLike[str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TS_SOCKET=os.path.join(folder, "tsp.socket"), TMPDIR=os.fspath(folder),
               TS_MAXFINISHED="1000000", TS_MAXCONN="100000")
    return env


def _tsp(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["tsp", *args], env=env, check=True, capture_output=True,
                          text=True, timeout=600).stdout


def drain(ctx: Context, command: str, jobs: int, workers: int) -> dict[str, float]:
    folder = ctx.scratch(f"tsp-{workers}")
    env = tsp_env(folder)
    try:
        _tsp(env, "-S", str(workers))  # starts the server
        started = time.perf_counter()
        for _ in range(jobs):
            _tsp(env, "sh", "-c", command)
        # Jobs start in order, so when the last one has ended the others almost surely have;
        # wait for any that has not.
        _tsp(env, "-w")
        while lines := [line for line in _tsp(env, "-l").splitlines()[1:]
                        if line.split()[1] != "finished"]:
            _tsp(env, "-w", lines[0].split()[0])
        elapsed = time.perf_counter() - started
    finally:
        subprocess.run(["tsp", "-K"], env=env, capture_output=True, timeout=60, check=False)
    return {"seconds": elapsed, "jobs_per_second": jobs / elapsed}


def latency(ctx: Context, jobs: int, workers: int) -> list[float]:
    """Seconds from each ``tsp`` call to its job's first instruction, the server idle."""
    folder = ctx.scratch(f"tsp-latency-{workers}")
    env = tsp_env(folder)

    def run_and_wait(command: str) -> str:
        job_id = _tsp(env, "sh", "-c", command).strip()
        _tsp(env, "-w", job_id)
        return _tsp(env, "-c", job_id)

    try:
        _tsp(env, "-S", str(workers))
        run_and_wait("true")
        return measure_latency(run_and_wait, jobs)
    finally:
        subprocess.run(["tsp", "-K"], env=env, capture_output=True, timeout=60, check=False)
