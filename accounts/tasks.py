"""Celery tasks of the accounts app: each takes ids and calls the service it is named after."""

from celery import shared_task

from accounts import avatars, tokens


# Routed to the ``media`` queue (``AccountsConfig.celery_task_routes``): image work beside the transcodes.
@shared_task(
    name="accounts.tasks.avatar_process",
    autoretry_for=(avatars.AvatarStoreError,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def avatar_process(user_id: int, upload_key: str) -> str:
    return avatars.avatar_process(user_id=user_id, upload_key=upload_key)


@shared_task(name="accounts.tasks.tokens_delete_expired")
def tokens_delete_expired() -> int:
    return tokens.tokens_delete_expired()
