"""The PostgreSQL store's named statements and how its rows become models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..models import Job, JobState
from .sql import load_queries

# Bytes: psycopg takes a query as bytes when it is not a literal in the source.
Q = {name: text.encode()
     for name, text in load_queries(Path(__file__).parent / "postgres.sql").items()}
Row = dict[str, Any]


def job_of(row: Row) -> Job:
    env = row["env"]
    return Job(
        id=row["id"], command=row["command"], state=JobState(row["state"]),
        attempts=row["attempts"], max_retries=row["max_retries"], created_at=row["created_at"],
        updated_at=row["updated_at"], run_at=row["run_at"], runs=row["runs"],
        priority=row["priority"], cwd=row["cwd"], env=json.loads(env) if env else None,
        timeout=row["timeout"], exit_code=row["exit_code"], last_error=row["last_error"],
        worker_id=row["worker_id"], lease_until=row["lease_until"],
        fatal_exit_codes=tuple(row["fatal_exit_codes"] or ()),
        retry_on_timeout=row["retry_on_timeout"], output_limit=row["output_limit"],
        cancel_requested=row["cancel_requested"], queue=row["queue"],
        unique_key=row["unique_key"], tags=tuple(row["tags"] or ()),
        depends_on=tuple(row["depends_on"] or ()), waiting_on=row["waiting_on"],
        backoff_base=row["backoff_base"], backoff_max=row["backoff_max"], jitter=row["jitter"],
    )


def claim_order(row: Row) -> tuple[int, float, int]:
    return (-row["priority"], row["run_at"], row["seq"])
