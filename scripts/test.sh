#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, types, tests.
# Optional extras the tests need, comma-separated (e.g. EXTRAS=web,postgres).
export EXTRAS=${EXTRAS:-web}
source "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser build).
command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
echo "== ruff"; ruff check src tests bench
echo "== mypy"; mypy
echo "== pytest"; exec python -m pytest "$@"
