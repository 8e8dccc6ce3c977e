"""``JobChanges``, the part of ``Queue`` that changes jobs a person names: retry from the dead
letter queue, restart, remove, edit, delete, cancel; and waiting on jobs, or on a run's
output. The rules are in ``job_edits.py``, ``waiting.py`` and ``storage/changes.py``."""

from __future__ import annotations

from ..errors import InvalidInput
from ..jobspec.limits import MAX_LISTED
from ..jobspec.text import lookup_id, lookup_ids
from ..jobspec.text import tag as scheduling_tag
from ..units import wait_seconds, whole_number
from . import QueueCore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import Any

    from ..models import Attempt, DeadRetry, Job


class JobChanges(QueueCore):
    # -- dead letter queue -------------------------------------------------------------------

    def retry(self, job_ids: Iterable[str], *, include_canceled: bool = False) -> list[Job]:
        """Put dead jobs back to pending with attempts reset to 0, keeping their history."""
        ids = _given_ids(job_ids)
        return self.storage.retry(ids, self.clock.now(),
                                  include_canceled=include_canceled)

    def retry_all_dead(self, *, tag: str | None = None) -> list[str]:
        """Retry every dead job, or every dead job with ``tag``; the ids of those the store
        put back (``retry_dead_jobs`` also says which stayed dead, and why)."""
        if tag is not None:
            return self.storage.retry_all_dead(self.clock.now(), tag=scheduling_tag(tag, "--tag"))
        return self.storage.retry_all_dead(self.clock.now())

    def retry_dead_jobs(self, *, tag: str | None = None) -> DeadRetry:
        """Retry every dead job (with ``tag``), as ``retry_all_dead``, and tell which of them
        are dead still: one whose unique key a live job holds is not retried, and one whose
        dependency is dead or canceled dies again at once. A job gone dead since is not
        one of them (nobody asked for it)."""
        from ..listing import JobQuery
        from ..models import DeadRetry, JobState

        now = self.clock.now()
        tag = None if tag is None else scheduling_tag(tag, "--tag")
        retried = self.storage.retry_all_dead(now, tag=tag)
        asked, left = set(retried), []
        # Only what is left is dead now (and what died since): a few pages, read whole.
        query, cursor = JobQuery(state=JobState.DEAD, tag=tag), None
        while True:
            page = self.storage.search_jobs(query, 1000, before=cursor)
            for job in page.jobs:
                if job.updated_at > now:  # dead since the retry
                    continue
                if job.id in asked:
                    left.append((job.id, f"died again: {job.last_error}"))
                elif job.unique_key is not None:
                    left.append((job.id, f"unique key {job.unique_key!r} held by a live job"))
            if page.older is None:
                break
            cursor = page.older
        left.reverse()  # oldest first, as the ids were retried
        stayed = {job_id for job_id, _ in left}
        return DeadRetry([job_id for job_id in retried if job_id not in stayed], left)

    # -- restart, remove, edit, delete -------------------------------------------------------

    def restart(self, job_ids: Iterable[str]) -> list[Job]:
        """Run finished jobs again as new jobs (numbered, ``restarted_from`` set), all or
        nothing (a unique key a live job holds refuses them all, ``InvalidTransition``); the
        new jobs do not wait on the old ones' dependencies."""
        return self.storage.restart(_given_ids(job_ids), self.clock.now())

    def remove(self, job_ids: Iterable[str]) -> list[str]:
        """Delete jobs that are not running, with their history, all or nothing."""
        return self.storage.remove(_given_ids(job_ids))

    def edit(self, job_id: str, changes: Mapping[str, Any]) -> Job:
        """Change fields of a pending or failed job (``job_edits.EDITABLE``, or ``delay``),
        checked as an enqueue checks them."""
        from ..job_edits import checked_edit, settings_read

        now = self.clock.now()
        settings = self.settings_for(settings_read(changes))
        checked, run_at = checked_edit(self.get(job_id), changes, settings, now)
        return self.storage.edit(job_id, checked, run_at, now)

    def delete(self, job_ids: Iterable[str]) -> list[str]:
        """Delete completed, dead or canceled jobs and their history, all or nothing."""
        return self.storage.delete_jobs(_given_ids(job_ids))

    # -- runtime: cancel, wait, output -------------------------------------------------------

    def cancel(self, job_ids: Iterable[str], *, wait: float | None = 10.0) -> list[Job]:
        """Cancel jobs, all or nothing: waiting ones at once, running ones are killed (their
        whole process group) by their worker; waits up to ``wait`` seconds for those."""
        wait = wait_seconds(wait)  # before the cancel is written
        requested = self.storage.cancel(_given_ids(job_ids), self.clock.now())
        from ..waiting import wait_for_jobs

        return wait_for_jobs(self.storage, [job.id for job in requested], self.clock, wait)

    def wait(self, job_ids: Iterable[str], *, timeout: float | None = None,
             on_outage: Callable[[str], None] | None = None) -> list[Job]:
        """Block until every job is completed, dead or canceled (or ``timeout`` runs out);
        each job once, in the order first given (``wait 3 3`` shows job 3 once). A PostgreSQL
        server away meanwhile is waited for (``on_outage`` is told, see ``waiting``)."""
        from ..waiting import wait_for_jobs

        return wait_for_jobs(self.storage, list(dict.fromkeys(lookup_ids(job_ids))),
                             self.clock, wait_seconds(timeout, "timeout"), on_outage)

    def follow(self, job_id: str, attempt: int | None = None, *,
               on_outage: Callable[[str], None] | None = None) -> Iterator[bytes | Attempt]:
        """Output of a run as it grows, then the finished ``Attempt`` (see ``waiting``)."""
        from ..waiting import follow_output

        if attempt is not None:  # NaN waited for ever for a run of that number to start
            whole_number(attempt, "attempt", 1, MAX_LISTED)
        return follow_output(self.storage, lookup_id(job_id), self.clock, attempt, on_outage)


def _given_ids(job_ids: Iterable[str] | str | None) -> list[str]:
    """The ids a person named, read once (a generator is read only once), each once, in their
    order; one id may be given as a string. ``InvalidInput`` if there are none."""
    ids = list(dict.fromkeys(lookup_ids(job_ids or [])))
    if not ids:
        raise InvalidInput("give at least one job id")
    return ids
