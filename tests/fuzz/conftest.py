"""Property tests of job input. Short in CI (a fixed, derandomized set of examples); long with

    QUEUECTL_FUZZ_EXAMPLES=5000 python -m pytest tests/fuzz -q

Each test tallies what happened (accepted, refused, tracebacks, rows written by a refusal,
accepted jobs that did not run) and the summary at the end of the run prints the tallies. The
tallies travel in each test's report (``user_properties``), so that they reach the summary from
the processes of a parallel run too (tests/conftest.py prints them).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

LONG_EXAMPLES = int(os.environ.get("QUEUECTL_FUZZ_EXAMPLES", "0"))
TALLIES: dict[str, Counter[str]] = {}
FUZZ_TALLY = "fuzz tally"  # the name of a user property: tests/conftest.py sums them


def fuzz_settings(short_examples: int) -> settings:
    """The library test runs ``short_examples`` in the short form; the CLI test fewer."""
    return settings(
        max_examples=LONG_EXAMPLES or short_examples,
        derandomize=not LONG_EXAMPLES,  # CI: the same examples on every run
        deadline=None,  # a CLI start under load takes what it takes
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.function_scoped_fixture],
    )


def tally(name: str) -> Counter[str]:
    return TALLIES.setdefault(name, Counter())


@pytest.fixture(autouse=True)
def _report_tallies(request: pytest.FixtureRequest) -> Iterator[None]:
    """What this test added to the tallies, zeros included, into its report."""
    before = {name: dict(counts) for name, counts in TALLIES.items()}
    yield
    for name, counts in TALLIES.items():
        added = {key: value - before.get(name, {}).get(key, 0) for key, value in counts.items()}
        request.node.user_properties.append((FUZZ_TALLY, {name: added}))
