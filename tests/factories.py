"""Test data factories, in one place."""

import uuid

import factory
from django.utils import timezone

from accounts.models import User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class VideoFactory(factory.django.DjangoModelFactory):
    """A published video row (metadata only; media tests upload real files)."""

    class Meta:
        model = "videos.Video"

    id = factory.LazyFunction(uuid.uuid4)
    owner = factory.SubFactory(UserFactory)
    caption = factory.Sequence(lambda n: f"clip {n}")
    status = "ready"
    moderation = "visible"
    content_type = "video/mp4"
    size_bytes = 1000
    upload_expires_at = factory.LazyFunction(timezone.now)
    original_key = factory.LazyAttribute(lambda video: f"originals/{video.owner.pk}/{video.id}")
    hls_master_key = factory.LazyAttribute(lambda video: f"processed/{video.id}/master.m3u8")
    poster = factory.LazyAttribute(lambda video: f"processed/{video.id}/poster.jpg")
    duration = 10.0
    width = 640
    height = 360
    published_at = factory.LazyFunction(timezone.now)


class FollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "activity.Follow"

    follower = factory.SubFactory(UserFactory)
    followee = factory.SubFactory(UserFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "activity.Comment"

    video = factory.SubFactory(VideoFactory)
    author = factory.SubFactory(UserFactory)
    text = factory.Sequence(lambda n: f"comment {n}")
