"""``/metrics`` in the Prometheus text format (version 0.0.4).

We write the format ourselves rather than use ``prometheus_client``: its registry is built
to count events inside one process, while every value here is read from the database at
scrape time; the format is a few lines of text, and the web extra stays at three packages.
The tests parse our output with ``prometheus_client``'s own parser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..models import DEFAULT_QUEUE, JobState, QueueInfo, WorkerInfo
from ..stats import QueueTotals

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Family:
    name: str
    kind: str  # gauge, counter or histogram
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((self.name + suffix, labels, value))


def render(families: Sequence[Family]) -> str:
    lines = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for name, labels, value in family.samples:
            lines.append(f"{name}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape_label(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def collect(
    queues: Sequence[QueueInfo],
    totals: Mapping[str, QueueTotals],
    workers: Sequence[WorkerInfo],
) -> list[Family]:
    jobs = Family("queuectl_jobs", "gauge", "Jobs in the database, by queue and state.")
    # Every state of every queue, zeros included: a series that vanishes reads as "no data".
    for info in queues or [QueueInfo(DEFAULT_QUEUE, {})]:
        for state in JobState:
            jobs.add(info.counts.get(state, 0), queue=info.name, state=state.value)
    completed = Family("queuectl_jobs_completed", "counter", "Runs that exited 0.")
    failed = Family("queuectl_jobs_failed", "counter",
                    "Runs that failed (each retry counts; so does the last run of a dead job).")
    dead = Family("queuectl_jobs_dead", "counter",
                  "Jobs that ran out of retries and are in the dead letter queue.")
    run_time = Family("queuectl_run_duration_seconds", "histogram",
                      "How long runs took, start to finish.")
    wait_time = Family("queuectl_wait_duration_seconds", "histogram",
                       "How long jobs waited from enqueue to the start of their first run.")
    # Every job is in queue "default" unless it names another: show its zeros from the start.
    for name, total in (totals or {"default": QueueTotals()}).items():
        completed.add(total.completed, "_total", queue=name)
        failed.add(total.failed, "_total", queue=name)
        dead.add(total.dead, "_total", queue=name)
        for family, histogram in ((run_time, total.run_time), (wait_time, total.wait_time)):
            for bound, count in histogram.cumulative():
                family.add(count, "_bucket", queue=name, le=_number(bound))
            family.add(histogram.count, "_count", queue=name)
            family.add(histogram.sum, "_sum", queue=name)
    by_state = Family("queuectl_workers", "gauge", "Registered workers, by state.")
    for worker_state in ("running", "stopping", "lost"):
        by_state.add(sum(1 for w in workers if w.state == worker_state), state=worker_state)
    up = Family("queuectl_workers_up", "gauge", "Workers running and heartbeating.")
    up.add(sum(1 for w in workers if w.state == "running"))
    slots = Family("queuectl_worker_slots", "gauge", "Job slots of the workers that are up.")
    slots.add(sum(w.slots for w in workers if w.state == "running"))
    return [jobs, completed, failed, dead, run_time, wait_time, by_state, up, slots]
