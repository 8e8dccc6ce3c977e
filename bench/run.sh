#!/usr/bin/env bash
# The benchmark suite in one command:
#
#   bash bench/run.sh            # the full run (about 15 minutes): results.json, chart.png, RESULTS.md
#   bash bench/run.sh --smoke    # tiny sizes, one run, seconds: checks that the suite still works
#
# It sets up bench/.venv (queuectl installed editable, plus the peers from bench/requirements.txt),
# installs task-spooler (tsp) from Debian when missing, starts Redis on 127.0.0.1:6379 when it is
# down, and runs bench/run.py with the arguments given (see `bash bench/run.sh --help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=bench/.venv
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ] \
   || [ bench/requirements.txt -nt "$VENV/.installed" ]; then
    echo "setting up $VENV (log: $VENV/pip.log)" >&2
    if ! { "$VENV/bin/python" -m pip install --upgrade pip \
           && "$VENV/bin/python" -m pip install -e ".[postgres]" -r bench/requirements.txt; } \
         >"$VENV/pip.log" 2>&1; then
        tail -20 "$VENV/pip.log" >&2
        exit 1
    fi
    touch "$VENV/.installed"
fi

if ! command -v tsp >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq task-spooler >/dev/null \
            || echo "warning: could not install task-spooler; tsp is left out" >&2
    else
        echo "warning: tsp is missing (apt-get install task-spooler as root); tsp is left out" >&2
    fi
fi

if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
        sleep 0.1
    done
fi

unset PYTHONDONTWRITEBYTECODE  # see run.py: cold start must not measure the bytecode compiler
exec "$VENV/bin/python" bench/run.py "$@"
