"""Reaching the test PostgreSQL server, and a private schema per test.

The server is ``QUEUECTL_TEST_PG`` (default: the local one on 127.0.0.1:5432, trust auth,
database ``test``). When it cannot be reached the PostgreSQL tests skip with one line saying
how to enable them; under ``CI=true`` they fail instead, so that CI never passes by skipping.
"""

from __future__ import annotations

import functools
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_URL = os.environ.get("QUEUECTL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
HOW_TO_ENABLE = (
    "start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), "
    "install the driver (pip install -e '.[postgres]') or point QUEUECTL_TEST_PG at a server"
)


@functools.cache
def unavailable_reason() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot connect to {PG_URL}: {first}"
    return None


def require_postgres() -> None:
    reason = unavailable_reason()
    if reason is None:
        return
    message = f"PostgreSQL tests: {reason}; to run them, {HOW_TO_ENABLE}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def drop_schema(schema: str, url: str = PG_URL) -> None:
    """Drop ``schema``; a deadlock with a session still ending is waited out.

    A test's workers are killed just before: a session of theirs may still be finishing its
    statement (the server sees its client gone only at the next read), taking a lock that the
    DROP, which locks table after table, already holds, while the DROP waits for one it holds.
    The server then picks the DROP as the victim; once that session has ended, it passes.
    """
    import psycopg
    from psycopg import sql

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
                             .format(sql.Identifier(schema)))
            return
        except psycopg.errors.DeadlockDetected:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def private_schema(url: str = PG_URL) -> Iterator[str]:
    """A store URL in a schema of its own, dropped afterwards."""
    require_postgres()
    schema = "qtest_" + secrets.token_hex(6)
    try:
        yield with_schema(url, schema)
    finally:
        drop_schema(schema, url)
