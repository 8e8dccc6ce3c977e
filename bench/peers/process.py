"""Starting a peer's worker processes with the task modules importable, and stopping them."""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from common import BENCH_DIR, stop_process

PEERS_DIR = BENCH_DIR / "peers"
REDIS_URL = "redis://127.0.0.1:6379/{db}"


def peer_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PEERS_DIR), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextmanager
def processes(argvs: Sequence[Sequence[str]], log_path: Path,
              env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run each argv as a process logging to ``log_path``; stop them all (SIGTERM) at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with open(log_path, "ab") as log:
            for argv in argvs:
                procs.append(subprocess.Popen(list(argv), env=env, cwd=PEERS_DIR,
                                              stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        yield procs
    finally:
        for proc in procs:
            stop_process(proc)


def redis_unavailable() -> str | None:
    try:
        import redis
    except ImportError:
        return "the redis package is not installed (bash bench/run.sh installs it)"
    try:
        redis.Redis.from_url(REDIS_URL.format(db=0), socket_timeout=1).ping()
    except redis.RedisError as exc:
        return f"no Redis on 127.0.0.1:6379 ({exc})"
    return None


def executable(name: str) -> str:
    """A console script of the running interpreter's environment (rq, celery, ...)."""
    import sys

    return str(Path(sys.executable).parent / name)


def measure_latency(run_and_wait: Callable[[str], str], jobs: int) -> list[float]:
    """Seconds from each call to the start time its job printed, as latency.py measures
    queuectl: ``run_and_wait(command)`` enqueues one job and returns its output."""
    pause = random.Random(7)
    latencies = []
    for _ in range(jobs):
        time.sleep(pause.uniform(0.01, 0.03))  # let the workers go back to waiting
        called = time.time()
        output = run_and_wait("date +%s.%N")
        latencies.append(float(output.strip()) - called)
    return latencies
