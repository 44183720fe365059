#!/usr/bin/env bash
# Starts a local PostgreSQL (Debian's `postgresql`, installed when missing) for the PostgreSQL
# store's tests, with a `sluice` role and a `sluice_test` database, and prints the URL to give the
# tests as SLUICE_TEST_POSTGRES_URL. Needs root (or sudo). Safe to run again.
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if ! dpkg -s postgresql >/dev/null 2>&1; then
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql >&2
fi
read -r version cluster _ < <(pg_lsclusters -h | head -n 1)
$sudo pg_ctlcluster "$version" "$cluster" start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432 >&2
as_postgres() { $sudo su postgres -c "$1"; }
as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'sluice'\"" | grep -q 1 \
  || as_postgres "psql -qc \"CREATE ROLE sluice LOGIN PASSWORD 'sluice'\"" >&2
as_postgres "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'sluice_test'\"" | grep -q 1 \
  || as_postgres "psql -qc \"CREATE DATABASE sluice_test OWNER sluice\"" >&2
echo "postgres://sluice:sluice@127.0.0.1:5432/sluice_test"
