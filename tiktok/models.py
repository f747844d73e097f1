"""Project-wide tables: the transactional outbox."""

from django.db import models


class OutboxMessage(models.Model):
    """A task to enqueue, written in the same transaction as the change that needs it.

    After the commit the outbox relay (a thread in every Celery worker, ``tiktok.outbox``)
    claims it, publishes it and marks it sent; the worker that runs the task to success
    deletes it. If the broker is down it stays unsent until a relay (or ``drain_outbox``)
    publishes it once the broker is back; if no worker finished it in time (a message the
    broker lost, a task that kept failing) it is sent again, a bounded number of times.
    So a committed write never loses the work it needs (fan-out, processing), and the
    request never fails for it.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # The request (or task) that recorded it: the relay publishes it with that id, so the
    # task's log lines carry the id of the request that started it.
    request_id = models.CharField(max_length=64, blank=True, db_default="")
    # When a relay last published it (None: not yet), and how many times it was published.
    sent_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        # The relay's claim (``tiktok.outbox``): rows never sent in id order, and sent rows
        # by when, each without reading the other kind.
        indexes = [
            models.Index(fields=["id"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent"),
            models.Index(fields=["sent_at"], condition=models.Q(sent_at__isnull=False), name="outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"


class IdempotencyRecord(models.Model):
    """The first answer to a creating ``POST`` sent with an ``Idempotency-Key`` header.

    ``tiktok.idempotency`` claims the key before the view runs (so a concurrent duplicate
    sees the claim), stores the answer when the view succeeds and replays it to a retry
    with the same key and body for ``IDEMPOTENCY_KEY_TTL_SECONDS``.
    """

    scope = models.CharField(max_length=80)  # "user:<id>", or "address:<ip>" before sign-up
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # HMAC-SHA256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)  # null while the first request runs
    body = models.JSONField(null=True)
    location = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
