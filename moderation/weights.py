"""How much one report counts toward hiding a video automatically (0 to 1).

Brigades register accounts minutes before they report; a report's weight comes from its
reporter's age, activity and record, fixed when the report is made (``Report.weight``),
so brand-new or idle accounts alone never hide anything, however many they are.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from activity.models import Comment, Follow, Like, View
from moderation.models import Report, ReportStatus
from videos.models import Video

NO_WEIGHT = Decimal("0.000")
FULL_WEIGHT = Decimal("1.000")


def _reporter_active(reporter: User) -> bool:
    """Whether the account did anything on the platform besides reporting."""
    return (
        Video.objects.filter(owner_id=reporter.pk).exists()
        or Comment.objects.filter(author_id=reporter.pk).exists()
        or Like.objects.filter(user_id=reporter.pk).exists()
        or Follow.objects.filter(follower_id=reporter.pk).exists()
        or View.objects.filter(viewer_id=reporter.pk).exists()
    )


def report_weight(*, reporter: User) -> Decimal:
    """How much a report by ``reporter`` counts toward hiding a video automatically, 0 to 1.

    0 for an account younger than ``REPORT_MIN_ACCOUNT_AGE_HOURS`` or one that never did
    anything but report (the accounts a brigade registers); then growing with age up to 1
    at ``REPORT_FULL_WEIGHT_ACCOUNT_AGE_DAYS``, times the reporter's standing: (resolved
    + 1) / (resolved + dismissed + 1) over their closed reports, so a reporter whose
    reports moderators dismissed counts less and an accurate one keeps full weight.
    """
    age = timezone.now() - reporter.date_joined
    if age < timedelta(hours=settings.REPORT_MIN_ACCOUNT_AGE_HOURS) or not _reporter_active(reporter):
        return NO_WEIGHT
    maturity = min(1.0, age / timedelta(days=settings.REPORT_FULL_WEIGHT_ACCOUNT_AGE_DAYS))
    closed = Report.objects.filter(reporter_id=reporter.pk).aggregate(
        resolved=Count("id", filter=Q(status=ReportStatus.RESOLVED)),
        dismissed=Count("id", filter=Q(status=ReportStatus.DISMISSED)),
    )
    standing = (closed["resolved"] + 1) / (closed["resolved"] + closed["dismissed"] + 1)
    return min(FULL_WEIGHT, Decimal(maturity * standing).quantize(Decimal("0.001"), rounding=ROUND_DOWN))


def target_over_hourly_cap(target: dict) -> bool:
    """Whether the target already got ``REPORT_TARGET_COUNTED_PER_HOUR`` reports this hour."""
    since = timezone.now() - timedelta(hours=1)
    recent = Report.objects.filter(created_at__gte=since, **target).count()
    return recent >= settings.REPORT_TARGET_COUNTED_PER_HOUR
