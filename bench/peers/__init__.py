"""The peers queuectl is compared with, each started and driven by the suite.

Every peer module offers ``NAME``, ``unavailable() -> str | None`` (why it cannot run here, or
None) and ``drain(ctx, command, jobs, workers) -> dict`` with the same meaning as
``queuectl_e2e.drain``: workers started and idle first, the clock from the first enqueue to the
last job done. Task modules (``*_tasks.py``) are what the peers' own worker processes import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

ALL = ("huey", "rq", "celery", "tsp")


def load(name: str) -> ModuleType:
    return importlib.import_module(f"peers.{name}_peer")
