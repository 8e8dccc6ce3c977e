#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, types, tests.
source "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
echo "== ruff"; ruff check src tests bench
echo "== mypy"; mypy
echo "== pytest"; exec python -m pytest "$@"
