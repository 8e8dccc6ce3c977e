"""Storage contract: one run's output read from a byte offset, while it streams and after it
is folded into its attempt."""

from __future__ import annotations

from queuectl.models import JobState, NewJob, Outcome, RunOutput
from queuectl.storage import Storage
from queuectl.storage.base import OutputChunk

T0 = 1_767_225_600.0


def _running(storage: Storage) -> None:
    storage.enqueue([NewJob("s", "x", 0)], T0)
    storage.record_and_claim("w", [], 1, T0, T0 + 30)


def test_a_running_run_is_read_from_an_offset_inside_or_between_chunks(
    storage: Storage,
) -> None:
    _running(storage)
    assert storage.run_output("s", 1, 0) == RunOutput("s", 1, False, 0, 0, 0, b"")
    storage.append_output("w", [OutputChunk("s", 1, 0, b"hello "),
                                OutputChunk("s", 1, 6, b"w\xc3\xb6rld "),
                                OutputChunk("s", 1, 13, b"again")])
    whole = b"hello w\xc3\xb6rld again"
    for offset in range(len(whole) + 3):
        found = storage.run_output("s", 1, offset)
        start = min(offset, len(whole))
        assert found == RunOutput("s", 1, False, 0, len(whole), start, whole[start:]), offset
    # At most the last 7 bytes, however far behind the reader is.
    assert storage.run_output("s", 1, 2, most=7) == RunOutput(
        "s", 1, False, 0, 18, 11, b"d again")
    assert storage.run_output("s", 1, 16, most=7) == RunOutput("s", 1, False, 0, 18, 16, b"in")


def test_a_finished_run_is_read_from_its_attempt(storage: Storage) -> None:
    _running(storage)
    storage.append_output("w", [OutputChunk("s", 1, 0, b"hel")])
    done = Outcome("s", 1, JobState.COMPLETED, T0 + 1, exit_code=0, output=b"hello\x00world",
                   output_dropped=5, streamed=True)
    storage.record_and_claim("w", [done], 0, T0 + 1, T0 + 1)
    assert storage.run_output("s", 1, 4) == RunOutput("s", 1, True, 5, 11, 4, b"o\x00world")
    assert storage.run_output("s", 1, 99) == RunOutput("s", 1, True, 5, 11, 11, b"")
    assert storage.run_output("s", 1, 0, most=3) == RunOutput("s", 1, True, 5, 11, 8, b"rld")


def test_a_run_not_started_has_no_output(storage: Storage) -> None:
    _running(storage)
    assert storage.run_output("s", 2, 0) is None
    assert storage.run_output("nope", 1, 0) is None
    silent = Outcome("s", 1, JobState.COMPLETED, T0 + 1, exit_code=0, output=b"")
    storage.record_and_claim("w", [silent], 0, T0 + 1, T0 + 1)
    assert storage.run_output("s", 1, 5) == RunOutput("s", 1, True, 0, 0, 0, b"")
