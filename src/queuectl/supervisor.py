"""Runs a worker in the foreground of a process, with the signals people expect.

The first SIGINT or SIGTERM stops claiming and lets running jobs finish; a second one kills
the running jobs' process groups and gives their runs back without consuming an attempt.
"""

from __future__ import annotations

import signal
from types import FrameType

from .worker import GRACEFUL, NOW, Worker


def serve(worker: Worker, *, burst: bool = False) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        worker.request_stop(NOW if worker.stopping else GRACEFUL)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.run(burst=burst)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
