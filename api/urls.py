"""Every route under ``/api/v1/``, grouped by resource; each resource's views live in one
module of ``api.endpoints``.

Django tries patterns in order: the feed (the hottest read) first, so it resolves in a few
comparisons. No two patterns overlap (``<str:...>`` stops at ``/``), so the order decides
nothing else.
"""

from django.urls import path

from api.endpoints import auth, comments, feed, for_you, hashtags, me, notifications, search, users, videos

urlpatterns = [
    # /feed
    path("feed", feed.FeedApi.as_view(), name="feed"),
    path("feed/trending", feed.TrendingFeedApi.as_view(), name="feed-trending"),
    path("feed/for-you", for_you.ForYouFeedApi.as_view(), name="feed-for-you"),
    # /auth
    path("auth/register", auth.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/logout-all", auth.LogoutAllApi.as_view(), name="auth-logout-all"),
    # /me
    path("me", me.MeApi.as_view(), name="me"),
    path("me/password", me.PasswordChangeApi.as_view(), name="me-password"),
    path("me/avatar", me.AvatarUploadApi.as_view(), name="me-avatar"),
    path("me/avatar/complete", me.AvatarCompleteApi.as_view(), name="me-avatar-complete"),
    path("me/videos", me.MyVideoListApi.as_view(), name="my-videos"),
    path("me/likes", me.MyLikesApi.as_view(), name="me-likes"),
    path("me/favorites", me.MyFavoritesApi.as_view(), name="me-favorites"),
    path("me/blocks", me.MyBlocksApi.as_view(), name="me-blocks"),
    path("me/mutes", me.MyMutesApi.as_view(), name="me-mutes"),
    # /videos
    path("videos", videos.VideoCreateApi.as_view(), name="video-create"),
    path("videos/<str:video_id>", videos.VideoDetailApi.as_view(), name="video-detail"),
    path("videos/<str:video_id>/complete", videos.VideoCompleteApi.as_view(), name="video-complete"),
    path("videos/<str:video_id>/view", videos.ViewRecordApi.as_view(), name="video-view"),
    path("videos/<str:video_id>/like", videos.LikeApi.as_view(), name="video-like"),
    path("videos/<str:video_id>/favorite", videos.FavoriteApi.as_view(), name="video-favorite"),
    path("videos/<str:video_id>/comments", videos.VideoCommentsApi.as_view(), name="video-comments"),
    path("videos/<str:video_id>/report", videos.VideoReportApi.as_view(), name="video-report"),
    path("videos/<str:video_id>/playback/master.m3u8", videos.PlaybackMasterApi.as_view(), name="video-playback"),
    path(
        "videos/<str:video_id>/playback/<str:rendition>/index.m3u8",
        videos.PlaybackVariantApi.as_view(),
        name="video-playback-variant",
    ),
    # /comments
    path("comments/<int:comment_id>", comments.CommentDeleteApi.as_view(), name="comment-detail"),
    path("comments/<int:comment_id>/report", comments.CommentReportApi.as_view(), name="comment-report"),
    # /users
    path("users/<str:username>", users.UserDetailApi.as_view(), name="user-detail"),
    path("users/<str:username>/videos", users.UserVideoListApi.as_view(), name="user-videos"),
    path("users/<str:username>/follow", users.FollowApi.as_view(), name="user-follow"),
    path("users/<str:username>/followers", users.FollowersApi.as_view(), name="user-followers"),
    path("users/<str:username>/following", users.FollowingApi.as_view(), name="user-following"),
    path("users/<str:username>/block", users.BlockApi.as_view(), name="user-block"),
    path("users/<str:username>/mute", users.MuteApi.as_view(), name="user-mute"),
    # /notifications
    path("notifications", notifications.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/unread-count",
        notifications.NotificationUnreadCountApi.as_view(),
        name="notifications-unread",
    ),
    path("notifications/read", notifications.NotificationReadApi.as_view(), name="notifications-read"),
    # /search and /hashtags
    path("search", search.SearchApi.as_view(), name="search"),
    path("hashtags/<str:tag>", hashtags.HashtagDetailApi.as_view(), name="hashtag-detail"),
    path("hashtags/<str:tag>/videos", hashtags.HashtagVideosApi.as_view(), name="hashtag-videos"),
]
