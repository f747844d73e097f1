"""Thundering herd on a hot video: 1,000 concurrent requests for one new segment through
the CDN stand-in make one origin fetch (``proxy_cache_lock``). The figure is in
BENCHMARKS.md ("CDN: a thousand players, one origin fetch")."""

from __future__ import annotations

import os
import selectors
import socket
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.helpers.stack import REPO
from tiktok import media_urls
from tiktok.storage import s3_client

CLIENTS = 1000
SEGMENT_BYTES = 2 * 1024 * 1024
ACCESS_LOG = REPO / ".stack" / "cdn" / "access.log"


@pytest.mark.slow
def test_a_thousand_concurrent_requests_for_a_new_segment_make_one_origin_fetch():
    if not settings.CDN_BASE_URL or not ACCESS_LOG.exists():
        pytest.skip("the CDN stand-in is not running (run through `make test`)")
    key = f"processed/{uuid.uuid4()}/360p/seg_000.ts"
    s3_client().put_object(
        Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=os.urandom(SEGMENT_BYTES), ContentType="video/mp2t"
    )
    url = urlsplit(media_urls.cdn_url(key))
    request = f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode()
    # Every client connects first, then all requests go out in one burst (a few ms), so
    # they all arrive while the first origin fetch is still under way.
    sockets = [socket.create_connection((url.hostname, url.port), timeout=60) for _ in range(CLIENTS)]
    started = time.monotonic()
    for sock in sockets:
        sock.sendall(request)
    received = {sock: bytearray() for sock in sockets}
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        open_count = len(sockets)
        while open_count:
            for selected, _ in selector.select(timeout=60):
                chunk = selected.fileobj.recv(1 << 16)
                if chunk:
                    received[selected.fileobj] += chunk
                else:
                    selector.unregister(selected.fileobj)
                    selected.fileobj.close()
                    open_count -= 1
    elapsed = time.monotonic() - started
    results = []
    for data in received.values():
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        results.append((int(head.split(b" ", 2)[1]), len(body)))

    assert Counter(results) == {(200, SEGMENT_BYTES): CLIENTS}
    lines = [line for line in ACCESS_LOG.read_text().splitlines() if key in line]
    assert len(lines) == CLIENTS
    origin_fetches = [line for line in lines if "origin=127.0.0.1" in line]
    statuses = Counter(line.split("cache=")[1].split()[0] for line in lines)
    print(f"\n{CLIENTS} concurrent GETs in {elapsed:.2f} s; origin fetches: {len(origin_fetches)}; {dict(statuses)}")
    assert len(origin_fetches) == 1
