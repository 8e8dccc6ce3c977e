"""``queuectl.Queue``: the public library API. The CLI and the dashboard are its clients.

>>> from queuectl import Queue
>>> with Queue("/tmp/example.db") as q:                       # doctest: +SKIP
...     job = q.enqueue("echo hello", max_retries=2)
...     q.get(job.id).state
<JobState.PENDING: 'pending'>

``Queue`` is one class made of a part per concept, each a class in a module of its own:

    core.py      QueueCore: opening a queue, its settings, adding jobs, one job, the workers
    reads.py     JobReads: runs and output, listings, searches, counts, status
    changes.py   JobChanges: retry from the DLQ, restart, remove, edit, delete, cancel, wait
    workers.py   WorkerControl: running and stopping workers, signals, parallelism
    history.py   RunHistory: finished runs, stats, the dashboard's series, run totals
    admin.py     Administration: settings, named queues, schedules, purge, schema, export
    facade.py    Queue: all of them

Every part is a ``QueueCore`` and uses only what that holds (``storage``, ``clock``,
``settings``, ``get``, ``workers``), so each reads on its own. ``Queue`` is imported on first
use (PEP 562): ``queuectl enqueue`` opens a ``QueueCore`` and loads no other part.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .facade import Queue

__all__ = ["Queue"]


def __getattr__(name: str) -> object:
    if name != "Queue":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .facade import Queue

    globals()["Queue"] = Queue  # later look-ups skip this function
    return Queue
