"""The client's address: the one answer every throttle, lockout and login guard uses.

``X-Forwarded-For`` is whatever the client sent plus what each proxy appended (or, with
the compose nginx, only what nginx wrote). Only the entries added by proxies that are
ours can be believed, so with ``TRUSTED_PROXY_COUNT`` = N the client is the N-th entry
from the right; with 0 (``make run``, no proxy) the header is ignored and the TCP peer
(``REMOTE_ADDR``) is the client. A header with fewer entries than trusted proxies did
not come through them all: the TCP peer is used then too.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

# An IPv6 client controls at least a /64 (one customer, one LAN): limits count the block.
IPV6_LIMIT_PREFIX = 64


def client_address(request) -> str:
    """The client's IP address (text) for ``request`` (a Django or DRF request)."""
    meta = request.META
    peer = meta.get("REMOTE_ADDR", "") or ""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= trusted:
            candidate = forwarded[-trusted]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass  # a proxy of ours wrote garbage: fall back to the peer
    return peer


def client_limit_key(request) -> str:
    """The address as rate limits and lockouts count it: IPv4 as is, IPv6 by /64."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_LIMIT_PREFIX}", strict=False))
    return str(ip)
