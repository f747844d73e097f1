"""Rebuild precomputed feeds from the database: one user's, or everyone's."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from feed import services


class Command(BaseCommand):
    help = "Rebuild feeds in Redis from the database (--user NAME or --all)."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", help="username whose feed to rebuild")
        target.add_argument("--all", action="store_true", help="every active, unsuspended user")

    def handle(self, *args, user=None, all=False, **options):  # noqa: A002 - the option's name
        if user:
            found = User.objects.filter(username__iexact=user).values_list("id", flat=True).first()
            if found is None:
                raise CommandError(f"No user {user!r}.")
            entries = services.feed_rebuild(user_id=found)
            self.stdout.write(f"rebuilt the feed of {user}: {entries} entries")
            return
        ids = list(
            User.objects.filter(is_active=True, suspended_at__isnull=True).order_by("id").values_list("id", flat=True)
        )
        started = time.monotonic()
        for done, user_id in enumerate(ids, start=1):
            services.feed_rebuild(user_id=user_id)
            if done % 100 == 0 or done == len(ids):
                self._progress(done, len(ids), started)
        self.stdout.write(f"\nrebuilt {len(ids)} feeds in {time.monotonic() - started:.1f}s")

    def _progress(self, done: int, total: int, started: float) -> None:
        width = 30
        filled = width * done // max(total, 1)
        rate = done / max(time.monotonic() - started, 1e-6)
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total} ({rate:.0f}/s)", ending="")
        sys.stdout.flush()
