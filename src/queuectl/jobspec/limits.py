"""The bounds of every value a job or a setting can hold, with the reason for each.

A value past its bound is refused at the door (enqueue, ``config set``, import), so nothing
stored can break the worker that runs it or the command that lists it.

    value                       bound                   why
    timeout, job_timeout,       24 days (2,073,600 s)   the runner's waits go through poll(2),
      kill_grace, lease,                                whose longest wait is 2^31 ms (24.8 d)
      poll_interval
    delay, backoff_max,         100 years               far enough; keeps run_at in range
      retention
    run_at                      years 1-9999, UTC       what every datetime library can print
    max_retries                 0 - 1,000,000,000       PostgreSQL int4 (attempts counts to it)
    priority                    -2^31 - 2^31-1          PostgreSQL int4
    output_limit                256 MiB                 a worker holds an attempt's output in
                                                        memory before it stores it
    command                     128 KiB - 1 (UTF-8)     the kernel's limit on one argument of
                                                        exec (MAX_ARG_STRLEN)
    one env entry KEY=VALUE     128 KiB - 1 (UTF-8)     the same limit, for each variable
    env, all entries            1 MiB, 1,000 entries    ARG_MAX (2 MiB) covers the command,
                                                        the job's and the worker's variables
    cwd                         4,095 bytes (UTF-8)     PATH_MAX
    one JSON job (a line)       4 Mi characters         what the fields above can need; no
                                                        field nests more than 2 deep, and
                                                        deeper JSON is refused as such
    jobs in one enqueue         1,000,000               one transaction, held in memory
"""

from __future__ import annotations

DAY = 86400.0
MAX_WAIT_SECONDS = 24 * DAY
MAX_DELAY_SECONDS = 100 * 365 * DAY
# 9999-12-31T23:59:59.999Z: the last instant datetime (and most tools) can show.
LATEST_TIME = 253402300799.999
# 0001-01-01T00:00:00Z: the first.
EARLIEST_TIME = -62135596800.0
MAX_RETRIES = 1_000_000_000
PRIORITY_MIN, PRIORITY_MAX = -(2**31), 2**31 - 1
MAX_OUTPUT_LIMIT = 256 * 1024 * 1024
MAX_ARGUMENT_BYTES = 128 * 1024 - 1
MAX_ENV_BYTES = 1024 * 1024
MAX_ENV_ENTRIES = 1000
MAX_PATH_BYTES = 4095
MAX_LINE_CHARACTERS = 4 * 1024 * 1024
MAX_BATCH_JOBS = 1_000_000
# Jobs of one queue that may run at once across all workers (queue limit, export files).
MAX_QUEUE_LIMIT = 1_000_000
MAX_ID_LENGTH = 128
MAX_QUEUE_NAME_LENGTH = 64
MAX_TAG_LENGTH = 64
MAX_TAGS = 32
MAX_UNIQUE_KEY_LENGTH = 256
MAX_DEPENDENCIES = 1000
MAX_EXIT_CODE = 255
MAX_URL_LENGTH = 2048  # a webhook's URL
MAX_LISTED = 10**9  # jobs a read lists, skips or looks at: SQLite's integers stop at 2**63
