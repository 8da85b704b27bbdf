#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, then lint + pytest.
# Storage tests run on SQLite and on a real PostGIS; console tests drive a real headless
# Chromium (Debian's package, driven by Playwright's Python package).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
bash scripts/install_postgis.sh
# Chromium, and a CJK font so screenshots and browser tests see real glyphs (not boxes).
if [ ! -x /usr/bin/chromium ] || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    echo "[test.sh] installing chromium and CJK fonts (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei fontconfig >/dev/null
fi
# Device-ingest tests need an MQTT broker on 127.0.0.1:1883 (and mosquitto for private ones).
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
    echo "[test.sh] installing mosquitto (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq mosquitto mosquitto-clients >/dev/null
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "[test.sh] starting mosquitto on 127.0.0.1:1883"
    "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -p 1883
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi
# WeasyPrint (area reports as PDF) needs Pango and HarfBuzz's subsetter from Debian.
if ! ldconfig -p | grep -q libpangoft2-1.0 || ! ldconfig -p | grep -q libharfbuzz-subset; then
    echo "[test.sh] installing pango and harfbuzz-subset (WeasyPrint's PDF rendering)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
        libharfbuzz-subset0 >/dev/null
fi
if ! command -v ogr2ogr >/dev/null; then
    echo "[test.sh] installing gdal-bin (ogr2ogr/ogrinfo: the real GIS client of the OGC tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq gdal-bin >/dev/null
fi
export GRIDGOV_REQUIRE_BROWSER=1  # a missing browser fails the console tests, never skips
python3 -m ruff check .
# Two processes, whole files each (module fixtures such as seeded stores and servers are
# built once per file), longest files first (tests/scheduling.py). A third process on two
# cores made the run slower (21 vs 18 min). GRIDGOV_TEST_WORKERS=0: all in this process.
python3 -m pytest -n "${GRIDGOV_TEST_WORKERS:-2}" --dist loadfile "$@"
