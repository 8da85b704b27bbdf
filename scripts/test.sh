#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, then lint + pytest.
# PostGIS is installed (Debian packages) when missing, because storage tests run on both
# SQLite and PostGIS for real.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
bash scripts/install_postgis.sh
python3 -m ruff check .
python3 -m pytest "$@"
