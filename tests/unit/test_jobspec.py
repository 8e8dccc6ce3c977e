from __future__ import annotations

from typing import Any

import pytest

from queuectl.config import Settings
from queuectl.errors import InvalidInput
from queuectl.jobspec.newjob import NUMBERED
from queuectl.jobspec.parse import parse_job_spec, parse_job_specs

SETTINGS = Settings(max_retries=4)


def test_minimal_spec_is_left_to_number_with_defaults_and_the_current_directory() -> None:
    job = parse_job_spec({"command": "echo hi"}, SETTINGS, cwd="/srv")
    assert job.id == NUMBERED  # the store gives it the next number
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


def test_a_batch_leaves_the_jobs_given_no_id_to_number() -> None:
    jobs = parse_job_specs([{"command": "true"}] * 3 + [{"id": "7", "command": "b"}], SETTINGS)
    assert [job.id for job in jobs] == [NUMBERED, NUMBERED, NUMBERED, "7"]


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
