from __future__ import annotations

from pathlib import Path


def processes_of_run(job_id: str, run: int) -> list[int]:
    """Live processes of one run of a job (they carry it in their environment)."""
    wanted = {f"QUEUECTL_JOB_ID={job_id}".encode(), f"QUEUECTL_ATTEMPT={run}".encode()}
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = set((entry / "environ").read_bytes().split(b"\0"))
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if wanted <= environ and state != "Z":
                found.append(int(entry.name))
    return found
