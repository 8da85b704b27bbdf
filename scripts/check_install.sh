#!/usr/bin/env bash
# `pip install .` (not editable) into a fresh virtual environment, then `gridgov demo
# --no-serve` from an empty directory: proves the package carries its data (sample
# district, outlines, console build) and needs no checkout at run time.
#   bash scripts/check_install.sh            # a fully fresh venv (downloads dependencies)
#   bash scripts/check_install.sh --reuse    # venv over this interpreter's packages (fast)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = "--reuse" ]; then
    python3 -m venv --system-site-packages "$work/venv"
    "$work/venv/bin/pip" install --quiet --no-deps "$here"
else
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet "$here"
fi
mkdir "$work/empty"
cd "$work/empty"
installed="$(env -u PYTHONPATH "$work/venv/bin/python" -c 'import gis_core; print(gis_core.__file__)')"
case "$installed" in
    "$work/venv/"*) ;;
    *) echo "gis_core imported from $installed, not the fresh venv" >&2; exit 1 ;;
esac
env -u PYTHONPATH -u GRIDGOV_DATABASE_URL "$work/venv/bin/gridgov" demo --no-serve > demo.log
grep -q "demo API key" demo.log
grep -q "/console/" demo.log
test -f gridgov.sqlite
test "$(stat -c %a gridgov.sqlite)" = 600
# The offline basemap (roads, rivers, place names) travelled with the sample and was loaded.
env -u PYTHONPATH "$work/venv/bin/python" -c "
from gis_core.storage import Store
counts = Store('sqlite:///$work/empty/gridgov.sqlite').basemap_counts()
assert min(counts.get(k, 0) for k in ('roads', 'rivers', 'place_names')) > 0, counts
"
env -u PYTHONPATH "$work/venv/bin/gridgov" locate 117.2950 31.8105 --url "sqlite:///$work/empty/gridgov.sqlite" | grep -q "\"grid\""
echo "check_install: OK (gis_core from $installed; demo ran in an empty directory)"
