from __future__ import annotations

import os
from typing import Any

import pytest

from queuectl.config import Settings
from queuectl.errors import InvalidInput
from queuectl.jobspec.parse import new_job_ids, parse_job_spec, parse_job_specs

SETTINGS = Settings(max_retries=4)


def test_minimal_spec_gets_an_id_defaults_and_the_current_directory() -> None:
    job = parse_job_spec({"command": "echo hi"}, SETTINGS, cwd="/srv")
    assert len(job.id) == 12
    assert (job.command, job.max_retries, job.cwd) == ("echo hi", 4, "/srv")


def test_full_spec() -> None:
    job = parse_job_spec(
        {"id": "job1", "command": "make", "max_retries": 0, "cwd": "/tmp", "env": {"A": "1"},
         "timeout": "5m"},
        SETTINGS,
    )
    assert (job.id, job.max_retries, job.cwd, job.env, job.timeout) == (
        "job1", 0, "/tmp", {"A": "1"}, 300.0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "JSON object"),
        ({}, "command: required"),
        ({"command": ""}, "command: must not be empty"),
        ({"command": "  "}, "command: must not be empty"),
        ({"command": 5}, "command: expected a string"),
        ({"command": "x", "max_retries": -1}, "max_retries: must not be negative"),
        ({"command": "x", "max_retries": "3"}, "max_retries: expected a whole number"),
        ({"command": "x", "max_retries": True}, "max_retries: expected a whole number"),
        ({"command": "x", "max_retries": 1.5}, "max_retries: expected a whole number"),
        ({"command": "x", "id": 7}, "id: expected a string"),
        ({"command": "x", "id": ""}, "id: ''"),
        ({"command": "x", "id": "has space"}, "id: 'has space'"),
        ({"command": "x", "colour": "red"}, "unknown field 'colour'"),
        ({"command": "x", "state": "completed"}, "field 'state' is set by queuectl"),
        ({"command": "x", "env": ["A=1"]}, "env: expected an object"),
        ({"command": "x", "env": {"A": 1}}, "env: value of A must be a string"),
        ({"command": "x", "timeout": "soon"}, "timeout"),
        ({"command": "x", "timeout": 0}, "timeout: must be more than zero"),
    ],
)
def test_bad_specs_name_the_field(spec: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        parse_job_spec(spec, SETTINGS)


# -- batches: parse_job_specs ---------------------------------------------------------------


def test_a_batch_is_parsed_as_each_spec_alone_but_for_the_ids() -> None:
    specs: list[Any] = [
        {"command": "echo a"},
        {"command": "echo b", "priority": 2, "queue": "q", "tags": ["t"], "timeout": "5s"},
        {"id": "given", "command": "echo c", "cwd": "/tmp"},
        {"command": "echo d", "max_retries": 0},
    ]
    batch = parse_job_specs(specs, SETTINGS)
    alone = [parse_job_spec(spec, SETTINGS) for spec in specs]
    assert [job._replace(id="") for job in batch] == [job._replace(id="") for job in alone]
    assert batch[2].id == "given"
    assert [job.plain for job in batch] == [True, False, True, True]


def test_ids_drawn_for_a_batch_never_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([b"\x01" * 6 * 5, b"\x02" * 6, b"\x03" * 6, b"\x04" * 6, b"\x05" * 6])
    monkeypatch.setattr(os, "urandom", lambda size: next(draws)[:size])
    # Every id of the first draw is the same: four of them are drawn again, one by one.
    assert sorted(new_job_ids(5)) == ["010101010101", "020202020202", "030303030303",
                                      "040404040404", "050505050505"]


def test_a_drawn_id_equal_to_one_given_in_the_batch_is_drawn_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([bytes.fromhex("aaaaaaaaaaaacccccccccccc"), bytes.fromhex("bbbbbbbbbbbb")])
    monkeypatch.setattr(os, "urandom", lambda size: next(draws)[:size])
    jobs = parse_job_specs([{"command": "a"}, {"id": "aaaaaaaaaaaa", "command": "b"}], SETTINGS)
    assert [job.id for job in jobs] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]


def test_ten_thousand_drawn_ids_are_distinct() -> None:
    jobs = parse_job_specs([{"command": "true"}] * 10_000, SETTINGS)
    assert len({job.id for job in jobs}) == 10_000
    assert all(len(job.id) == 12 for job in jobs)


class _Text(str):
    pass


@pytest.mark.parametrize("command", [42, None, "", "   ", "\t\n", "a\0b", ["echo"]])
def test_a_bad_command_in_a_batch_gives_the_error_of_a_single_spec(command: Any) -> None:
    with pytest.raises(InvalidInput) as alone:
        parse_job_spec({"command": command}, SETTINGS)
    with pytest.raises(InvalidInput) as batch:
        parse_job_specs([{"command": "fine"}, {"command": command}], SETTINGS,
                        lambda index: f"line {index + 1}")
    assert str(batch.value) == f"line 2: {alone.value}"


def test_a_command_of_a_str_subclass_is_kept_as_given() -> None:
    [job] = parse_job_specs([{"command": _Text("echo hi")}], SETTINGS)
    assert job.command == "echo hi"


def test_an_error_without_a_name_is_the_single_spec_error() -> None:
    with pytest.raises(InvalidInput, match=r"^command: must not be empty$"):
        parse_job_specs([{"command": ""}], SETTINGS)
