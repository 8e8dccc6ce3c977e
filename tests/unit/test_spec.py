from __future__ import annotations

from typing import Any

import pytest

from queuectl.config import Settings
from queuectl.errors import InvalidInput
from queuectl.spec import parse_job_spec

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
