"""The library's reads given any value for an argument: each call returns its result (or,
for an id that is well formed, ``JobNotFound``) or raises ``InvalidInput``, in one line,
never another exception (AttributeError, TypeError, OverflowError, a StorageError from deep
in the database).

Each example puts one drawn value in one argument of one read; the others keep values that
work. The queue holds a finished job and a pending one, so that pages, runs and output have
something to read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queuectl import FakeClock, Queue
from queuectl.errors import InvalidInput, JobNotFound

from .conftest import fuzz_settings, tally
from .strategies import durations, names, numbers, texts

# Any value a caller may hand an argument: numbers at and past every bound, NaN and
# infinities, bools, strings (cursors, durations, names), bytes, None, containers.
any_value = st.one_of(
    numbers, durations, names, texts, st.none(), st.binary(max_size=8),
    st.lists(st.one_of(numbers, names), max_size=3),
    st.dictionaries(names, numbers, max_size=2),
    st.sampled_from(["1", "7", "9" * 19, "9" * 30, " 5", "1.5", "dead", "pending", "j",
                     "default", "-1"]),
)

# A read, and how to call it with ``value`` in one argument (the name errors use first).
READS: dict[str, Callable[[Queue, Any], object]] = {
    "jobs(state)": lambda q, v: q.jobs(v),
    "jobs(limit)": lambda q, v: q.jobs(limit=v),
    "jobs(offset)": lambda q, v: q.jobs(offset=v),
    "jobs(tag)": lambda q, v: q.jobs(tag=v),
    "listing(state)": lambda q, v: q.listing(v),
    "listing(queue)": lambda q, v: q.listing(queue=v),
    "listing(tag)": lambda q, v: q.listing(tag=v),
    "listing(limit)": lambda q, v: q.listing(limit=v),
    "search_jobs(state)": lambda q, v: q.search_jobs(v),
    "search_jobs(text)": lambda q, v: q.search_jobs(text=v),
    "search_jobs(queue)": lambda q, v: q.search_jobs(queue=v),
    "search_jobs(before)": lambda q, v: q.search_jobs(before=v),
    "search_jobs(after)": lambda q, v: q.search_jobs(after=v),
    "search_jobs(limit)": lambda q, v: q.search_jobs(limit=v),
    "search_jobs(tag)": lambda q, v: q.search_jobs(tag=v),
    "search_jobs(error)": lambda q, v: q.search_jobs(error=v),
    "search_jobs(scan)": lambda q, v: q.search_jobs(text="j", scan=v),
    "running_jobs(limit)": lambda q, v: q.running_jobs(v),
    "get(id)": lambda q, v: q.get(v),
    "attempts(id)": lambda q, v: q.attempts(v),
    "run_output(run)": lambda q, v: q.run_output("done", v),
    "run_output(offset)": lambda q, v: q.run_output("done", 1, v),
    "run_output(most)": lambda q, v: q.run_output("done", 1, most=v),
    "finished_runs(since)": lambda q, v: list(q.finished_runs(v)),
    "finished_runs(until)": lambda q, v: list(q.finished_runs(0, v)),
    "stats(since)": lambda q, v: q.stats(v),
    "stats(queue)": lambda q, v: q.stats(queue=v),
    "stats(step)": lambda q, v: q.stats("1h", step=v),
    "stats_series(since)": lambda q, v: q.stats_series(v),
    "stats_series(queue)": lambda q, v: q.stats_series(queue=v),
    "stats_series(bars)": lambda q, v: q.stats_series(bars=v),
    "purge(states)": lambda q, v: q.purge(v, older_than="36500d"),
    "purge(older_than)": lambda q, v: q.purge(["canceled"], older_than=v),
}


@pytest.fixture
def read_queue(tmp_path: Path) -> Any:
    with Queue(tmp_path / "reads.db", clock=FakeClock(1_800_000_000.0), environ={}) as queue:
        queue.enqueue("echo out", id="done", tags=["t"])
        with queue.worker() as worker:
            while worker.run_once():
                pass
        queue.enqueue("true", id="j")
        yield queue


def test_any_value_for_a_read_argument_gives_a_result_or_invalid_input(read_queue: Queue) -> None:
    counts = tally("library reads")
    counts["tracebacks"] += 0

    @fuzz_settings(short_examples=400)
    @given(read=st.sampled_from(sorted(READS)), value=any_value)
    def read(read: str, value: Any) -> None:
        counts["examples"] += 1
        try:
            READS[read](read_queue, value)
        except InvalidInput as exc:
            counts["refused"] += 1
            message = str(exc)
            assert message and "\n" not in message and len(message) < 400, message
            return
        except JobNotFound:
            assert read in ("get(id)", "attempts(id)"), read
            counts["not found"] += 1
            return
        except Exception:
            counts["tracebacks"] += 1
            raise
        counts["answered"] += 1

    read()
    assert read_queue.get("done").state.value == "completed", "a read changed a job"
