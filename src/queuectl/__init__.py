"""queuectl: a durable background job queue for shell commands.

The public names below are imported on first use (PEP 562), so that ``import queuectl.cli``
(every ``queuectl`` command) does not pay for the whole library.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .errors import (
        DuplicateJob,
        InvalidInput,
        InvalidTransition,
        JobNotFound,
        QueuectlError,
        StorageError,
    )
    from .models import Attempt, Enqueued, Job, JobState
    from .queue import Queue

__all__ = [
    "Attempt",
    "DuplicateJob",
    "Enqueued",
    "InvalidInput",
    "InvalidTransition",
    "Job",
    "JobNotFound",
    "JobState",
    "Queue",
    "QueuectlError",
    "StorageError",
]
__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "Attempt": "models", "Enqueued": "jobspec.newjob", "Job": "models", "JobState": "states",
    "Queue": "queue",
    "DuplicateJob": "errors", "InvalidInput": "errors", "InvalidTransition": "errors",
    "JobNotFound": "errors", "QueuectlError": "errors", "StorageError": "errors",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
