"""Item 4, enqueue: one ``queuectl enqueue`` call against ``python -c pass`` and ``tsp true``;
bulk ``enqueue --file``; the library's ``Queue.enqueue`` (one transaction each) and
``Queue.enqueue_many`` (one transaction in all)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from common import PYTHON, Context, median, queuectl_env
from peers.tsp_peer import tsp_env
from queuectl import Queue


def _console_script() -> list[str]:
    """The ``queuectl`` a user runs: this environment's console script, else ``-m``."""
    script = Path(sys.executable).parent / "queuectl"
    return [str(script)] if script.exists() else [PYTHON, "-m", "queuectl"]


def _wall(argv: Sequence[str], env: dict[str, str]) -> float:
    """Wall time of one process, from start to exit.

    A blocking wait, not ``subprocess.run(timeout=...)``: with a timeout it polls, sleeping
    1, 2, 4 ... 50 ms between looks, so any process ending between 31 and 63 ms was timed
    at 63 ms (``python -c pass`` at 15 ms). A timer kills a process that hangs.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise subprocess.CalledProcessError(code, list(argv))
    return elapsed


def cold_start(ctx: Context) -> dict[str, float]:
    """Median wall time (seconds) of each command, the calls interleaved to share the noise."""
    folder = ctx.scratch("cold")
    db = folder / "queue.db"
    Queue(db).close()
    env = queuectl_env(db)
    commands: dict[str, list[str]] = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "queuectl enqueue": [*_console_script(), "enqueue", "--command", "true"],
    }
    use_tsp = shutil.which("tsp") is not None
    if use_tsp:
        env.update(tsp_env(folder))
        subprocess.run(["tsp", "-S", "1"], env=env, check=True, timeout=60)
        commands["tsp true"] = ["tsp", "true"]
    times: dict[str, list[float]] = {name: [] for name in commands}
    try:
        for argv in commands.values():
            _wall(argv, env)  # warm the page cache: the figure is process start, not disk
        for _ in range(ctx.sizes.cold_calls):
            for name, argv in commands.items():
                times[name].append(_wall(argv, env))
    finally:
        if use_tsp:
            subprocess.run(["tsp", "-K"], env=env, capture_output=True, timeout=60, check=False)
    return {name: median(values) for name, values in times.items()}


def bulk_file(ctx: Context) -> dict[str, float]:
    """``queuectl enqueue --file`` of ``bulk_jobs`` lines, process start included."""
    folder = ctx.scratch("bulk")
    db = folder / "queue.db"
    Queue(db).close()
    jobs = ctx.sizes.bulk_jobs
    lines = folder / "jobs.jsonl"
    lines.write_text('{"command": "true"}\n' * jobs)
    seconds = _wall([*_console_script(), "enqueue", "--file", str(lines)], queuectl_env(db))
    return {"seconds": seconds, "jobs_per_second": jobs / seconds}


def library(ctx: Context) -> dict[str, float]:
    """Jobs per second of ``Queue.enqueue`` in a loop and of one ``Queue.enqueue_many``."""
    folder = ctx.scratch("library")
    single, many = ctx.sizes.library_single, ctx.sizes.library_many
    with Queue(folder / "single.db") as queue:
        started = time.perf_counter()
        for _ in range(single):
            queue.enqueue("true")
        single_rate = single / (time.perf_counter() - started)
    with Queue(folder / "many.db") as queue:
        specs = [{"command": "true"}] * many
        started = time.perf_counter()
        queue.enqueue_many(specs)
        many_rate = many / (time.perf_counter() - started)
    for name in os.listdir(folder):
        os.remove(folder / name)  # 100,000 jobs a run add up
    return {"enqueue_per_second": single_rate, "enqueue_many_per_second": many_rate}
