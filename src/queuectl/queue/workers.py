"""``WorkerControl``, the part of ``Queue`` that runs workers and steers what runs: a worker
in this process or in the background, stopping workers, signals for running jobs and the
parallelism of running workers (see ``job_control.py``). The list of workers is
``QueueCore.workers``."""

from __future__ import annotations

from ..errors import InvalidInput
from ..jobspec.text import queue_name
from ..storage import open_storage
from ..units import wait_seconds
from . import QueueCore

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence
    from typing import TypeVar

    from queuectl.worker.loop import Worker
    from queuectl.worker.supervisor import Detached

    from ..models import Job

    _Q = TypeVar("_Q", bound=QueueCore)


class WorkerControl(QueueCore):
    # -- workers -----------------------------------------------------------------------------

    @classmethod
    def when_reachable(cls: type[_Q], database: str | os.PathLike[str] | None = None
                       ) -> _Q | None:
        """``Queue(database)`` for a worker: a PostgreSQL server that does not answer yet (a
        host booting) is waited for, one log line per try, as a worker's start waits; None
        if Ctrl-C or SIGTERM came first. Any other error is raised at once."""
        from queuectl.worker.supervisor import when_reachable

        return when_reachable(lambda: cls(database))

    def worker(self, slots: int = 1, *, worker_id: str | None = None,
               queues: Sequence[str] | None = None) -> Worker:
        """A worker on a connection of its own (its coordinator thread is its only user),
        running up to ``slots`` jobs at once, serving ``queues`` (default: every queue; one
        name as a string is that queue)."""
        from queuectl.worker.loop import Worker

        from ..job_control import checked_slots

        checked_slots(slots)
        names = _queue_names(queues)
        return Worker(open_storage(self.url), slots=slots, clock=self._given_clock,
                      environ=self._environ, owns_storage=True, worker_id=worker_id,
                      queues=names or None)

    def serve_worker(self, slots: int = 1, *, worker_id: str | None = None,
                     queues: Sequence[str] | None = None, burst: bool = False,
                     exiting: bool = False) -> None:
        """Run a worker in this process until it is stopped (Ctrl-C, SIGTERM, ``worker stop``)
        or, with ``burst``, until nothing is left to do; see ``supervisor.serve`` (and for
        ``exiting``: this process ends once the worker has stopped)."""
        from queuectl.worker.supervisor import serve, when_reachable

        # The worker opens the database again: it may have gone away meanwhile.
        worker = when_reachable(lambda: self.worker(slots, worker_id=worker_id, queues=queues))
        if worker is None:
            return
        # The worker works on a connection of its own: this one would sit idle meanwhile (a
        # PostgreSQL server counts every connection against max_connections).
        self.storage.disconnect()
        serve(worker, burst=burst, exiting=exiting)

    def stop_workers(
        self, *, worker_id: str | None = None, now: bool = False, timeout: float | None = None,
        on_paused: Callable[[list[str]], None] | None = None,
        on_silent: Callable[[str, float, float], None] | None = None,
        on_outage: Callable[[str], None] | None = None,
    ) -> tuple[list[str], list[str]]:
        """Ask workers to stop and wait until they have exited.

        Returns ``(stopped, still running)``; the second list is empty unless ``timeout``
        ran out. Workers already dead are cleaned up (their jobs rescued) and count as stopped.
        A graceful stop first hands ``on_paused`` the ids of the paused jobs those workers
        run, if any: it waits for them until they are resumed. A worker whose heartbeat has
        not moved for a lease of waiting is lost (``on_silent`` is given its id, the
        heartbeat it reads and the lease), and counts as stopped: a heartbeat
        edited by hand into one that never reads as old made the wait last for ever. A
        setting ``config set`` would refuse (stored by hand) is taken at its default: a stop
        must work until it is fixed. A PostgreSQL server that goes away meanwhile is waited
        for (``on_outage`` is told), as ``wait`` waits.
        """
        from queuectl.worker.control import stop_workers

        settings = self.readable_settings()[0]
        return stop_workers(self.storage, settings, self.clock, worker_id=worker_id,
                            mode="now" if now else "graceful",
                            timeout=wait_seconds(timeout, "timeout"),
                            on_paused=on_paused, on_silent=on_silent, on_outage=on_outage)

    def start_worker_detached(self, slots: int = 1, *, queues: Sequence[str] = (),
                              burst: bool = False, verbose: bool = False,
                              quiet: bool = False) -> Detached:
        """Start ``queuectl worker start`` in the background, logging to a file beside the
        database, and return once it has registered."""
        from queuectl.worker.control import start_detached_worker

        from ..job_control import checked_slots

        return start_detached_worker(self.storage, checked_slots(slots),
                                     queues=_queue_names(queues), burst=burst,
                                     verbose=verbose, quiet=quiet)

    # -- steering what runs: signals for running jobs, parallelism (see job_control.py) -----

    def kill(self, job_id: str, signal: str | int = "TERM", *,
             wait: float | None = 10.0) -> Job:
        """Send ``signal`` (a name such as TERM, HUP, USR1, or a number) to a running job's
        process group, through the worker that runs it; waits up to ``wait`` seconds for that
        worker to take the request. A job stopped by ``pause`` is continued after the
        signal, so that it can act on it."""
        from ..job_control import signal_name, taken

        wait = wait_seconds(wait)  # before the request is written
        request = self.storage.request_signal(job_id, signal_name(signal))
        return taken(self, request, wait)

    def pause(self, job_id: str, *, wait: float | None = 10.0) -> Job:
        """Stop a running job's process group (SIGSTOP); its worker keeps the lease alive,
        and the job shows as paused until ``resume``."""
        from ..job_control import taken

        wait = wait_seconds(wait)
        return taken(self, self.storage.request_signal(job_id, "STOP"), wait)

    def resume(self, job_id: str, *, wait: float | None = 10.0) -> Job:
        """Continue a paused job's process group (SIGCONT)."""
        from ..job_control import taken

        wait = wait_seconds(wait)
        return taken(self, self.storage.request_signal(job_id, "CONT"), wait)

    def parallel(self, slots: int, *, worker_id: str | None = None, host: str | None = None,
                 every_host: bool = False,
                 wait: float | None = 10.0) -> tuple[list[str], list[str]]:
        """Make running workers run ``slots`` jobs at once, without a restart: ``worker_id``,
        or the workers of ``host``, or with ``every_host`` all of them; by default this
        host's. Returns ``(applied, asked)``: the workers that run ``slots`` at once after
        waiting up to ``wait`` seconds, and all the workers asked."""
        from ..job_control import checked_slots, resized

        wait = wait_seconds(wait)
        if worker_id is None and host is None and not every_host:
            from queuectl.hosts import HOST

            host = HOST
        asked = self.storage.request_slots(checked_slots(slots), worker_id=worker_id,
                                           host=host)
        return resized(self, asked, slots, wait), asked


def _queue_names(queues: Sequence[str] | str | None) -> list[str]:
    """The queues a worker serves, each checked, read once. One name given as a string is
    that queue, as one id is for the verbs on jobs: iterated, "video" served the queues
    "v", "i", "d", "e" and "o"."""
    if queues is None:
        return []
    if isinstance(queues, str):
        return [queue_name(queues, "--queue")]
    try:
        given = list(queues)
    except TypeError:  # a number, say
        raise InvalidInput(f"queues: expected a queue name or a list of them, got"
                           f" {type(queues).__name__}") from None
    return [queue_name(name, "--queue") for name in given]
