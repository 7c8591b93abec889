#!/usr/bin/env bash
# Build the sdist and wheel, check them with twine, install the wheel into a fresh
# virtualenv outside the source tree and smoke-test it there.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$(pwd)
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install -q --upgrade pip build twine
"$work/tools/bin/python" -m build --outdir "$work/dist" "$source_dir" >/dev/null
"$work/tools/bin/twine" check --strict "$work"/dist/*
ls -l "$work"/dist

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$work"/dist/*.whl
cd "$work"
"$work/venv/bin/billing" --help >/dev/null
"$work/venv/bin/python" "$source_dir/.ci/wheel_smoke.py"
