from django.urls import path

from feed import apis

urlpatterns = [
    path("feed", apis.FeedApi.as_view(), name="feed"),
    path("feed/trending", apis.TrendingFeedApi.as_view(), name="feed-trending"),
    path("bench/feed-sql", apis.BenchSqlFeedApi.as_view(), name="bench-feed-sql"),
    path("bench/floor", apis.BenchFloorApi.as_view(), name="bench-floor"),
]
