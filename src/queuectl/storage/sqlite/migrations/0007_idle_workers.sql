-- Targeted wake-ups: a worker whose claim came up short is listed with how many jobs it
-- would take; an enqueue wakes only as many of this host's idle workers as its jobs need
-- (the SQLite driver picks them in the enqueue's transaction: writers take turns, so a
-- worker listed after it claims after it too).
CREATE TABLE idle_workers (
    worker_id  TEXT PRIMARY KEY,
    free       INTEGER NOT NULL,
    since      REAL NOT NULL
) WITHOUT ROWID;
