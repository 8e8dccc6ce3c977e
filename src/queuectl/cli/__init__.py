"""The ``queuectl`` command line: a thin client of ``queuectl.Queue``.

Nothing is imported at start-up: the plain forms of ``enqueue`` run without Click
(``plain_enqueue.py``); every other command line goes to the Click group (``group.py``), which
imports a command's module (and with it the library) when that command runs. So
``queuectl enqueue`` in a loop stays fast.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from .group import LazyGroup, root

__all__ = ["LazyGroup", "main", "root"]

# command name -> "module:attribute", imported on first use
_COMMANDS = {
    "enqueue": "queuectl.cli.enqueue:enqueue",
    "add": "queuectl.cli.enqueue:add",
    "list": "queuectl.cli.jobs:list_jobs",
    "show": "queuectl.cli.jobs:show",
    "status": "queuectl.cli.status:status",
    "worker": "queuectl.cli.workers:worker",
    "dlq": "queuectl.cli.dlq:dlq",
    "config": "queuectl.cli.settings:config",
    "logs": "queuectl.cli.runtime:logs",
    "wait": "queuectl.cli.runtime:wait",
    "cancel": "queuectl.cli.runtime:cancel",
    "retry": "queuectl.cli.runtime:retry",
    "db": "queuectl.cli.db:db",
    "export": "queuectl.cli.transfer:export",
    "import": "queuectl.cli.transfer:import_",
    "dashboard": "queuectl.cli.dashboard:dashboard",
    "stats": "queuectl.cli.stats:stats",
    "queue": "queuectl.cli.queues:queue_group",
    "schedule": "queuectl.cli.schedule:schedule",
    "purge": "queuectl.cli.purge:purge",
    "completion": "queuectl.cli.completion:completion",
    "restart": "queuectl.cli.changes:restart",
    "remove": "queuectl.cli.changes:remove",
    "edit": "queuectl.cli.changes:edit",
    "kill": "queuectl.cli.control:kill",
    "pause": "queuectl.cli.control:pause",
    "resume": "queuectl.cli.control:resume",
    "parallel": "queuectl.cli.control:parallel",
}


def main(argv: list[str] | None = None) -> NoReturn:
    """Run ``queuectl`` with ``argv`` (default: the process's arguments) and exit."""
    from . import plain_enqueue

    plan = plain_enqueue.parse(sys.argv[1:] if argv is None else argv)
    # JSON that is no object is most likely a command given without -c: Click's enqueue says
    # how to give one.
    if plan is not None and not (plan.form == "json" and not plan.value.lstrip().startswith("{")):
        plain_enqueue.run(plan)  # exits, unless the command line needs Click after all
    from .group import run

    run(argv)


def __getattr__(name: str) -> object:
    # The Click group, for tests and tools that inspect it, without importing Click here.
    if name in ("LazyGroup", "root"):
        from . import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
