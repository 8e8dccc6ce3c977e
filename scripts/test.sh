#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, types, tests.
# Optional extras the tests need, comma-separated (e.g. EXTRAS=web,postgres).
export EXTRAS=${EXTRAS:-web,postgres}
source "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser build).
# Installing it needs root and apt-get; without it the tests say in one line that the browser
# tests were left out and why (tests/browser_plugin.py), except under CI=true, where they fail.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing Debian's chromium for the browser tests (apt-get install chromium, ~110 packages)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
            >/dev/null || echo "== could not install chromium (see above); going on without it"
    fi
fi
# The PostgreSQL tests put a private PgBouncer in front of it, and skew a worker's clock with
# libfaketime: both Debian's packages.
if { [ ! -x /usr/sbin/pgbouncer ] || [ ! -x /usr/bin/faketime ]; } && [ "$(id -u)" = 0 ] \
        && command -v apt-get >/dev/null; then
    echo "== installing Debian's pgbouncer and faketime for the PostgreSQL tests"
    { apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer faketime; } \
        >/dev/null || echo "== could not install pgbouncer and faketime; going on without them"
fi
# The PostgreSQL tests use the local server: start it if it is down (under CI=true they fail,
# rather than skip, when it cannot be reached).
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
fi
echo "== ruff"; ruff check src tests bench
echo "== mypy"; mypy
# pytest runs the tests in two processes (pytest-xdist): a test mostly waits on the processes it
# started (the CLI, workers, servers), so two keep both cores busy. The tests of one xdist_group
# run in one process, one after another (--dist loadgroup). TEST_PROCESSES=0 (or -n 0 among the
# arguments) runs them all in this one process, as --pdb needs.
echo "== pytest"; exec python -m pytest -n "${TEST_PROCESSES:-2}" --dist loadgroup "$@"
