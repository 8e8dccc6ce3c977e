"""queuectl: a durable background job queue for shell commands."""

from __future__ import annotations

from .errors import (
    DuplicateJob,
    InvalidInput,
    InvalidTransition,
    JobNotFound,
    QueuectlError,
    StorageError,
)
from .models import Attempt, Job, JobState
from .queue import Queue

__all__ = [
    "Attempt",
    "DuplicateJob",
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
