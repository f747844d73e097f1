"""What waits in the broker's default queue (outbox relay tests)."""

from __future__ import annotations

import base64
import json

import redis
from django.conf import settings


def queued_messages() -> list[tuple[str, list]]:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    messages = [json.loads(raw) for raw in broker.lrange("default", 0, -1)]
    return sorted(
        (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[0]) for message in messages
    )
