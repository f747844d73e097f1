"""The cache Redis as a Redis Cluster (``REDIS_CACHE_CLUSTER=1``).

django-redis has no cluster client; its connection factory is the one hook it offers,
so this factory hands out a ``redis.cluster.RedisCluster`` (one per URL and process,
discovering every node from the one in ``REDIS_URL``). A cluster has one database: the
URL's ``/<db>`` is ignored. ``feed/store.py`` notices the cluster and keeps every script
and transaction inside one hash slot.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django_redis.pool import ConnectionFactory
from redis.cluster import RedisCluster


class CacheCluster(RedisCluster):
    """``MGET`` of independent cache entries (``cache.get_many``) is split by slot: the
    entries need no atomicity, and one slot per key is what spreads them over nodes."""

    def mget(self, keys, *args):
        return self.mget_nonatomic(keys, *args)


def _without_db(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))


class ClusterConnectionFactory(ConnectionFactory):
    _clusters: dict[str, CacheCluster] = {}

    def connect(self, url: str) -> CacheCluster:
        cluster = self._clusters.get(url)
        if cluster is None:
            timeouts = {
                name: self.options[option]
                for name, option in (
                    ("socket_timeout", "SOCKET_TIMEOUT"),
                    ("socket_connect_timeout", "SOCKET_CONNECT_TIMEOUT"),
                )
                if option in self.options
            }
            cluster = self._clusters[url] = CacheCluster.from_url(_without_db(url), **timeouts)
        return cluster

    def disconnect(self, connection: CacheCluster) -> None:
        connection.disconnect_connection_pools()
