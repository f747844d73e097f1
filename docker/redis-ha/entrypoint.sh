#!/bin/sh
# The durable Redis under Sentinel (docker/compose.ha.yaml): `data` (a master or a
# replica) or `sentinel`. The compose counterpart of bin/stack-ha's sentinel_up.
#
# The config file is written once, on the volume: Redis and Sentinel rewrite it as roles
# change (a promoted replica drops `replicaof`, sentinels record the new master), and a
# restarted container must come back in its current role, not the one it started with.
#
# Environment (set in docker/compose.ha.yaml):
#   REDIS_ANNOUNCE_HOSTNAME   this container's name on the compose network
#   data:      REDIS_REPLICA_OF (host of the first master; empty on the first master)
#   sentinel:  SENTINEL_MASTER, SENTINEL_MASTER_HOST, SENTINEL_QUORUM,
#              SENTINEL_DOWN_AFTER_MS, SENTINEL_FAILOVER_TIMEOUT_MS
set -eu

ROLE=${1:?usage: redis-ha-entrypoint.sh data|sentinel}
: "${REDIS_ANNOUNCE_HOSTNAME:?}"

# Containers get a new address when recreated: replicas and sentinels are known by name.
case "$ROLE" in
    data)
        CONF=/data/redis.conf
        if [ ! -f "$CONF" ]; then
            cat >"$CONF" <<CONF
port 6379
dir /data
# Reached over the compose network only (no published port), like compose.yaml's redis-broker.
protected-mode no
# Celery broker, counter deltas, write positions: nothing here may be evicted.
maxmemory-policy noeviction
appendonly yes
appendfsync everysec
replica-announce-ip $REDIS_ANNOUNCE_HOSTNAME
CONF
            if [ -n "${REDIS_REPLICA_OF:-}" ]; then echo "replicaof $REDIS_REPLICA_OF 6379" >>"$CONF"; fi
        fi
        exec docker-entrypoint.sh redis-server "$CONF"
        ;;
    sentinel)
        CONF=/data/sentinel.conf
        : "${SENTINEL_MASTER:?}" "${SENTINEL_MASTER_HOST:?}" "${SENTINEL_QUORUM:?}"
        : "${SENTINEL_DOWN_AFTER_MS:?}" "${SENTINEL_FAILOVER_TIMEOUT_MS:?}"
        if [ ! -f "$CONF" ]; then
            cat >"$CONF" <<CONF
port 26379
dir /data
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $REDIS_ANNOUNCE_HOSTNAME
sentinel monitor $SENTINEL_MASTER $SENTINEL_MASTER_HOST 6379 $SENTINEL_QUORUM
sentinel down-after-milliseconds $SENTINEL_MASTER $SENTINEL_DOWN_AFTER_MS
sentinel failover-timeout $SENTINEL_MASTER $SENTINEL_FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $SENTINEL_MASTER 1
CONF
        fi
        exec docker-entrypoint.sh redis-server "$CONF" --sentinel
        ;;
    *)
        echo "usage: redis-ha-entrypoint.sh data|sentinel" >&2
        exit 2
        ;;
esac
