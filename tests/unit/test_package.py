"""``import queuectl`` is cheap: the public names are imported on first use (PEP 562)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import queuectl
from queuectl import models, queue, states
from queuectl.jobspec import newjob


def test_every_public_name_resolves_to_its_home() -> None:
    homes = {"Queue": queue, "Job": models, "Attempt": models, "JobState": states,
             "Enqueued": newjob}
    for name in queuectl.__all__:
        value = getattr(queuectl, name)
        assert value.__name__ == name
        if name in homes:
            assert value is getattr(homes[name], name)
    assert set(queuectl.__all__) <= set(dir(queuectl))


def test_importing_the_package_or_the_cli_loads_no_library_module() -> None:
    code = ("import sys, queuectl, queuectl.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('queuectl.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.stdout.strip() == "['queuectl.cli']"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Nope"):
        getattr(queuectl, "Nope")  # noqa: B009
