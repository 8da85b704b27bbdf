#!/usr/bin/env bash
# PostgreSQL + PostGIS for gridgov's storage tests and local use (Debian/Ubuntu).
#
# Idempotent: every step checks first and does nothing when already done.
#   1. no server answering on 127.0.0.1:$PG_PORT -> install postgresql-$PG_MAJOR, create
#      the cluster if needed and start it (pg_ctlcluster --skip-systemctl-redirect: works
#      in containers without systemd);
#   2. `postgis` not in pg_available_extensions -> install postgresql-<server major>-postgis-3;
#   3. check that CREATE EXTENSION postgis works (in a scratch database, dropped again).
# apt-get update runs only when a package has no install candidate (fresh image) or an
# install fails on stale lists, and never twice: GRIDGOV_APT_UPDATED=1 (scripts/test.sh sets
# it after its own update) says the lists were refreshed a moment ago.
#
# A cluster this script creates or starts for the first time is a throwaway dev/CI server:
# it gets `trust` for TCP from loopback, so the tests' default URL
# postgresql+psycopg://postgres@127.0.0.1:5432/postgres works without a password.
# Set GRIDGOV_PG_TRUST_LOCAL=0 to keep the packaged (password) authentication. An
# already running server's authentication is never changed.
#
# Environment: PG_MAJOR (default 15), PG_CLUSTER (main), PG_PORT (5432), GRIDGOV_APT_UPDATED.
# Run as root (CI) or as a user with sudo.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_PORT="${PG_PORT:-5432}"
TRUST_LOCAL="${GRIDGOV_PG_TRUST_LOCAL:-1}"
HOST=127.0.0.1
MARKER="# gridgov install_postgis.sh: trust TCP from loopback (dev/CI cluster)"

log() { printf '[install_postgis] %s\n' "$*"; }
die() {
    printf '[install_postgis] error: %s\n' "$*" >&2
    exit 1
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "run as root, or install sudo"
    SUDO=(sudo)
fi

# -- apt ------------------------------------------------------------------------------------

APT_UPDATED="${GRIDGOV_APT_UPDATED:-0}"
apt_update() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${SUDO[@]}" apt-get update -q
        APT_UPDATED=1
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep 'install ok installed' >/dev/null; }

# grep reads all: with pipefail, grep -q's early exit fails apt-cache on SIGPIPE (141)
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -E 'Candidate: [^(]' >/dev/null; }

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        installed "$pkg" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    for pkg in "${missing[@]}"; do
        has_candidate "$pkg" || apt_update
    done
    log "apt-get install ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q \
        --no-install-recommends "${missing[@]}"; then
        [ "$APT_UPDATED" -eq 0 ] || die "apt-get install ${missing[*]} failed"
        apt_update # stale package lists: refresh once and retry
        DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q \
            --no-install-recommends "${missing[@]}"
    fi
}

# -- server ---------------------------------------------------------------------------------

server_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$HOST" -p "$PG_PORT" -U postgres
    else
        (exec 3<>"/dev/tcp/$HOST/$PG_PORT") 2>/dev/null
    fi
}

# psql as the postgres OS user over the Unix socket (peer auth, whatever pg_hba says for
# TCP); falls back to TCP as user postgres for servers that are not local clusters.
# Usage: pg_psql DATABASE -c SQL [-c SQL ...]
pg_psql() {
    local db="$1"
    shift
    if id postgres >/dev/null 2>&1 && [ -S "/var/run/postgresql/.s.PGSQL.$PG_PORT" ]; then
        local runas=(sudo -u postgres)
        [ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
        "${runas[@]}" psql -X -q -tA -v ON_ERROR_STOP=1 -p "$PG_PORT" -d "$db" "$@"
    else
        psql -X -q -tA -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres -d "$db" "$@"
    fi
}

sql() { pg_psql postgres -c "$1"; }

cluster_field() { pg_lsclusters -h 2>/dev/null | awk -v v="$1" -v c="$2" -v f="$3" '$1 == v && $2 == c {print $f}'; }
cluster_exists() { [ -n "$(cluster_field "$1" "$2" 1)" ]; }
cluster_status() { cluster_field "$1" "$2" 4; }

trust_loopback() {
    local hba="/etc/postgresql/$1/$2/pg_hba.conf"
    [ -f "$hba" ] || return 0
    if "${SUDO[@]}" grep -qF "$MARKER" "$hba"; then
        return 0
    fi
    log "trusting TCP from loopback in $hba (dev/CI cluster; GRIDGOV_PG_TRUST_LOCAL=0 to skip)"
    local tmp
    tmp="$(mktemp)"
    {
        echo "$MARKER"
        echo "host    all    all    127.0.0.1/32    trust"
        echo "host    all    all    ::1/128         trust"
        "${SUDO[@]}" cat "$hba"
    } >"$tmp"
    "${SUDO[@]}" install -m 640 -o postgres -g postgres "$tmp" "$hba"
    rm -f "$tmp"
    if [ "$(cluster_status "$1" "$2")" = online ]; then
        "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload
    fi
}

FRESH=0
if server_up; then
    log "a server answers on $HOST:$PG_PORT; leaving it as it is"
else
    if ! installed "postgresql-$PG_MAJOR"; then
        apt_install "postgresql-$PG_MAJOR"
        FRESH=1
    fi
    if ! cluster_exists "$PG_MAJOR" "$PG_CLUSTER"; then
        log "creating cluster $PG_MAJOR/$PG_CLUSTER on port $PG_PORT"
        "${SUDO[@]}" pg_createcluster --port "$PG_PORT" "$PG_MAJOR" "$PG_CLUSTER"
        FRESH=1
    fi
    port="$(cluster_field "$PG_MAJOR" "$PG_CLUSTER" 3)"
    [ "$port" = "$PG_PORT" ] || die "cluster $PG_MAJOR/$PG_CLUSTER is configured for port $port, not $PG_PORT"
    if [ "$FRESH" -eq 1 ] && [ "$TRUST_LOCAL" != "0" ]; then
        trust_loopback "$PG_MAJOR" "$PG_CLUSTER"
    fi
    if [ "$(cluster_status "$PG_MAJOR" "$PG_CLUSTER")" != online ]; then
        log "starting cluster $PG_MAJOR/$PG_CLUSTER"
        "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$PG_CLUSTER" start
    fi
    for _ in $(seq 1 30); do
        server_up && break
        sleep 1
    done
    server_up || die "PostgreSQL $PG_MAJOR/$PG_CLUSTER did not start; see /var/log/postgresql/"
fi

# -- PostGIS --------------------------------------------------------------------------------

command -v psql >/dev/null 2>&1 || apt_install postgresql-client

server_major="$(sql 'SHOW server_version_num')"
server_major="$((server_major / 10000))"
available() { [ "$(sql "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")" -ge 1 ]; }

if available; then
    log "PostGIS is available on PostgreSQL $server_major"
else
    [ -d "/usr/lib/postgresql/$server_major" ] ||
        die "the server on $HOST:$PG_PORT is not a local Debian cluster: install PostGIS there"
    apt_install "postgresql-$server_major-postgis-3"
    available || die "postgresql-$server_major-postgis-3 installed but postgis is not available"
    log "installed PostGIS for PostgreSQL $server_major"
fi

check_db="gridgov_postgis_check_$$"
sql "CREATE DATABASE $check_db" >/dev/null
status=0
version="$(pg_psql "$check_db" -c "CREATE EXTENSION postgis" -c "SELECT postgis_lib_version()")" ||
    status=$?
sql "DROP DATABASE $check_db" >/dev/null
[ "$status" -eq 0 ] || die "CREATE EXTENSION postgis failed"
log "CREATE EXTENSION postgis works (PostGIS $version)"

if psql -X -q -tA -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -w -c 'SELECT 1' >/dev/null 2>&1; then
    log "ready: postgresql+psycopg://postgres@$HOST:$PG_PORT/postgres"
else
    log "note: postgres@$HOST:$PG_PORT needs a password; give the tests one with"
    log "      GRIDGOV_TEST_PG_URL=postgresql+psycopg://postgres:PASSWORD@$HOST:$PG_PORT/postgres"
fi
