"""Users. Usernames are unique whatever their case."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    display_name = models.CharField(max_length=64, blank=True)
    bio = models.CharField(max_length=300, blank=True)
    # Denormalised counters, flushed from Redis deltas and repaired by recounts.
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    # When the user last read their feed: feeds of long-inactive users are not kept.
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Moderation: a suspended user cannot log in or write; their videos leave feeds.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=300, blank=True)

    objects = CaseInsensitiveUserManager()

    class Meta:
        permissions = [("suspend_user", "Can suspend and reinstate users")]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    def __str__(self) -> str:
        return self.username
