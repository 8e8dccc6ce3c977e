"""Item 1, the ceiling: the same parallelism with no queue at all.

``subprocess.run("true", shell=True)`` from a thread pool and from a process pool; the better
of the two is the most any queue could reach on this machine.
"""

from __future__ import annotations

import resource
import subprocess
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor


def _run_true(_: int) -> int:
    return subprocess.run("true", shell=True, check=False).returncode


def bare_pool_seconds(command: str, jobs: int, workers: int) -> float:
    """Wall seconds for a thread pool of ``workers`` threads to run ``command`` (through
    ``sh -c``) ``jobs`` times: the no-queue baseline of the sleep-jobs figure."""
    def run(_: int) -> int:
        return subprocess.run(command, shell=True, check=False).returncode

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(_noop, range(workers * 4)))
        started = time.perf_counter()
        codes = list(pool.map(run, range(jobs)))
        elapsed = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"`{command}` failed in the bare pool")
    return elapsed


def _noop(_: int) -> int:
    return 0


def _drain(pool: Executor, jobs: int, workers: int, chunksize: int) -> float:
    list(pool.map(_noop, range(workers * 4)))  # start every worker before the clock does
    started = time.perf_counter()
    codes = list(pool.map(_run_true, range(jobs), chunksize=chunksize))
    elapsed = time.perf_counter() - started
    if any(codes):
        raise RuntimeError("`true` failed in the ceiling run")
    return elapsed


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def thread_pool(jobs: int, workers: int) -> tuple[float, float]:
    """Jobs per second of a thread pool with ``workers`` threads, and its CPU ms per job."""
    rate, cpu, _ = thread_pool_cpu(jobs, workers)
    return rate, cpu


def thread_pool_cpu(jobs: int, workers: int) -> tuple[float, float, float]:
    """Jobs per second of a thread pool with ``workers`` threads, its CPU ms per job, and its
    children's (``sh -c true``) CPU ms per job."""
    with ThreadPoolExecutor(workers) as pool:
        before, children = _cpu(), _cpu(resource.RUSAGE_CHILDREN)
        rate = jobs / _drain(pool, jobs, workers, chunksize=1)
        return (rate, 1000 * (_cpu() - before) / jobs,
                1000 * (_cpu(resource.RUSAGE_CHILDREN) - children) / jobs)


def process_pool(jobs: int, workers: int) -> float:
    """Jobs per second of a process pool with ``workers`` processes."""
    with ProcessPoolExecutor(workers) as pool:
        return jobs / _drain(pool, jobs, workers, chunksize=8)


def measure(jobs: int, workers: int) -> dict[str, float]:
    threads, thread_cpu, children_cpu = thread_pool_cpu(jobs, workers)
    processes = process_pool(jobs, workers)
    return {"thread": threads, "process": processes, "best": max(threads, processes),
            "thread_cpu_ms_per_job": thread_cpu, "children_cpu_ms_per_job": children_cpu}
