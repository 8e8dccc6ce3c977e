"""Fixtures of the PostgreSQL tests: a private schema per test on the shared test server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import private_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_schema() as url:
        yield url
