"""Job input through the library (``Queue.enqueue_many``, and ``Queue.enqueue`` of what
``Queue.load_json`` makes of JSON text, as the CLI does): no input raises anything but
``InvalidInput`` (or ``DuplicateJob`` for a given id that exists), a refusal writes nothing
and is one line, and every accepted job can be listed, shown and run to a finished attempt by
a real worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from queuectl import Queue
from queuectl.errors import DuplicateJob, InvalidInput

from .conftest import fuzz_settings, tally
from .running import run_accepted
from .strategies import any_specs, env_names, plain_texts


def _rows(queue: Queue) -> int:
    return sum(queue.counts().values())


def test_library_enqueue_refuses_or_stores_a_runnable_job(tmp_path: Path) -> None:
    counts = tally("library")
    counts["tracebacks"] += 0  # shown as 0 when none
    accepted: set[str] = set()
    with Queue(tmp_path / "fuzz.db", environ={}) as queue:

        @fuzz_settings(short_examples=300)
        @given(spec=any_specs)
        def enqueue(spec: Any) -> None:
            counts["examples"] += 1
            before = _rows(queue)
            try:
                try:
                    if isinstance(spec, dict) and counts["examples"] % 2:
                        [job] = queue.enqueue_many([spec])
                    else:  # the same spec as JSON text, NaN and lone surrogates included
                        job = queue.enqueue(queue.load_json(json.dumps(spec)))
                except InvalidInput as exc:
                    counts["refused"] += 1
                    message = str(exc)
                    assert message and "\n" not in message and len(message) < 400, message
                    counts["rows written on error"] += _rows(queue) - before
                    assert _rows(queue) == before
                    return
                except DuplicateJob:
                    counts["duplicate id"] += 1
                    assert isinstance(spec, dict) and spec.get("id") is not None
                    assert _rows(queue) == before
                    return
            except AssertionError:
                raise
            except Exception:
                counts["tracebacks"] += 1
                raise
            counts["accepted"] += 1
            if not job.unique_conflict:
                accepted.add(job.id)
            # What was stored can be shown and listed (a year-10000 run_at once broke both).
            json.dumps(queue.get(job.id).to_dict())
            assert queue.jobs(limit=1)

        enqueue()
        missing = run_accepted(queue, accepted, counts)
    assert not missing, f"accepted jobs that did not run: {missing[:5]}"
    assert counts["tracebacks"] == counts["rows written on error"] == 0


def test_every_variable_an_accepted_job_stores_reaches_its_command(tmp_path: Path) -> None:
    """An ``env`` is refused in one line with nothing written, or each of its variables is
    in the environment of the command, as stored: a name the job's sh would drop (dash drops
    every name that is not portable) is not accepted only to be lost."""
    counts = tally("env")
    accepted: dict[str, dict[str, str]] = {}
    with Queue(tmp_path / "env.db", environ={}) as queue:

        @fuzz_settings(short_examples=200)
        @given(env=st.dictionaries(env_names, plain_texts, max_size=4))
        def enqueue(env: dict[str, str]) -> None:
            counts["examples"] += 1
            before = _rows(queue)
            try:
                # env -0: values may hold newlines; the shell sits between, as for any job.
                job = queue.enqueue("env -0; :", env=env, max_retries=0)
            except InvalidInput as exc:
                counts["refused"] += 1
                assert "\n" not in str(exc) and _rows(queue) == before, str(exc)
                return
            counts["accepted"] += 1
            accepted[job.id] = env

        enqueue()
        missing = run_accepted(queue, set(accepted), counts)
        assert not missing, f"accepted jobs that did not run: {missing[:5]}"
        for job_id, env in accepted.items():
            [attempt] = queue.attempts(job_id)
            seen = dict(entry.split("=", 1) for entry in
                        attempt.output.decode().split("\0") if "=" in entry)
            lost = {key: value for key, value in env.items() if seen.get(key) != value}
            counts["variables lost"] += len(lost)
            assert not lost, f"job {job_id}: stored but not seen by its command: {lost}"
    assert counts["accepted"] and counts["refused"]
