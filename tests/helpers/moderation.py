"""The admin as a moderator uses it: logged-in clients and actions run like a browser does."""

from __future__ import annotations

from django.test import Client


def admin_client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_action(client: Client, changelist: str, action: str, ids: list, reason: str | None):
    """Run an admin action the way a browser does: choose it, then confirm with a reason."""
    first = client.post(changelist, {"action": action, "_selected_action": [str(pk) for pk in ids], "index": 0})
    if reason is None:
        return first
    assert first.status_code == 200, first.content[:500]
    assert b'name="reason"' in first.content
    return client.post(
        changelist,
        {"action": action, "_selected_action": [str(pk) for pk in ids], "confirm_reason": "yes", "reason": reason},
    )
