#!/usr/bin/env bash
# Create ./.venv and install groupdrl into it; needs Python >= 3.11, no Fortran compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv; then
    rm -rf .venv
    # Debian/Ubuntu ship venv separately; install it when we may, else say what is missing
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq "python3-venv" && "$PY" -m venv .venv
    else
      echo "setup.sh: '$PY -m venv' failed; install your distribution's venv package (e.g. python3-venv)" >&2
      exit 1
    fi
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps escnn==1.0.11
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
