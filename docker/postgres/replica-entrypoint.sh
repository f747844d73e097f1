#!/bin/bash
# Entrypoint of a streaming replica (official postgres image). On first start, with an
# empty data directory, it clones the primary with pg_basebackup -R (which writes
# standby.signal and primary_conninfo), then hands over to the image's own entrypoint,
# which finds an initialised data directory and starts the server as a hot standby.
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${PRIMARY_HOST:?PRIMARY_HOST is required}"
: "${PRIMARY_PORT:=5432}"
: "${POSTGRES_REPLICATION_USER:=replicator}"
: "${POSTGRES_REPLICATION_PASSWORD:?POSTGRES_REPLICATION_PASSWORD is required}"
: "${REPLICATION_SLOT:=}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "replica: waiting for the primary at ${PRIMARY_HOST}:${PRIMARY_PORT}"
  until pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -q; do sleep 1; done

  mkdir -p "$PGDATA"
  # A half-finished clone from an interrupted first start is discarded.
  find "$PGDATA" -mindepth 1 -delete
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"

  slot_args=()
  if [ -n "$REPLICATION_SLOT" ]; then
    # A physical slot keeps the WAL this replica still needs on the primary.
    slot_args=(--slot="$REPLICATION_SLOT" --create-slot)
  fi
  echo "replica: cloning the primary with pg_basebackup"
  PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" gosu postgres pg_basebackup \
    --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --username="$POSTGRES_REPLICATION_USER" \
    --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf --checkpoint=fast --progress \
    "${slot_args[@]}"
  echo "replica: clone complete"
fi

exec docker-entrypoint.sh "$@"
