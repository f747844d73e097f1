"""Demo data for `make run`: users who follow each other, real short clips, a moderator.

Idempotent: running it again adds nothing that is already there.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from activity.engagement.counters import counter_add
from activity.graph.services import follow_create
from activity.models import Comment, Like
from activity.notifications import services as notifications
from demo import clips
from moderation.models import Report, ReportStatus
from moderation.roles import moderator_ensure
from videos.models import Video

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - local demo data only
DEMO_USERS = [
    ("alice", "Alice Andersen", "Skateboards and sunsets."),
    ("bob", "Bob Brown", "I cook things quickly."),
    ("carol", "Carol Chen", "Dance covers."),
    ("dave", "Dave Diaz", "Mostly cats."),
]
DEMO_FOLLOWS = [
    ("alice", "bob"),
    ("alice", "carol"),
    ("bob", "alice"),
    ("carol", "alice"),
    ("dave", "alice"),
    ("dave", "bob"),
    ("dave", "carol"),
    ("bob", "carol"),
]
# A reported video for the moderation demo: (owner, caption) reported by these users.
DEMO_REPORTED = ("bob", "60-second omelette")
DEMO_REPORTS = [("alice", "spam", "Links to a shady shop."), ("carol", "spam", ""), ("dave", "misinformation", "")]
# Captions carry hashtags so search and hashtag pages have something to find at once
# (``#skate`` on two creators; counts appear after the first hashtag recount, within a minute).
DEMO_CLIPS = {
    "alice": [("Kickflip practice #skate", "testsrc2"), ("Golden hour #sunset #skate", "smptebars")],
    "bob": [("60-second omelette", "testsrc"), ("Pasta in five minutes #cooking #quick", "testsrc2")],
    "carol": [("New routine #dance #kpop", "mandelbrot"), ("Skate park warm-up #skate #dance", "testsrc")],
    "dave": [("Cat versus cardboard box #cats", "smptebars")],
}


class Command(BaseCommand):
    help = "Create demo users, follows and videos (idempotent)."

    def handle(self, *args, **options):
        User = get_user_model()
        users = {}
        with transaction.atomic():
            for username, display_name, bio in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"display_name": display_name, "bio": bio}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                users[username] = user
            admin, created = User.objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True, "display_name": "Admin"}
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save()
        self._follows(users)
        self._moderator()
        self._videos(users)
        self._reports(users)
        self._notifications(users)
        self.stdout.write(self.style.SUCCESS("demo data ready"))

    def _follows(self, users):
        for follower, followee in DEMO_FOLLOWS:
            follow_create(follower=users[follower], followee=users[followee])

    def _moderator(self):
        moderator_ensure(username="moderator", password=DEMO_PASSWORD)

    def _videos(self, users):
        for username, user_clips in DEMO_CLIPS.items():
            owner = users[username]
            existing = set(Video.objects.filter(owner=owner).values_list("caption", flat=True))
            for caption, pattern in user_clips:
                if caption not in existing:
                    clips.create_demo_video(owner=owner, caption=caption, pattern=pattern)
                    self.stdout.write(f"uploaded demo clip {caption!r} for {username}")

    def _reports(self, users):
        """Open reports on one demo video, so the report queue has something to show.

        Written directly (not through ``video_report_create``): the clip may still be
        processing in the worker, and the demo wants the queue filled either way.
        """
        owner, caption = DEMO_REPORTED
        video = Video.objects.filter(owner=users[owner], caption=caption).first()
        if video is None:
            return
        for reporter, reason, details in DEMO_REPORTS:
            Report.objects.get_or_create(
                reporter=users[reporter],
                video=video,
                status=ReportStatus.OPEN,
                defaults={"reason": reason, "details": details},
            )

    def _notifications(self, users):
        """A few notifications for alice: follows, likes of her clip, a comment, a mention.

        Rows are written directly (the clips may still be processing, and the API only
        takes likes of ready videos) and the inbox is synced here, as the worker would;
        each new row adds its counter delta as the API's write would, so the counts are
        right after the next flush.
        """
        for follower, followee in DEMO_FOLLOWS:
            if followee == "alice":
                notifications.notification_sync_follow(follower_id=users[follower].pk, followee_id=users["alice"].pk)
        clip = Video.objects.filter(owner=users["alice"], caption=DEMO_CLIPS["alice"][0][0]).first()
        if clip is not None:
            for fan in ("bob", "carol", "dave"):
                _, created = Like.objects.get_or_create(user=users[fan], video=clip)
                if created:
                    counter_add(entity="video", object_id=clip.pk, counter="likes", delta=1)
                notifications.notification_sync_like(user_id=users[fan].pk, video_id=str(clip.pk))
            self._comment(users["bob"], clip, "Clean landing!")
        bobs = Video.objects.filter(owner=users["bob"], caption=DEMO_CLIPS["bob"][1][0]).first()
        if bobs is not None:
            self._comment(users["carol"], bobs, "@alice you have to try this one")

    def _comment(self, author, video, text):
        comment, created = Comment.objects.get_or_create(author=author, video=video, text=text)
        if created:
            counter_add(entity="video", object_id=video.pk, counter="comments", delta=1)
        notifications.notification_sync_comment(comment_id=comment.pk)
