#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, types, tests.
# Optional extras the tests need, comma-separated (e.g. EXTRAS=web,postgres).
export EXTRAS=${EXTRAS:-web,postgres}
source "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser build).
command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
# The PostgreSQL tests use the local server: start it if it is down (under CI=true they fail,
# rather than skip, when it cannot be reached).
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
fi
echo "== ruff"; ruff check src tests bench
echo "== mypy"; mypy
echo "== pytest"; exec python -m pytest "$@"
