#!/usr/bin/env bash
# The notify benchmark (see bench/README.md): gunicorn + PostgreSQL + wrk on 127.0.0.1,
# one table of rows measured in this run, then the render_integration timing.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${BENCH_VENV:-.venv}
export BENCH_DB_NAME=${BENCH_DB_NAME:-bench}
export BENCH_DB_HOST=${BENCH_DB_HOST:-127.0.0.1}
export BENCH_DB_PORT=${BENCH_DB_PORT:-5432}
export BENCH_DB_USER=${BENCH_DB_USER:-postgres}

# 1. Its own virtualenv: the package (editable) and the tools of the benchmark only.
stamp="$VENV/.installed-$(sha1sum requirements.txt ../pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    echo "== creating $VENV (first run only)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e .. -r requirements.txt
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi

# 2. The load generator.
if ! command -v wrk >/dev/null; then
    echo "== installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

# 3. The database: created if missing, migrated.
"$VENV/bin/python" - <<'PY'
import os
import psycopg
name = os.environ["BENCH_DB_NAME"]
with psycopg.connect(host=os.environ["BENCH_DB_HOST"], port=os.environ["BENCH_DB_PORT"],
                     user=os.environ["BENCH_DB_USER"], dbname="postgres", autocommit=True) as c:
    if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        c.execute(f'CREATE DATABASE "{name}"')
PY
"$VENV/bin/python" manage.py migrate -v0

mkdir -p results
# 4. The rows (bounded: about 7 x 20 s, the drain, gunicorn restarts), then the renders.
timeout --signal=INT 600 "$VENV/bin/python" bench.py
echo
timeout --signal=INT 120 "$VENV/bin/python" render.py "${BENCH_RENDERS:-1000}"
