#!/usr/bin/env bash
# The fault soak (see README.md): the shop under gunicorn with db_worker processes on
# PostgreSQL, notifications from 127.0.0.1 while workers are killed and connections
# dropped, then one table per mode. Exits non-zero when an invariant fails.
#
#   bench/soak/run.sh                       # 2,000 payments, modes "plain" and "raise"
#   SOAK_MODES=plain bench/soak/run.sh --payments 500
#
# Extra arguments go to soak.py (python soak.py --help).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${SOAK_VENV:-.venv}
MODES=${SOAK_MODES:-plain raise}
LIMIT=${SOAK_TIME_LIMIT:-900}  # seconds per mode, whatever happens

# 1. Its own virtualenv: the package (editable) and the soak's tools only.
stamp="$VENV/.installed-$(sha1sum requirements.txt ../../pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    echo "== creating $VENV (first run only)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ../.. -r requirements.txt
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi

# 2. One run per mode; each creates, migrates and drops its own database.
when=$(date +%Y%m%d-%H%M%S)
results="$(cd .. && pwd)/results"
status=0
for mode in $MODES; do
    case "$mode" in
        plain) rate=0 ;;
        raise) rate=0.05 ;;
        *) echo "unknown mode $mode (plain, raise)" >&2; exit 2 ;;
    esac
    echo
    echo "=== mode $mode: transaction_was_successful receiver raises for $rate of calls"
    timeout --signal=TERM --kill-after=30 "$LIMIT" "$VENV/bin/python" soak.py \
        --raise-rate "$rate" --logs "$results/soak-$when-$mode" "$@" || status=1
done
exit $status
