#!/usr/bin/env bash
# Makes sure the database servers the tests use are up on this machine, idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null

if ! mariadb -h 127.0.0.1 -u root -e "SELECT 1" >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 30); do mariadb -h 127.0.0.1 -u root -e "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS test" \
  || { echo "MariaDB is not answering on 127.0.0.1:3306" >&2; exit 1; }

if [ -f scripts/mongodb-server.sh ]; then
  bash scripts/mongodb-server.sh
fi
