"""A run killed by a forced stop is no attempt (its job went back as it was): stats,
``status --watch`` and /metrics count it neither as failed nor as completed."""

from __future__ import annotations

import signal

from queuectl.stats import FinishedRun, QueueTotals, add_runs, summarize
from tests.helpers import Cli, WorkerPool, as_json, wait_until

T0 = 1_767_225_600.0
FOREVER = "while true; do sleep 0.05; done"


def _run(job: str, *, ok: bool, interrupted: bool = False) -> FinishedRun:
    return FinishedRun(job, 1, "default", T0, T0 + 1, T0 + 2, ok, False, interrupted)


def test_summaries_and_totals_leave_interrupted_runs_out() -> None:
    runs = [_run("a", ok=True), _run("b", ok=False), _run("c", ok=False, interrupted=True)]
    summary = summarize(runs, T0, T0 + 60, step=30).total
    assert (summary.completed, summary.failed) == (1, 1)
    assert summary.run_time is not None and summary.run_time.count == 2
    series = summarize(runs, T0, T0 + 60, step=30).series
    assert [(bar.completed, bar.failed) for bar in series] == [(1, 1), (0, 0)]
    totals: dict[str, QueueTotals] = {}
    add_runs(totals, runs)
    assert (totals["default"].completed, totals["default"].failed) == (1, 1)
    assert totals["default"].run_time.count == 2


def test_worker_stop_now_is_not_a_failure_in_stats(cli: Cli, workers: WorkerPool) -> None:
    cli("enqueue", "--command", f'if [ "$QUEUECTL_ATTEMPT" = 1 ]; then {FOREVER}; fi',
        "--id", "stopped")
    worker = workers.start(1)
    wait_until(lambda: as_json(cli("show", "stopped", "--json"))["state"] == "processing",
               message="the job running")
    cli("worker", "stop", "--now")
    assert worker.wait() == 0
    history = as_json(cli("show", "stopped", "--json"))["attempts_history"]
    assert history[0]["error"].endswith("(not counted as an attempt)")

    total = as_json(cli("stats", "--json"))["total"]
    assert (total["completed"], total["failed"], total["dead"]) == (0, 0, 0)
    assert total["run_time"] is None

    cli("worker", "start", "--burst", "--quiet")  # the second run completes
    total = as_json(cli("stats", "--json"))["total"]
    assert (total["completed"], total["failed"], total["success_rate"]) == (1, 0, 1.0)


def test_status_watch_does_not_count_it_either(cli: Cli, workers: WorkerPool) -> None:
    cli("enqueue", "--command", FOREVER, "--id", "stopped")
    worker = workers.start(1)
    wait_until(lambda: as_json(cli("show", "stopped", "--json"))["state"] == "processing",
               message="the job running")
    worker.force_stop()
    watch = cli.spawn("status", "--watch", "--interval", "0.2")
    try:
        assert watch.stdout is not None
        line = ""
        while not line.startswith("Last minute"):  # a frame comes within one interval
            line = watch.stdout.readline()
            assert line, "status --watch ended without a frame"
        assert line.startswith("Last minute  0 completed, 0 failed, 0 dead"), line
    finally:
        watch.send_signal(signal.SIGINT)
        watch.communicate(timeout=30)
