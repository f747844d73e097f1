from django.urls import path

from feed import apis, for_you_apis

urlpatterns = [
    path("feed", apis.FeedApi.as_view(), name="feed"),
    path("videos/<str:video_id>/view", apis.ViewRecordApi.as_view(), name="video-view"),
    path("feed/trending", apis.TrendingFeedApi.as_view(), name="feed-trending"),
    path("feed/for-you", for_you_apis.ForYouFeedApi.as_view(), name="feed-for-you"),
]
