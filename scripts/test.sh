#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, then lint + pytest.
# Storage tests run on SQLite and on a real PostGIS; console tests drive a real headless
# Chromium (Debian's package, driven by Playwright's Python package).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
# Debian packages the tests need, each group only when missing; all of them in ONE
# apt-get install. apt-get update runs only when a package has no install candidate (a
# fresh image without lists) or the install fails on stale lists, and at most once: on a
# clean CI machine every update was ~10-30 s, and there used to be one per group.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep 'install ok installed' >/dev/null; }
# grep reads all: with pipefail, grep -q's early exit fails apt-cache on SIGPIPE (141)
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -E 'Candidate: [^(]' >/dev/null; }
missing=()
want() { # want REASON PACKAGE...: the packages not installed yet
    local pkg added=0
    for pkg in "${@:2}"; do
        installed "$pkg" || { missing+=("$pkg"); added=1; }
    done
    [ "$added" -eq 0 ] || echo "[test.sh] to install: $1"
}
# Chromium, and a CJK font so screenshots and browser tests see real glyphs (not boxes).
if [ ! -x /usr/bin/chromium ] || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    want "chromium and CJK fonts" chromium fonts-wqy-microhei fontconfig
fi
# Device-ingest tests need an MQTT broker on 127.0.0.1:1883 (and mosquitto for private ones).
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
    want "mosquitto" mosquitto mosquitto-clients
fi
# WeasyPrint (area reports as PDF) needs Pango and HarfBuzz's subsetter from Debian.
if ! ldconfig -p | grep -q libpangoft2-1.0 || ! ldconfig -p | grep -q libharfbuzz-subset; then
    want "pango and harfbuzz-subset (WeasyPrint's PDF rendering)" \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
fi
if ! command -v ogr2ogr >/dev/null; then
    want "gdal-bin (ogr2ogr/ogrinfo: the real GIS client of the OGC tests)" gdal-bin
fi
export GRIDGOV_APT_UPDATED=0 # install_postgis.sh below: no second update after ours
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    for pkg in "${missing[@]}"; do
        if ! has_candidate "$pkg"; then
            apt-get update -qq
            GRIDGOV_APT_UPDATED=1
            break
        fi
    done
    echo "[test.sh] apt-get install ${missing[*]}"
    if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
        [ "$GRIDGOV_APT_UPDATED" -eq 0 ] || exit 1
        apt-get update -qq # stale lists: refresh once and retry
        GRIDGOV_APT_UPDATED=1
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi
bash scripts/install_postgis.sh
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "[test.sh] starting mosquitto on 127.0.0.1:1883"
    "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -p 1883
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi
export GRIDGOV_REQUIRE_BROWSER=1  # a missing browser fails the console tests, never skips
python3 -m ruff check .
# Two processes, whole files each (module fixtures such as seeded stores and servers are
# built once per file), longest files first (tests/scheduling.py). A third process on two
# cores made the run slower (21 vs 18 min). GRIDGOV_TEST_WORKERS=0: all in this process.
python3 -m pytest -n "${GRIDGOV_TEST_WORKERS:-2}" --dist loadfile "$@"
