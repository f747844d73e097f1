#!/bin/bash
# Runs once, when the official postgres image initialises an empty primary
# (/docker-entrypoint-initdb.d/): a role for streaming replication and its pg_hba line.
set -euo pipefail

: "${POSTGRES_REPLICATION_USER:=replicator}"
: "${POSTGRES_REPLICATION_PASSWORD:?POSTGRES_REPLICATION_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v user="$POSTGRES_REPLICATION_USER" -v password="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL

# Replicas connect from the compose network; the official image's default pg_hba.conf
# has no `replication` line for remote hosts.
echo "host replication ${POSTGRES_REPLICATION_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
