"""Following a growing log on the dashboard: the live log's offset polls against resending the
tail each time (what the job page did before: its 1 s refresh carried the last 64 KiB).

    .venv/bin/python bench/live_log.py [--seconds 8] [--rounds 4] [--baseline-src DIR]

A real worker runs a job that prints 1 MiB at once and then about 8 KB a second; a real
``queuectl dashboard`` serves it. Each round polls the run's log endpoint every 0.2 s for
``--seconds``, either asking for the bytes after the last offset (A, the page now) or for the
last 64 KiB again (B, the baseline: same server, same endpoint, same run). Rounds alternate
A B A B. Printed per poll: bytes received, the poll's time (p50, p95) and the dashboard's CPU
time (from /proc), with the load average before and after.

With ``--baseline-src DIR`` (the ``src`` folder of another checkout, e.g. from
``git archive main src | tar -x -C /tmp/base``) B is instead a second dashboard run from that
code, on the same database and run, polled the same way as A: the cost of how the server
reads the output, this tree's against that one's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    cpu_seconds,
    median,
    percentile,
    queuectl_argv,
    queuectl_env,
    queuectl_worker,
    stop_process,
    wait_for,
)

TAIL = 64 * 1024
POLL_EVERY = 0.2
# 1 MiB at once, then a 100-byte line every 12 ms (about 8 KB a second) for ten minutes.
TALKER = ("head -c 1048576 /dev/zero | tr '\\0' 'x' | fold -w 99; i=0; "
          "while [ $i -lt 50000 ]; do printf 'line %094d\\n' $i; i=$((i+1)); sleep 0.012; done")


def follow(client: httpx.Client, url: str, seconds: float, *, resend_tail: bool,
           dashboard_pid: int) -> dict[str, float]:
    first = client.get(url + "?offset=0").json()
    offset = first["offset"]
    sizes: list[int] = []
    times: list[float] = []
    cpu_before = cpu_seconds(dashboard_pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        asked = max(0, offset - TAIL) if resend_tail else offset
        started = time.perf_counter()
        response = client.get(url + f"?offset={asked}")
        times.append(time.perf_counter() - started)
        sizes.append(len(response.content))
        answer = response.json()
        offset = answer["offset"]
        time.sleep(POLL_EVERY)
    cpu = cpu_seconds(dashboard_pid) - cpu_before
    return {"polls": len(sizes), "bytes_per_poll": sum(sizes) / len(sizes),
            "p50_ms": median(times) * 1000, "p95_ms": percentile(times, 0.95) * 1000,
            "cpu_ms_per_poll": cpu / len(sizes) * 1000}


def start_dashboard(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A ``queuectl dashboard`` on a free port, and its address."""
    server = subprocess.Popen(queuectl_argv("dashboard", "--port", "0"), env=env,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    found = re.search(r"http://\S+?/", server.stdout.readline())
    if found is None:
        stop_process(server)
        raise SystemExit("the dashboard did not say where it listens")
    return server, found.group(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--baseline-src", type=Path, help="B: a dashboard run from this code")
    options = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="queuectl-live-log-"))
    db = home / "queue.db"
    env = queuectl_env(db)
    subprocess.run(queuectl_argv("enqueue", "--id", "talker", "--output-limit", "64M", "-c",
                                 TALKER), env=env,
                   check=True, capture_output=True)
    load_before = os.getloadavg()
    with queuectl_worker(db, 1, home / "worker.log", quiet=True):
        servers = [start_dashboard(env)]
        if options.baseline_src is not None:
            servers.append(start_dashboard({**env, "PYTHONPATH": str(options.baseline_src),
                                            "PYTHONDONTWRITEBYTECODE": "1"}))
        try:
            log = "api/jobs/talker/runs/1/log"
            with httpx.Client(timeout=30) as client:
                first = servers[0][1] + log + "?offset=0"
                wait_for(lambda: client.get(first).json()["offset"] > 1_000_000,
                         timeout=60, what="the first MiB of output")
                rows = []
                for round_number in range(options.rounds):
                    baseline = round_number % 2 == 1
                    process, url = servers[-1] if baseline else servers[0]
                    figures = follow(client, url + log, options.seconds,
                                     resend_tail=baseline and len(servers) == 1,
                                     dashboard_pid=process.pid)
                    name = ("A new bytes only" if not baseline
                            else "B resend 64 KiB" if len(servers) == 1 else "B baseline src")
                    rows.append((name, figures))
        finally:
            for process, _ in servers:
                stop_process(process)
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} cores); poll every {POLL_EVERY}s for {options.seconds:g}s a round")
    print(f"{'round':<18}{'polls':>6}{'bytes/poll':>12}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'CPU ms/poll':>13}")
    for name, f in rows:
        print(f"{name:<18}{f['polls']:>6.0f}{f['bytes_per_poll']:>12,.0f}{f['p50_ms']:>9.1f}"
              f"{f['p95_ms']:>9.1f}{f['cpu_ms_per_poll']:>13.2f}")
    a = [f for name, f in rows if name.startswith("A")]
    b = [f for name, f in rows if name.startswith("B")]
    if a and b:
        ratio = median([f["bytes_per_poll"] for f in b]) / median([f["bytes_per_poll"] for f in a])
        cpu = median([f["cpu_ms_per_poll"] for f in b]) / max(
            1e-9, median([f["cpu_ms_per_poll"] for f in a]))
        print(f"B/A: {ratio:.0f}x the bytes, {cpu:.1f}x the dashboard's CPU per poll")


if __name__ == "__main__":
    main()
