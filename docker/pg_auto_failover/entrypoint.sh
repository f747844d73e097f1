#!/bin/bash
# A pg_auto_failover member (docker/compose.ha.yaml): `monitor` or `node` (the default).
# The compose counterpart of bin/stack-ha's pg_up: a monitor and two data nodes in formation
# "default", synchronous replication (replication-quorum true), failover by the monitor.
#
# Environment (set in docker/compose.ha.yaml):
#   PGAF_HOSTNAME        this member's name on the compose network (other members connect to it)
#   PGAF_SUBNET          the compose network: the only source of password connections
#   monitor:  PGAF_MONITOR_PASSWORD (autoctl_node), PGAF_MONITOR_SETTINGS ("name=value ...")
#   node:     PGAF_NODE_NAME, PGAF_MONITOR_URI, PGAF_MONITOR_ADDRESS (its health checks),
#             PGAF_REPLICATION_PASSWORD (pgautofailover_replicator),
#             APP_DB, APP_USER, APP_PASSWORD (created on the first primary)
set -euo pipefail

ROLE=${1:-node}
CONFIG="$XDG_CONFIG_HOME/pg_autoctl$PGDATA/pg_autoctl.cfg"
# Set before the first `pg_autoctl create`, removed once the one-time setup (passwords, the
# application's database) is done: a container stopped in between finishes it on its next start.
SETUP_PENDING="$PGAF_HOME/setup.pending"

say() { echo "pgaf-entrypoint ($ROLE): $*"; }

# A restarted container keeps its /tmp, where pg_autoctl keeps its pid file: a pid file of
# the previous run (its pid may be alive again in the new pid namespace) would stop it.
rm -rf "${XDG_RUNTIME_DIR:-/tmp}/pg_autoctl"

# pg_autoctl's own HBA rules name hosts, which Docker's reverse DNS does not match
# (container.network names): every create uses --skip-pg-hba and the rules are written
# here, by address, on every start.
write_hba() {
    {
        echo "# Written by pgaf-entrypoint.sh on every start (pg_autoctl runs with --skip-pg-hba)."
        echo "# Local socket: pg_autoctl itself and \`docker compose exec\` (this container only)."
        echo "local    all           all                                             trust"
        cat
    } >"$PGDATA/pg_hba.conf"
}

# Run SQL (psql variables -v name=value) against the local server on its socket, then stop
# it: `pg_autoctl run` starts and supervises PostgreSQL itself.
with_local_server() {
    if ! pg_ctl status -D "$PGDATA" >/dev/null 2>&1; then
        pg_ctl start -D "$PGDATA" -w -t 60 -o "-c listen_addresses=''" >/dev/null
    fi
    psql -X -v ON_ERROR_STOP=1 -d postgres "$@"
    pg_ctl stop -D "$PGDATA" -w -m fast >/dev/null
}

monitor() {
    : "${PGAF_MONITOR_PASSWORD:?}" "${PGAF_SUBNET:?}" "${PGAF_HOSTNAME:?}"
    if [ ! -f "$CONFIG" ]; then
        touch "$SETUP_PENDING"
        say "pg_autoctl create monitor ($PGAF_HOSTNAME:5432)"
        pg_autoctl create monitor --pgdata "$PGDATA" --pgport 5432 --hostname "$PGAF_HOSTNAME" \
            --ssl-self-signed --skip-pg-hba
    fi
    write_hba <<HBA
hostssl  pg_auto_failover  autoctl_node  $PGAF_SUBNET  scram-sha-256
HBA
    # The password once: the nodes keep the monitor URI they registered with (rotation:
    # docs/operations.md). The settings on every start (bin/stack-ha's: a dead primary is
    # noticed in seconds, not ~30 s), so that a changed value applies after a restart.
    local sql="" setting
    if [ -f "$SETUP_PENDING" ]; then sql="ALTER ROLE autoctl_node PASSWORD :'password';"$'\n'; fi
    for setting in ${PGAF_MONITOR_SETTINGS:-}; do
        sql+="ALTER SYSTEM SET pgautofailover.${setting%%=*} = '${setting#*=}';"$'\n'
    done
    with_local_server -v password="$PGAF_MONITOR_PASSWORD" <<<"$sql" >/dev/null
    rm -f "$SETUP_PENDING"
    exec pg_autoctl run --pgdata "$PGDATA"
}

# The application's role and database, on the node that initialised the formation (a
# standby gets them by replication). pg_monitor lets the router read pg_stat_wal_receiver.
create_app_database() {
    with_local_server -v user="$APP_USER" -v password="$APP_PASSWORD" -v db="$APP_DB" \
        -v replication_password="$PGAF_REPLICATION_PASSWORD" <<'SQL' >/dev/null
ALTER ROLE pgautofailover_replicator PASSWORD :'replication_password';
SELECT format('CREATE ROLE %I LOGIN IN ROLE pg_monitor', :'user')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0', :'db', :'user')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
}

node() {
    : "${PGAF_NODE_NAME:?}" "${PGAF_HOSTNAME:?}" "${PGAF_MONITOR_URI:?}" "${PGAF_MONITOR_ADDRESS:?}"
    : "${PGAF_SUBNET:?}" "${PGAF_REPLICATION_PASSWORD:?}" "${APP_DB:?}" "${APP_USER:?}" "${APP_PASSWORD:?}"
    if [ ! -f "$CONFIG" ]; then
        touch "$SETUP_PENDING"
        # The monitor decides the role: the first node to register initialises the
        # database (single, then primary); the next one clones it as its synchronous standby.
        say "pg_autoctl create postgres $PGAF_NODE_NAME ($PGAF_HOSTNAME:5432)"
        # PGPASSWORD: a standby's pg_basebackup and first walreceiver, before the config
        # holds the replication password.
        PGPASSWORD="$PGAF_REPLICATION_PASSWORD" pg_autoctl create postgres \
            --pgdata "$PGDATA" --pgport 5432 --listen '*' \
            --hostname "$PGAF_HOSTNAME" --name "$PGAF_NODE_NAME" --formation default \
            --monitor "$PGAF_MONITOR_URI" --ssl-self-signed --skip-pg-hba \
            --replication-quorum true --candidate-priority 50
        # Streaming replication (and pg_rewind of a former primary) authenticate with it.
        pg_autoctl config set --pgdata "$PGDATA" replication.password "$PGAF_REPLICATION_PASSWORD" >/dev/null
        cat >>"$PGDATA/postgresql.conf" <<CONF
# pgaf-entrypoint.sh: as the single-node compose primary and replica
max_connections = 300
wal_keep_size = 2GB
hot_standby_feedback = on
CONF
    fi
    write_hba <<HBA
host     all           pgautofailover_monitor     $PGAF_MONITOR_ADDRESS/32  trust
hostssl  replication   pgautofailover_replicator  $PGAF_SUBNET  scram-sha-256
hostssl  postgres      pgautofailover_replicator  $PGAF_SUBNET  scram-sha-256
hostssl  $APP_DB       $APP_USER                  $PGAF_SUBNET  scram-sha-256
HBA
    if [ -f "$SETUP_PENDING" ]; then
        if [ ! -f "$PGDATA/standby.signal" ]; then create_app_database; fi
        rm -f "$SETUP_PENDING"
    fi
    exec pg_autoctl run --pgdata "$PGDATA"
}

case "$ROLE" in
    monitor) monitor ;;
    node) node ;;
    *) echo "usage: pgaf-entrypoint.sh monitor|node" >&2; exit 2 ;;
esac
