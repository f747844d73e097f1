"""The moderation audit log: one entry per decision, written by the service that makes it.

``audit_record`` is called inside the service's transaction, so an entry exists exactly
when the change it describes was committed. Entries are read-only in the admin.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from tiktok.models import AuditAction, AuditEntry

REASON_MAX_LENGTH = 2000


def audit_record(
    *, actor, action: AuditAction | str, target: models.Model, reason: str, changes: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that ``actor`` (None: the system) did ``action`` to ``target`` because of ``reason``."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    actor = actor if getattr(actor, "pk", None) is not None else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        reason=(reason or "").strip()[:REASON_MAX_LENGTH],
        changes=changes or {},
    )
