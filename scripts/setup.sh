#!/usr/bin/env bash
# Create ./.venv and install groupdrl into it; needs Python >= 3.11, no Fortran compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps escnn==1.0.11
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
