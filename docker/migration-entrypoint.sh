#!/usr/bin/env bash
# Entrypoint of the ncm migration image (docker/Dockerfile.migration).
#
#   migration-entrypoint.sh                  ncm run
#   migration-entrypoint.sh run [options]    ncm run [options]
#   migration-entrypoint.sh COMMAND [...]    ncm COMMAND [...]
#
# 1. DATABASE_URL becomes MIGRATION_DATABASE_URL when that is not set; every
#    other MIGRATION_* variable reaches ncm unchanged (ncm reads them itself).
# 2. TARGET_VERSION adds `--target-version "$TARGET_VERSION"` to `run`, unless the
#    arguments already name one.
# 3. Waits for the database: runs `ncm check` until it exits 0, at most
#    MIGRATION_WAIT_TIMEOUT seconds (default 60; 0 = do not wait), every
#    MIGRATION_WAIT_INTERVAL seconds (default 2). It retries only while the check
#    says the database cannot be reached (exit 4) or does not answer in time;
#    any other failure (a bad URL, a missing plugin: waiting cannot mend those)
#    stops at once. On giving up it prints one line and exits with the last exit
#    code of `ncm check`. Commands that do not use the database (init, create,
#    hash, completion, plugins, check, wait (which waits itself), --help,
#    --version) do not wait.
# 4. exec's ncm, so signals reach it and its exit code is the container's.
#
# NCM_BIN names the ncm executable (default: ncm). This script never prints the
# database URL: it may hold a password.
set -euo pipefail

NCM_BIN="${NCM_BIN:-ncm}"
WAIT_TIMEOUT="${MIGRATION_WAIT_TIMEOUT:-60}"
WAIT_INTERVAL="${MIGRATION_WAIT_INTERVAL:-2}"
readonly UNREACHABLE=4 # ncm's exit code for "the database cannot be reached"

say() { printf 'migration-entrypoint: %s\n' "$*" >&2; }

for setting in "MIGRATION_WAIT_TIMEOUT=$WAIT_TIMEOUT" "MIGRATION_WAIT_INTERVAL=$WAIT_INTERVAL"; do
    if ! [[ "${setting#*=}" =~ ^[0-9]+$ ]]; then
        say "$setting is not a whole number of seconds"
        exit 2
    fi
done
if ((WAIT_INTERVAL == 0)); then
    WAIT_INTERVAL=1
fi

if ! command -v "$NCM_BIN" >/dev/null 2>&1; then
    say "'$NCM_BIN' not found (NCM_BIN)"
    exit 127
fi

if [[ -z "${MIGRATION_DATABASE_URL:-}" && -n "${DATABASE_URL:-}" ]]; then
    export MIGRATION_DATABASE_URL="$DATABASE_URL"
fi

if (($# == 0)); then
    set -- run
fi

if [[ "$1" == run && -n "${TARGET_VERSION:-}" ]]; then
    has_target=false
    for arg in "${@:2}"; do
        case "$arg" in
            --) break ;;
            --target-version | --target-version=*) has_target=true ;;
        esac
    done
    if ! "$has_target"; then
        set -- "$@" --target-version "$TARGET_VERSION"
    fi
fi

needs_database() {
    case "$1" in
        init | create | hash | completion | plugins | check | wait | help | -h | --help | --version) return 1 ;;
        *) return 0 ;;
    esac
}

# Runs `ncm check` until it succeeds or the time is up; returns its last exit code.
# Each attempt is itself cut off at the deadline, so a check that hangs cannot
# stretch the wait. Its output is shown when it changes, not on every attempt.
wait_for_database() {
    local deadline=$((SECONDS + WAIT_TIMEOUT)) remaining output rc last_output=""
    while :; do
        remaining=$((deadline - SECONDS))
        ((remaining > 0)) || remaining=1
        rc=0
        output="$(timeout --kill-after=5 "$remaining" "$NCM_BIN" check 2>&1)" || rc=$?
        if ((rc == 0)); then
            [[ -z "$output" ]] || printf '%s\n' "$output" >&2
            return 0
        fi
        if ((rc == 124 || rc == 137)); then
            output="ncm check did not answer within ${remaining}s"
        fi
        if [[ -n "$output" && "$output" != "$last_output" ]]; then
            printf '%s\n' "$output" >&2
            last_output="$output"
        fi
        if ((rc != UNREACHABLE && rc != 124 && rc != 137)); then
            say "ncm check failed (exit code $rc); not waiting for the database"
            return "$rc"
        fi
        remaining=$((deadline - SECONDS))
        if ((remaining <= 0)); then
            say "database not reachable within ${WAIT_TIMEOUT}s; giving up"
            return "$UNREACHABLE"
        fi
        sleep "$((remaining < WAIT_INTERVAL ? remaining : WAIT_INTERVAL))"
    done
}

if ((WAIT_TIMEOUT > 0)) && needs_database "$1"; then
    rc=0
    wait_for_database || rc=$?
    if ((rc != 0)); then
        exit "$rc"
    fi
fi

exec "$NCM_BIN" "$@"
