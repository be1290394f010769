#!/usr/bin/env bash
# Makes sure the database servers the tests use are up on this machine, idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian tools the tests call: linters of the Docker checks, client tools of the backups and of
# the piped dry runs and offline scripts.
missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v pg_dump >/dev/null || missing+=(postgresql-client)
command -v mariadb-dump >/dev/null || missing+=(mariadb-client)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v zsh >/dev/null || missing+=(zsh)      # the completion tests load ncm's zsh and fish scripts
command -v fish >/dev/null || missing+=(fish)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
# Members of ncm_password_test must give their password even though 127.0.0.1 is trusted, so
# that the wrong-password and special-character-password tests mean something.
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'ncm_password_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE ROLE ncm_password_test NOLOGIN" >/dev/null
hba="$(psql -h 127.0.0.1 -U postgres -tAc "SHOW hba_file")"
if ! grep -q '+ncm_password_test' "$hba"; then
  sed -i '0,/^\(local\|host\)/s//host all +ncm_password_test 127.0.0.1\/32 scram-sha-256\n&/' "$hba"
  psql -h 127.0.0.1 -U postgres -c "SELECT pg_reload_conf()" >/dev/null
fi

if ! mariadb -h 127.0.0.1 -u root -e "SELECT 1" >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 30); do mariadb -h 127.0.0.1 -u root -e "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS test" \
  || { echo "MariaDB is not answering on 127.0.0.1:3306" >&2; exit 1; }

# MongoDB from a PyPI wheel, installed into a virtualenv of its own: a replica set on 27017
# and a standalone server on 27018 (the non-transactional path).
[ -x .tools/bin/python ] || python3 -m venv .tools
PYTHON="$PWD/.tools/bin/python" bash scripts/mongodb-server.sh --standalone >/dev/null
