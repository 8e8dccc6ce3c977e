"""Completion hooks, as pueue's callback and tsp's TS_ONFINISH: run by a worker's hook thread,
never by a slot, once a job is final (completed, dead or canceled).

- ``on_finish``, a shell command, runs in the job's folder and environment with
  ``QUEUECTL_JOB_ID``, ``QUEUECTL_JOB_STATE``, ``QUEUECTL_EXIT_CODE``, ``QUEUECTL_ATTEMPTS``
  and ``QUEUECTL_DURATION`` (seconds of the last run) set, and the job's JSON on stdin (also
  in the file ``QUEUECTL_HOOK_JSON`` names), for at most ``HOOK_TIMEOUT`` seconds.
- ``webhook``, a URL, gets a POST of the same JSON; it is tried up to ``WEBHOOK_TRIES`` times,
  ``WEBHOOK_TIMEOUT`` seconds each, while it fails to answer or answers 5xx.

What each did is recorded on the job (``hook`` in ``queuectl show --json``); neither can change
the job's outcome. Each finished run's hooks are taken once, by one worker: a worker that dies
while running one does not run it again (at most once).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .thread_names import name_os_thread

if TYPE_CHECKING:
    from ..models import Job
    from ..storage import Storage

log = logging.getLogger("queuectl.worker.loop")

HOOK_TIMEOUT = 60.0
HOOK_OUTPUT_KEPT = 4096  # the end of a hook command's output kept with its result
WEBHOOK_TIMEOUT = 10.0
WEBHOOK_TRIES = 3
_TAKEN_AT_ONCE = 1  # one at a time: a hook taken is a hook that must run now


class HookRunner:
    """A worker's hook thread, with a database connection of its own (opened when it first
    has work); ``ring`` says that hooks may be due."""

    def __init__(self, url: str, environ: Mapping[str, str]) -> None:
        self._url = url
        self._environ = dict(environ)
        self._rung = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._storage: Storage | None = None
        self._closing = False  # the worker stops: run what is due, then end

    def start(self) -> None:
        self._stopping.clear()
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="hooks", daemon=True)
        self._thread.start()

    def ring(self) -> None:
        self._rung.set()

    def close(self, *, drain: bool = True, timeout: float = 2 * HOOK_TIMEOUT) -> None:
        """End the thread: with ``drain`` (a graceful stop) once the hooks due now have run,
        else after the one running now (the others wait for another worker, or the next
        start). Waits at most ``timeout`` seconds."""
        if not drain:
            self._stopping.set()
        self._closing = True
        self._rung.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._stopping.set()

    def _serve(self) -> None:
        name_os_thread()
        while True:
            self._rung.wait()
            self._rung.clear()
            if not self._stopping.is_set():
                try:
                    self._run_due()
                except Exception as exc:  # a database error: the next ring tries again
                    log.error("completion hooks: %s: %s", type(exc).__name__, exc)
            if self._closing or self._stopping.is_set():
                break
        if self._storage is not None:
            self._storage.close()

    def _run_due(self) -> None:
        if self._storage is None:
            from ..storage import open_storage

            self._storage = open_storage(self._url)
        storage = self._storage
        while not self._stopping.is_set():
            taken = storage.take_due_hooks(_TAKEN_AT_ONCE)
            if not taken:
                return
            for job in taken:
                run = storage.latest_runs([job.id]).get(job.id)
                took = None if run is None or run.finished_at is None else \
                    run.finished_at - run.started_at
                result = run_hooks(job, took, self._environ, self._stopping)
                storage.record_hook(job.id, json.dumps(result, sort_keys=True))


def hook_environment(job: Job, took: float | None) -> dict[str, str]:
    """What a hook command finds in its environment about the job."""
    return {
        "QUEUECTL_JOB_ID": job.id,
        "QUEUECTL_JOB_STATE": job.state.value,
        "QUEUECTL_EXIT_CODE": "" if job.current_exit_code is None else str(
            job.current_exit_code),
        "QUEUECTL_ATTEMPTS": str(job.attempts),
        "QUEUECTL_DURATION": "" if took is None else f"{took:.3f}",
    }


def run_hooks(job: Job, took: float | None, environ: Mapping[str, str],
              stopping: threading.Event | None = None) -> dict[str, Any]:
    """Run the job's hooks; what each did, for the job's record."""
    document = {**job.to_dict(), "duration": took}
    body = json.dumps(document, sort_keys=True).encode()
    result: dict[str, Any] = {}
    if job.on_finish:
        result["on_finish"] = _run_command(job, took, environ, body)
        log.info("job %s: hook on_finish: %s", job.id,
                 result["on_finish"].get("error") or "ok")
    if job.webhook:
        result["webhook"] = post(job.webhook, body, stopping)
        log.info("job %s: webhook: %s", job.id,
                 result["webhook"].get("error") or result["webhook"].get("status"))
    return result


def _run_command(job: Job, took: float | None, environ: Mapping[str, str],
                 body: bytes) -> dict[str, Any]:
    from queuectl.process.runner import Execution

    assert job.on_finish is not None
    with tempfile.NamedTemporaryFile(prefix="queuectl-hook-", suffix=".json") as document:
        document.write(body)
        document.flush()
        env = {**environ, **(job.env or {}), **hook_environment(job, took),
               "QUEUECTL_HOOK_JSON": document.name}
        # stdin from the document: the runner gives commands /dev/null otherwise.
        command = f'exec < "$QUEUECTL_HOOK_JSON"\n{job.on_finish}'
        outcome = Execution(command, cwd=job.cwd if job.cwd and os.path.isdir(job.cwd)
                            else None, env=env, timeout=HOOK_TIMEOUT,
                            output_limit=HOOK_OUTPUT_KEPT).wait()
    return {"exit_code": outcome.exit_code, "error": outcome.error,
            "output": outcome.output.decode("utf-8", "replace")}


def post(url: str, body: bytes, stopping: threading.Event | None = None) -> dict[str, Any]:
    """POST ``body`` (JSON) to ``url``: tried again after 1 s, 2 s... while it cannot be
    reached or answers 5xx; a 4xx answer is final."""
    import urllib.error
    import urllib.request

    pause = stopping or threading.Event()
    error = ""
    try:
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "queuectl"})
    except ValueError as exc:  # a URL urllib cannot read (a row edited by hand): final
        return {"tries": 1, "error": f"bad URL: {exc}"}
    for attempt in range(1, WEBHOOK_TRIES + 1):
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
                return {"status": response.status, "tries": attempt}
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return {"status": exc.code, "tries": attempt, "error": f"HTTP {exc.code}"}
            error = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # refused, unreachable, timed out, bad URL
            error = str(getattr(exc, "reason", exc))
        if attempt < WEBHOOK_TRIES and pause.wait(2.0 ** (attempt - 1)):
            break  # the worker stops: no more tries
    return {"tries": attempt, "error": error}
