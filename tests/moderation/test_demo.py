"""Demo data includes a reported video and a moderator login."""

from unittest import mock

import pytest
from django.core.management import call_command

from accounts.models import User
from moderation.models import Report, ReportStatus
from tests.factories import VideoFactory

pytestmark = pytest.mark.django_db


def fake_demo_video(*, owner, caption, pattern, **kwargs):
    return str(VideoFactory(owner=owner, caption=caption).id)


def test_seed_demo_creates_a_moderator_and_open_reports_and_is_idempotent():
    with mock.patch("demo.clips.create_demo_video", side_effect=fake_demo_video):
        call_command("seed_demo", stdout=mock.Mock())
        call_command("seed_demo", stdout=mock.Mock())
    moderator = User.objects.get(username="moderator")
    assert moderator.is_staff and not moderator.is_superuser
    assert moderator.check_password("demo-password-123")
    assert moderator.groups.filter(name="moderators").exists()
    reports = Report.objects.filter(status=ReportStatus.OPEN, video__caption="60-second omelette")
    assert reports.count() == 3
