# Sourced by demo.sh and test.sh: a virtual environment in .venv with queuectl installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import queuectl, pytest, ruff, mypy' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev${EXTRAS:+,$EXTRAS}]"
    touch .venv/.installed
fi
export PATH="$PWD/.venv/bin:$PATH"
# The tests start the CLI hundreds of times: let Python keep its bytecode (some shells turn
# that off), or every start compiles every module it imports again.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/python -m compileall -q src >/dev/null
