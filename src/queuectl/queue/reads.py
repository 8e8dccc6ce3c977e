"""``JobReads``, the part of ``Queue`` that reads jobs: their runs and output, listings and
searches, counts per state, and the status that ``queuectl status`` shows."""

from __future__ import annotations

from ..jobspec.limits import MAX_LISTED
from ..jobspec.text import lookup_id
from ..jobspec.text import tag as scheduling_tag
from ..units import whole_number
from . import QueueCore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..listing import JobListing, JobPage, RunningJob
    from ..models import Attempt, Job, QueueStatus, RunOutput
    from ..states import JobState


class JobReads(QueueCore):
    def attempts(self, job_id: str) -> list[Attempt]:
        self.get(job_id)
        return self.storage.attempts(job_id)

    def run_output(self, job_id: str, number: int, offset: int = 0, *,
                   most: int | None = None) -> RunOutput | None:
        """Run ``number``'s output from byte ``offset`` on, what a follower of its log has
        not read yet; at most the last ``most`` bytes. None if that run has not started.

        >>> out = queue.run_output("encode-7", 1, offset=8)  # doctest: +SKIP
        >>> out.start, out.size, out.data, out.finished
        (8, 16, b'frame 2\\n', True)
        """
        lookup_id(job_id)
        _whole(number, "run", 1)
        _whole(offset, "offset", 0)
        if most is not None:
            _whole(most, "most", 0)
        found = self.storage.run_output(job_id, number, offset, most)
        if found is None:
            self.get(job_id)  # no such job, rather than a run not started
        return found

    def jobs(self, state: JobState | str | None = None, *, limit: int = 50,
             offset: int = 0, tag: str | None = None) -> list[Job]:
        """Jobs, newest first, optionally in one state, or with one tag."""
        if state is not None:
            from ..states import JobState

            state = JobState.parse(state)
        _whole(limit, "limit", 1)  # 1.5 read one job, 2**70 failed with OverflowError
        _whole(offset, "offset", 0)
        if tag is not None:
            return self.storage.list_jobs(state, limit, offset, tag=scheduling_tag(tag, "--tag"))
        return self.storage.list_jobs(state, limit, offset)

    def listing(self, state: JobState | str | None = None, *, queue: str | None = None,
                tag: str | None = None, limit: int = 50) -> JobListing:
        """The newest ``limit`` jobs in ``state``, ``queue`` and with ``tag`` (each optional),
        whether more match, and when each one's latest run started and ended."""
        from ..listing import job_listing

        _whole(limit, "limit", 1)
        return job_listing(self.storage, state, queue=queue, tag=tag, limit=limit)

    def search_jobs(
        self,
        state: JobState | str | None = None,
        text: str | None = None,
        *,
        queue: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int = 50,
        tag: str | None = None,
        error: str | None = None,
        scan: int | None = None,
    ) -> JobPage:
        """A page of jobs, newest first, by state, queue, tag, a substring of the id or
        command, and a substring of the error the job is in (``Job.current_error``: a job
        retried or canceled since its last error matches no error filter).

        ``before``/``after`` are the ``older``/``newer`` cursors of the page shown before.
        With ``scan`` (the dashboard), a page filtered by text or queue looks at no more than
        that many jobs past its cursor, and may hold fewer than ``limit`` with a cursor on.
        """
        from ..listing import search_jobs

        if text is not None:  # a list of strings passed lookup_ids, then failed .strip()
            lookup_id(text, "search")
        if error is not None:
            lookup_id(error, "error")
        return search_jobs(self.storage, state, text, queue=queue, before=before, after=after,
                           limit=limit, tag=tag, error=error, scan=scan)

    def running_jobs(self, limit: int = 100) -> list[RunningJob]:
        """Jobs running now, longest running first, with when their run started."""
        return self.storage.running_jobs(_whole(limit, "limit", 1))

    # -- counts and status -------------------------------------------------------------------

    def counts(self) -> dict[JobState, int]:
        """The number of jobs in every state, zeros included."""
        return self.storage.count_by_state()

    def pending_breakdown(self) -> dict[str, int]:
        """Pending jobs by what they wait for: ``ready`` (a worker may take them now, unless
        their queue is paused or full), ``scheduled`` (their run_at is to come) and
        ``blocked`` (a dependency has not completed)."""
        waiting = self.storage.pending_breakdown(self.clock.now())
        ready = waiting.pop("pending") - waiting["scheduled"] - waiting["blocked"]
        return {"ready": max(0, ready), **waiting}

    def status(self) -> QueueStatus:
        """Jobs per state, what pending jobs wait for, the workers and the database: what
        ``queuectl status`` shows and the dashboard's ``/api/status`` returns."""
        from ..models import JobState, QueueStatus

        listed = self.worker_list()  # the workers are judged by the lease it read
        held = sum(info.counts.get(JobState.PENDING, 0)
                   for info in self.storage.queues() if info.paused)
        return QueueStatus(self.location, self.counts(), self.pending_breakdown(),
                           listed.workers, self.storage.count_paused(),
                           listed.refused_settings, held)


def _whole(value: int, field: str, least: int) -> int:
    """``value`` if it is a whole number from ``least`` to ``MAX_LISTED``, refused in the
    words the CLI prints ('limit: must be between 1 and 1000000000, got nan')."""
    return whole_number(value, field, least, MAX_LISTED, expected=None)
