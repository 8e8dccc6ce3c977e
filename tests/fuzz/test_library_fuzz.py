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

from queuectl import Queue
from queuectl.errors import DuplicateJob, InvalidInput

from .conftest import fuzz_settings, tally
from .running import run_accepted
from .strategies import any_specs


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
