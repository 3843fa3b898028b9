#!/usr/bin/env bash
# selfcheck.sh — set up both SD-JWT VC implementations (if needed) and run selfcheck.py.
#
# Usage: bash tests/attest/selfcheck.sh
#   ATTEST_VENV=DIR  venv to use/create (default tests/attest/.venv, git-ignored)
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/@sd-jwt/sd-jwt-vc ] || npm ci --no-audit --no-fund
VENV="${ATTEST_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r requirements.txt
fi
exec "$VENV/bin/python" selfcheck.py
