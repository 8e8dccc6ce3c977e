"""queuectl: a durable background job queue for shell commands.

The public names below are imported on first use (PEP 562), so that ``import queuectl.cli``
(every ``queuectl`` command) does not pay for the whole library. So is ``queuectl.clock``:
``queuectl.clock.FakeClock()`` works after ``import queuectl`` alone.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import clock as clock  # a module, reached as queuectl.clock
    from .clock import FakeClock, SystemClock
    from .errors import (
        DatabaseNotFound,
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
    "DatabaseNotFound",
    "DuplicateJob",
    "Enqueued",
    "FakeClock",
    "InvalidInput",
    "InvalidTransition",
    "Job",
    "JobNotFound",
    "JobState",
    "Queue",
    "QueuectlError",
    "StorageError",
    "SystemClock",
]
__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "Attempt": "models", "Enqueued": "jobspec.newjob", "Job": "models", "JobState": "states",
    "Queue": "queue",
    "DatabaseNotFound": "errors", "DuplicateJob": "errors", "InvalidInput": "errors",
    "InvalidTransition": "errors", "FakeClock": "clock", "SystemClock": "clock",
    "JobNotFound": "errors", "QueuectlError": "errors", "StorageError": "errors",
}


# Modules reached as attributes, e.g. queuectl.clock.FakeClock (not names of __all__).
_SUBMODULES = {"clock"}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None and name not in _SUBMODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    if home is None:
        return import_module(f".{name}", __name__)  # importing it sets the attribute
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
