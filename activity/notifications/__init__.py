"""Notifications: the inbox, written by Celery after a like, follow, comment or mention
commits, and its reads. Below the writers that start its tasks, above visibility."""
