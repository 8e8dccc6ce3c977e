from __future__ import annotations

from tests.cli.e2e import workers

__all__ = ["workers"]  # a fixture, made available to every test here

