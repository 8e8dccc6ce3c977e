"""The one wording of paused jobs a stop or a burst waits for (states.py)."""

from __future__ import annotations

from queuectl.states import paused_jobs


def test_one_paused_job_is_named_in_the_command_that_resumes_it() -> None:
    assert paused_jobs(["encode"]) == (
        "paused job encode: it ends only once resumed (queuectl resume encode), or is put"
        " back by queuectl worker stop --now")


def test_several_paused_jobs_are_listed_with_the_command_for_each() -> None:
    assert paused_jobs(["a", "b"]) == (
        "paused jobs a, b: each ends only once resumed (queuectl resume ID), or is put back"
        " by queuectl worker stop --now")
