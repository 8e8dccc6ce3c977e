# Sourced by demo.sh and test.sh: a virtual environment in .venv with queuectl installed
# (editable) with the dev extra and the extras named in $EXTRAS (comma-separated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# .venv/.installed names the extras installed last. Whatever ran first (the demo needs only
# dev, the tests need web and postgres too), the next script installs what it lacks, keeping
# what is there: either script works first, second or again.
requested=${EXTRAS:-}
wanted=$(printf '%s\n' dev ${requested//,/ } | sort -u)
installed=$(cat .venv/.installed 2>/dev/null || true)
missing=$(comm -23 <(echo "$wanted") <(echo "$installed" | sort -u))
if [ -n "$missing" ] || [ pyproject.toml -nt .venv/.installed ] \
   || ! .venv/bin/python -c 'import queuectl, pytest, ruff, mypy' 2>/dev/null; then
    extras=$(printf '%s\n' $wanted $installed | sort -u | grep . | paste -sd, -)
    echo "== installing queuectl[$extras] into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
    echo "${extras//,/$'\n'}" > .venv/.installed
fi
export PATH="$PWD/.venv/bin:$PATH"
# The tests start the CLI hundreds of times: let Python keep its bytecode (some shells turn
# that off), or every start compiles every module it imports again.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/python -m compileall -q src >/dev/null
