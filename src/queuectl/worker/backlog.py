"""What a worker owes its database: results, runs to give back, output of running jobs.

The coordinator puts here everything it has to write, and takes each part out only once the
transaction that wrote it committed. While the database fails (a full disk, a lock held too
long, a lost connection) the backlog simply grows, in memory, and the next step that reaches
the database writes it all: results are recorded late, never lost and never reported before
they were committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from queuectl.worker.slots import Finished

from ..backoff import outcome_of_run
from ..config import Settings
from ..models import Job, JobState, Outcome
from ..storage import Storage
from ..storage.base import OutputChunk

log = logging.getLogger("queuectl.worker.loop")


class Backlog:
    """Writes owed, oldest first. Used by the coordinator thread only."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []  # finished runs, to record
        self.chunks: list[OutputChunk] = []  # output of runs still going
        self._unstarted: list[tuple[str, int]] = []  # claimed, never started: give back
        self._interrupted: list[tuple[str, int]] = []  # killed by a forced stop: give back

    def __bool__(self) -> bool:
        """Whether results or runs to give back are owed (output alone does not count: a
        run's result carries all its output)."""
        return bool(self.outcomes or self._unstarted or self._interrupted)

    def describe(self) -> str:
        """What is owed, e.g. "3 results, 1 run to give back"; empty if nothing."""
        parts = []
        if self.outcomes:
            parts.append(counted(len(self.outcomes), "result"))
        given_back = len(self._unstarted) + len(self._interrupted)
        if given_back:
            parts.append(counted(given_back, "run") + " to give back")
        return ", ".join(parts)

    def take(self, runs: Iterable[Finished], output: Iterable[OutputChunk], settings: Settings,
             *, forced_stop: bool, canceled: set[tuple[str, int]],
             fenced: set[tuple[str, int]] | None = None) -> None:
        """Owe the results of finished ``runs`` (a run killed by a forced stop is owed back
        instead) and ``output`` of running ones. ``canceled``: runs killed because a person
        canceled their job; ``fenced``: runs killed because their leases ran out (owed back
        too, see fence.py); those taken are removed from both."""
        fenced = set() if fenced is None else fenced
        self.chunks += output
        for run in runs:
            key = (run.job.id, run.job.runs)
            was_canceled = key in canceled
            canceled.discard(key)
            was_fenced = key in fenced
            fenced.discard(key)
            if run.result.interrupted and (forced_stop or was_fenced) and not was_canceled:
                self.give_back([run.job], started=True)
            else:
                self.record(_outcome(run, settings, canceled=was_canceled))

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.chunks:  # the result carries the whole output: drop what was not stored yet
            run = (outcome.job_id, outcome.attempt)
            self.chunks = [c for c in self.chunks if (c.job_id, c.attempt) != run]

    def give_back(self, jobs: Iterable[Job], *, started: bool) -> None:
        """Owe the release of ``jobs``' runs (``started``: killed by a forced stop)."""
        (self._interrupted if started else self._unstarted).extend(
            (job.id, job.runs) for job in jobs)

    def write(self, storage: Storage, worker_id: str, now: float, lease_until: float,
              limit: int, queues: Sequence[str] | None,
              settled: Callable[[Sequence[tuple[str, int]]], None] = lambda runs: None,
              ) -> tuple[list[Job], list[Outcome], list[Outcome]]:
        """Write what is owed: output, runs given back, then the results and a claim of up
        to ``limit`` jobs in one transaction. Returns ``(claimed, recorded, refused)``;
        refused results are of runs rescued meanwhile (the fence). ``settled`` hears of
        the started runs ``(job id, run)`` whose results or releases committed."""
        if self.chunks:
            storage.append_output(worker_id, self.chunks)
            self.chunks = []
        if self._unstarted:
            storage.release(worker_id, self._unstarted, now, started=False)
            self._unstarted = []
        if self._interrupted:
            given = storage.release(worker_id, self._interrupted, now, started=True)
            settled(self._interrupted)
            if given:
                log.info("gave back %s", counted(given, "interrupted job"))
            if given < len(self._interrupted):
                log.warning("%s not given back: rescued meanwhile by another worker",
                            counted(len(self._interrupted) - given, "interrupted run"))
            self._interrupted = []
        recorded = self.outcomes
        if not recorded and limit <= 0:
            return [], [], []
        claimed, refused = storage.record_and_claim(
            worker_id, recorded, limit, now, lease_until, queues)
        self.outcomes = []
        if recorded:
            settled([(outcome.job_id, outcome.attempt) for outcome in recorded])
        return claimed, recorded, refused


def _outcome(run: Finished, settings: Settings, *, canceled: bool) -> Outcome:
    """What ``run`` ended as; should working that out fail (a bug, a value no check foresaw),
    the run is recorded dead, saying so, rather than its result lost and its job left held."""
    try:
        return outcome_of_run(run.job, run.result, run.finished_at, settings, canceled=canceled)
    except Exception as exc:
        error = f"failed in the worker: {type(exc).__name__}: {exc}"
        log.error("job %s run %d: %s", run.job.id, run.job.runs, error)
        result = run.result
        return Outcome(run.job.id, run.job.runs, JobState.DEAD, run.finished_at,
                       exit_code=result.exit_code, error=error, output=result.output,
                       output_dropped=result.output_dropped, streamed=result.streamed,
                       job=run.job)


def counted(number: int, noun: str) -> str:
    """``counted(2, "job") == "2 jobs"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def report(recorded: Sequence[Outcome], refused: Sequence[Outcome], *, stopping: bool,
           running: Callable[[], int]) -> None:
    """Log what was recorded: failures always; completions with -v, or while stopping (then
    with how many jobs still run). A log line costs more than a queue transaction at thousands
    of jobs a second."""
    for outcome in refused:
        log.warning("discarded the result of job %s run %d: the run was rescued meanwhile",
                    outcome.job_id, outcome.attempt)
    for outcome in recorded:
        quiet = outcome.state is JobState.COMPLETED and not stopping
        if (quiet and not log.isEnabledFor(logging.DEBUG)) or outcome in refused:
            continue
        left = f"; {running()} still running" if stopping else ""
        log.log(logging.DEBUG if quiet else logging.INFO, "job %s %s%s%s", outcome.job_id,
                outcome.state.value, f" ({outcome.error})" if outcome.error else "", left)
