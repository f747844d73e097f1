from django.urls import path

from videos import apis, playback

# Reading, editing and listing videos answer with cards that carry the viewer's flags:
# those routes are in ``activity.urls``.
urlpatterns = [
    path("videos", apis.VideoCreateApi.as_view(), name="video-create"),
    path("videos/<str:video_id>/playback/master.m3u8", playback.PlaybackMasterApi.as_view(), name="video-playback"),
    path(
        "videos/<str:video_id>/playback/<str:rendition>/index.m3u8",
        playback.PlaybackVariantApi.as_view(),
        name="video-playback-variant",
    ),
]
