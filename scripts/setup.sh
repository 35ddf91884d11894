#!/usr/bin/env bash
# Create ./.venv with groupdrl, all its extras (escnn included) and the docs tools; needs Python >= 3.11,
# no Fortran compiler. The core alone, into an environment of your own: pip install . (README, "Install").
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
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${PIP[@]}" -r scripts/requirements.txt
# groupdrl with every extra; escnn itself without its dependencies: its py3nj compiles Fortran
# (escnn then uses its numerical Clebsch-Gordan solver) and the escnn extra holds the rest
"${PIP[@]}" --no-build-isolation -e ".[escnn,test,h5,docs,sweep]"
"${PIP[@]}" --no-deps escnn==1.0.11
