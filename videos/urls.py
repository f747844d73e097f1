from django.urls import path

from videos import apis

urlpatterns = [
    path("videos", apis.VideoCreateApi.as_view(), name="video-create"),
    path("videos/<str:video_id>", apis.VideoDetailApi.as_view(), name="video-detail"),
    path("videos/<str:video_id>/complete", apis.VideoCompleteApi.as_view(), name="video-complete"),
    path("users/<str:username>/videos", apis.UserVideoListApi.as_view(), name="user-videos"),
    path("me/videos", apis.MyVideoListApi.as_view(), name="my-videos"),
]
