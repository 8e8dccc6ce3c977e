"""Spawn cost: the CPU a worker spends per job to start, watch and reap one command.

The runner alone (no queue, no database) against the ceiling, ``subprocess.run("true",
shell=True)``, from 1, 2 and 4 threads. Variants run in alternating rounds (A B C D, A B C D,
...) and each figure is the median over rounds; CPU per job is stable on a shared machine
where wall time is not.

- ``ceiling``: ``subprocess.run("true", shell=True)``, with none of a job's guarantees;
- ``popen``: the launcher forced onto its Popen fallback (a dict merged per job, like the
  runner before the lean spawn);
- ``lean``: ``fork_exec`` with the worker's environment encoded once and raw descriptors;
- ``lean:/bin/true``: the same running a program, ``sh -c /bin/true``;
- ``lean+direct``: that program with direct exec (``/bin/true`` run without ``sh``).

Every runner variant keeps the guarantees: own session, stdin from /dev/null, one pipe for
output, the ``QUEUECTL_*`` environment, a pidfd watch, the group killed at the end, a run
record written and blanked. Run: ``python bench/spawn_cost.py [--jobs 2000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable

from queuectl.process.launcher import Launcher

Spawn = Callable[[int], None]


def _ceiling(_: int) -> None:
    subprocess.run("true", shell=True, check=True)


def _runner(launcher: Launcher, command: str, direct: bool) -> Spawn:
    def spawn(number: int) -> None:
        result = launcher.start(command, job_id=f"j{number}", run=1, direct=direct).wait()
        if not result.succeeded:
            raise RuntimeError(f"{command}: {result.error}")
    return spawn


def _round(spawn: Spawn, jobs: int, threads: int) -> dict[str, float]:
    """Wall time and CPU (this process, and its children) of ``jobs`` spawns."""
    per_thread = jobs // threads
    before, started = _cpu(), time.perf_counter()

    def spawn_share(first: int) -> None:
        for number in range(first, first + per_thread):
            spawn(number)

    workers = [threading.Thread(target=spawn_share, args=(n * per_thread,))
               for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall, after = time.perf_counter() - started, _cpu()
    done = per_thread * threads
    return {
        "jobs_per_second": done / wall,
        "parent_us": 1e6 * (after[0] - before[0]) / done,
        "child_us": 1e6 * (after[1] - before[1]) / done,
    }


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def measure(jobs: int, rounds: int,
            parallelism: tuple[int, ...]) -> dict[str, dict[int, dict[str, float]]]:
    environ = dict(os.environ)
    popen = Launcher(environ, worker_id="w-bench-popen", lean=False)
    lean = Launcher(environ, worker_id="w-bench-lean")
    variants: dict[str, Spawn] = {
        "ceiling": _ceiling,
        "popen": _runner(popen, "true", direct=False),
        "lean": _runner(lean, "true", direct=False),
        "lean:/bin/true": _runner(lean, "/bin/true", direct=False),
        "lean+direct": _runner(lean, "/bin/true", direct=True),
    }
    samples: dict[str, dict[int, list[dict[str, float]]]] = {
        name: {n: [] for n in parallelism} for name in variants}
    try:
        for threads in parallelism:
            for _ in range(rounds):
                for name, spawn in variants.items():
                    samples[name][threads].append(_round(spawn, jobs, threads))
    finally:
        popen.close()
        lean.close()
    return {name: {n: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
                   for n, runs in by_threads.items()}
            for name, by_threads in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2,4")
    args = parser.parse_args()
    parallelism = tuple(int(n) for n in args.threads.split(","))
    load_before = os.getloadavg()
    figures = measure(args.jobs, args.rounds, parallelism)
    print(f"spawn cost, {args.jobs} jobs x {args.rounds} rounds per figure (medians); "
          f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'variant':<15} {'threads':>7} {'jobs/s':>8} {'parent us/job':>14} "
          f"{'child us/job':>13} {'parent vs ceiling':>18}")
    for name, by_threads in figures.items():
        for threads, figure in by_threads.items():
            ratio = figure["parent_us"] / figures["ceiling"][threads]["parent_us"]
            print(f"{name:<15} {threads:>7} {figure['jobs_per_second']:>8.0f} "
                  f"{figure['parent_us']:>14.0f} {figure['child_us']:>13.0f} {ratio:>18.2f}")


if __name__ == "__main__":
    main()
