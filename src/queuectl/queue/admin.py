"""``Administration``, the part of ``Queue`` that looks after the queue as a whole: its
settings (``queuectl config``), named queues and recurring jobs (reached as attributes),
purging old jobs, the database's schema, and moving a queue to another database."""

from __future__ import annotations

import os

from .. import config
from . import QueueCore, refusal_reasons

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from ..queues import NamedQueues
    from ..schedules import Schedules
    from ..states import JobState
    from ..storage.schema import SchemaStatus
    from ..transfer import Imported


class Administration(QueueCore):
    @property
    def queues(self) -> NamedQueues:
        """Named queues: ``queue.queues.pause("video")``, ``.resume``, ``.limit``, ``.list``."""
        from ..queues import NamedQueues

        return NamedQueues(self.storage)

    @property
    def schedules(self) -> Schedules:
        """Recurring jobs: ``queue.schedules.add("backup", {...}, cron="0 2 * * *")``,
        ``.pause``, ``.resume``, ``.remove``, ``.list``."""
        from ..schedules import Schedules

        return Schedules(self.storage, self.clock, lambda: self.settings_for(()))

    # -- configuration -----------------------------------------------------------------------

    def config_get(self, key: str) -> str:
        key = config.canonical_key(key)
        return self.config_list()[key]

    def config_set(self, key: str, value: str) -> tuple[str, str]:
        """Validate and store a setting; returns ``(canonical key, stored value)``."""
        key = config.canonical_key(key)
        stored = config.normalize_value(key, value)
        self.storage.set_config(key, stored)
        return key, stored

    def config_unset(self, key: str) -> str:
        key = config.canonical_key(key)
        self.storage.set_config(key, None)
        return key

    def config_list(self) -> dict[str, str]:
        """Every key with its effective value; one refused (stored by hand, see
        ``config_refused``) shown as found, marked: ``(unreadable) 'soon'``."""
        return self.config_listing()[0]

    def config_listing(self) -> tuple[dict[str, str], dict[str, str]]:
        """``config_list`` and ``config_refused`` from one read of the settings, as
        ``config get`` and ``config list`` show the values and warn of those refused."""
        from ..unreadable import marked

        settings, refused = self.readable_settings()
        described = config.describe(settings)
        for key, (found, _) in refused.items():
            described[key] = marked(found)
        return described, refusal_reasons(refused)

    # -- retention ---------------------------------------------------------------------------

    def purge(self, states: Sequence[JobState | str], older_than: float | str = 0.0) -> int:
        """Delete finished jobs in ``states`` (completed, dead, canceled) last updated more
        than ``older_than`` ago (seconds or e.g. ``"7d"``; 0: all of them), with their
        attempts and output, in short batches. Returns how many were deleted."""
        from queuectl.worker.maintenance import purge

        return purge(self.storage, states, older_than, self.clock.now())

    # -- the database as a whole: its schema, moving it to another ---------------------------

    @staticmethod
    def schema_status(database: str | os.PathLike[str] | None = None) -> SchemaStatus:
        """The schema version of ``database`` and the migrations an upgrade would apply,
        read without opening the queue (which would migrate it); ``DatabaseNotFound`` for
        a SQLite file that is not there (nothing is created)."""
        from ..storage.schema import schema_status

        return schema_status(database)

    @staticmethod
    def upgrade_schema(database: str | os.PathLike[str] | None = None) -> list[str]:
        """Apply the pending migrations; the names of those this call applied (a process
        upgrading at the same time applies the others)."""
        from ..storage.schema import upgrade_schema

        return upgrade_schema(database)

    def export_lines(self) -> Iterator[str]:
        """The queue as JSON lines (see ``queuectl.transfer``): settings, schedules, jobs."""
        from ..transfer import export_lines

        return export_lines(self.storage)

    def import_lines(self, lines: Iterable[str]) -> Imported:
        """Add an export's settings, schedules and jobs, all or nothing."""
        from ..transfer import import_lines

        return import_lines(self.storage, lines)
